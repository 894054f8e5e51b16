"""A person's state, folded from their facts in causal order (never in arrival order).

The same set of facts always gives the same state and the same stage history, whatever order the events
arrived in across topics: :func:`fold` places them in causal order first (:mod:`ddr_pathway.domain.order`),
and each takes effect from the time it holds from (never before its causes).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from ddr_pathway.domain.facts import Fact
from ddr_pathway.domain.order import Placed, causal_order

ATTRIBUTES = ("movement", "category", "sex", "region", "birth_year")
_REGISTRATION_KINDS = frozenset({"pre_registered", "correction"})
MILESTONES = ("pre_registered", "registered", "screened")


@dataclass
class PersonState:
    """Where one person stands after a run of facts."""

    attributes: dict[str, str | int] = field(default_factory=dict)
    fallback_attributes: dict[str, str | int] = field(default_factory=dict)
    reached: dict[str, datetime] = field(default_factory=dict)  # milestone -> first business time
    track: str | None = None  # the latest screening outcome's track
    screened_at: datetime | None = None
    integration: str | None = None
    reinsertion: str | None = None
    track_started: dict[str, datetime] = field(default_factory=dict)
    latest_track: str | None = None  # integration or reinsertion, whichever moved last
    child_identified_at: datetime | None = None
    child_deadline: datetime | None = None
    child_handed_over_at: datetime | None = None
    disarmed_at: datetime | None = None
    held: bool = False
    cvr_projects: set[str] = field(default_factory=set)
    merged_into: str | None = None
    steps: int = 0  # facts applied that say where the person stands (not bare steps of another kind)

    def attribute(self, name: str) -> str | int | None:
        return self.attributes.get(name, self.fallback_attributes.get(name))

    def level(self) -> int:
        """How far down the funnel: 0 nothing, 1 pre-registered, 2 registered, 3 screened."""
        for depth, milestone in zip((3, 2, 1), reversed(MILESTONES), strict=True):
            if milestone in self.reached:
                return depth
        return 0

    def stage(self) -> str:
        if self.merged_into is not None:
            return "merged"
        if self.track == "child_protection" or self.child_identified_at is not None:
            return (
                "child_protection:handed_over" if self.child_handed_over_at else "child_protection:separated"
            )
        if self.latest_track == "integration" and self.integration:
            return f"integration:{self.integration}"
        if self.latest_track == "reinsertion" and self.reinsertion:
            return f"reinsertion:{self.reinsertion}"
        if self.track is not None:
            if self.track in ("integration", "reinsertion"):
                return f"screened:{self.track}"
            return self.track
        for milestone in reversed(MILESTONES):
            if milestone in self.reached:
                return milestone
        return "unknown"

    def apply(self, placed: Placed) -> None:
        fact, at = placed.fact, placed.holds_from
        kind = fact.kind
        self.steps += kind != "other"
        if kind in _REGISTRATION_KINDS or kind in ("screening", "reinsertion"):
            target = self.attributes if kind in _REGISTRATION_KINDS else self.fallback_attributes
            for name in ATTRIBUTES:
                value = getattr(fact, name)
                if value is not None:
                    target[name] = value
        if kind == "pre_registered":
            self.reached.setdefault("pre_registered", at)
        elif kind == "registered":
            self.reached.setdefault("registered", at)
        elif kind == "screening":
            self.reached.setdefault("screened", at)
            self.track = fact.value
            self.screened_at = at
        elif kind == "integration":
            self.integration = fact.value
            self.latest_track = "integration"
            self.track_started.setdefault("integration", at)
        elif kind == "reinsertion":
            self.reinsertion = fact.value
            self.latest_track = "reinsertion"
            self.track_started.setdefault("reinsertion", at)
        elif kind == "child":
            self.child_identified_at = self.child_identified_at or at
        elif kind == "child_handover":
            self.child_handed_over_at = at
        elif kind == "disarmed":
            self.disarmed_at = self.disarmed_at or at
        elif kind == "hold":
            self.held = True
        elif kind == "release":
            self.held = False
        elif kind == "cvr_participant" and fact.value:
            self.cvr_projects.add(fact.value)
        elif kind == "cvr_participant_left" and fact.value:
            self.cvr_projects.discard(fact.value)
        elif kind == "merge" and fact.value and fact.value != fact.person_id:
            self.merged_into = fact.value


def fold(facts: Iterable[Fact], *, before: datetime | None = None) -> PersonState:
    """The state after ``facts`` in causal order; with ``before``, only the facts that hold before it."""
    state = PersonState()
    for placed in causal_order(facts):
        if before is None or placed.holds_from < before:
            state.apply(placed)
    return state
