"""Sample contract events for the runtime's own tests, in a registry of their own (never the platform's)."""

from __future__ import annotations

from typing import Annotated

from ddr_contracts.events import PERSONAL, DomainEvent, EventRegistry

SAMPLES = EventRegistry()


class SamplePersonListed(DomainEvent):
    name = "ddr.sample.PersonListed"
    version = 1

    person_id: str
    movement: str
    full_name: Annotated[str | None, PERSONAL]
    birth_year: Annotated[int | None, PERSONAL]
    padding: str = ""


class SampleNoteAdded(DomainEvent):
    name = "ddr.sample.NoteAdded"
    version = 1

    person_id: str
    sequence: int
    note: str = ""


SAMPLES.register(SamplePersonListed)
SAMPLES.register(SampleNoteAdded)
