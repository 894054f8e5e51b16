"""Contract events of the pathway service (topic ``ddr.pathway.events``): what pathway itself decides, e.g.
signed audit checkpoints and the record of who read whose path. Defined here by the pathway service."""

from __future__ import annotations

from typing import Literal

from ddr_contracts.events import DomainEvent, event

ReadOutcome = Literal["granted", "refused", "not_found"]
PathView = Literal["full", "stage_only", "none"]


@event
class PathRead(DomainEvent):
    """Someone asked for a person's path: who (the envelope's actor and ``viewer``), whom, when (the
    envelope's times), and what they were shown. Refused reads are recorded too. Stream:
    ``path-reads:<person_id>``, so a person's readers can be listed in order; subject ``pathway:path-reads``."""

    name = "ddr.pathway.PathRead"
    version = 1

    person_id: str
    viewer: str
    viewer_roles: tuple[str, ...]
    viewer_movement: str | None = None
    outcome: ReadOutcome
    view: PathView
    reason_code: str
    read_model_generation: int | None = None
