"""Movements' coalitions over time (stream ``coalitions``), as registration recorded them: the party a
movement's members count for in the rule of thirds on a given day. Membership is time-bound: it holds from
``since`` until the day the movement leaves (that day excluded)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ddr_integration.domain.events import CoalitionJoinNoted, CoalitionLeaveNoted
from ddr_runtime.kernel import Aggregate

COALITIONS_STREAM = "coalitions"
CoalitionEvent = CoalitionJoinNoted | CoalitionLeaveNoted


@dataclass
class Membership:
    movement: str
    coalition: str
    since: date
    until: date | None = None

    def holds_on(self, on: date) -> bool:
        return self.since <= on and (self.until is None or self.until > on)


class CoalitionBook(Aggregate[CoalitionEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.memberships: list[Membership] = []

    def note_join(self, movement: str, coalition: str, since: date, at: datetime) -> None:
        self.record(CoalitionJoinNoted(movement, coalition, since), at=at, subject=movement)

    def note_leave(self, movement: str, coalition: str, until: date, at: datetime) -> None:
        self.record(CoalitionLeaveNoted(movement, coalition, until), at=at, subject=movement)

    def party_of(self, on: date) -> dict[str, str]:
        """Each movement's coalition on ``on`` (the latest membership begun, when several hold)."""
        held = sorted((m for m in self.memberships if m.holds_on(on)), key=lambda m: m.since)
        return {m.movement: m.coalition for m in held}

    def apply(self, event: CoalitionEvent) -> None:
        if isinstance(event, CoalitionJoinNoted):
            self.memberships.append(Membership(event.movement, event.coalition, event.since))
            return
        for membership in self.memberships:
            if (membership.movement, membership.coalition, membership.until) == (
                event.movement,
                event.coalition,
                None,
            ):
                membership.until = event.until
