"""A unit as data (stream ``unit-<id>``): its establishment, the armed forces' own contingent, and its members'
postings: assigned, struck off (deserted, discharged), reinstated (returned).

The unit's stream version orders everything that changes its composition, so two assignments decided on the
same figures cannot both be stored: the second is decided again on the new figures. Changes are recorded in
business-date order (a backdated assignment would change figures already judged). The rule of thirds is judged
on the unit an assignment decision leaves, as of its date, each member counting for the coalition their
movement belonged to that day.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ddr_integration.domain.events import (
    ArmedForcesContingentRecorded,
    MemberAssigned,
    MemberReinstated,
    MemberStruckOff,
    UnitEstablished,
)
from ddr_integration.domain.thirds import (
    ARMED_FORCES,
    Composition,
    check_assignment,
    validate_tolerance,
    with_members,
)
from ddr_integration.domain.timing import Clock
from ddr_runtime.kernel import Aggregate, AlreadyDone, LimitReached, RuleViolated

UnitEvent = (
    UnitEstablished | ArmedForcesContingentRecorded | MemberAssigned | MemberStruckOff | MemberReinstated
)


def unit_stream(unit_id: str) -> str:
    return f"unit-{unit_id}"


@dataclass(frozen=True)
class Contingent:
    effective_on: date
    strength: int
    command_posts: int


@dataclass
class Posting:
    person_id: str
    movement: str
    command_post: bool
    start_on: date
    end_on: date | None = None

    def holds_on(self, on: date) -> bool:
        return self.start_on <= on and (self.end_on is None or self.end_on > on)


@dataclass(frozen=True)
class Recruit:
    """A member about to be assigned: their movement, whether they take a command post, and the business
    time of their assignment (never before their training ended)."""

    person_id: str
    movement: str
    command_post: bool
    at: datetime


class Unit(Aggregate[UnitEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.unit_id = ""
        self.establishment = 0
        self.thirds_applies = True
        self.tolerance = 0.0
        self.established_at: datetime | None = None
        self.contingents: list[Contingent] = []
        self.postings: list[Posting] = []
        self.last_change_on: date | None = None

    def establish(self, event: UnitEstablished, at: datetime) -> None:
        if self.version:
            raise AlreadyDone("unit_exists", f"unit {event.unit_id} already exists")
        if event.establishment < 1:
            raise RuleViolated("establishment", "a unit's establishment is at least 1")
        validate_tolerance(event.tolerance)
        self.record(event, at=at, subject=event.unit_id)

    def record_contingent(self, strength: int, command_posts: int, on: date | None, clock: Clock) -> None:
        if strength < 0 or command_posts < 0 or command_posts > strength:
            raise RuleViolated(
                "contingent", "strength and command posts are counts, with no more posts than members"
            )
        at = clock.moment(on, after=self.established_at, after_what="the unit's establishment")
        event = ArmedForcesContingentRecorded(self.unit_id, strength, command_posts, at.date())
        self.record(event, at=at, subject=self.unit_id)

    # -- composition --------------------------------------------------------------------------------------

    def composition(self, on: date, party_of: Mapping[str, str]) -> Composition:
        """The unit on ``on``: the contingent in force that day and the members posted that day, each counted
        for the coalition their movement belonged to that day (a movement in none counts as itself)."""
        strength: Counter[str] = Counter()
        posts: Counter[str] = Counter()
        in_force = [c for c in self.contingents if c.effective_on <= on]
        if in_force:
            contingent = max(reversed(in_force), key=lambda c: c.effective_on)  # the last recorded
            strength[ARMED_FORCES] = contingent.strength
            posts[ARMED_FORCES] = contingent.command_posts
        for posting in self.postings:
            if posting.holds_on(on):
                party = party_of.get(posting.movement, posting.movement)
                strength[party] += 1
                posts[party] += posting.command_post
        return Composition(self.unit_id, on, dict(strength), dict(posts))

    def posting_of(self, person_id: str) -> Posting | None:
        return next((p for p in reversed(self.postings) if p.person_id == person_id), None)

    # -- members ------------------------------------------------------------------------------------------

    def assign(
        self,
        recruits: Sequence[Recruit],
        on: date,
        party_of: Mapping[str, str],
        coalitions: Sequence[str],
    ) -> Composition:
        """Assign members from ``on`` in one decision, judged on the unit it leaves; the composition after."""
        if self.last_change_on is not None and on < self.last_change_on:
            raise RuleViolated(
                "backdated_assignment",
                "assignments are recorded in date order: the unit changed on a later date",
                figures={"last_change_on": self.last_change_on.isoformat(), "on": on.isoformat()},
            )
        before = self.composition(on, party_of)
        added = [(party_of.get(r.movement, r.movement), r.command_post) for r in recruits]
        if before.total_strength + len(recruits) > self.establishment:
            raise LimitReached(
                "unit_full",
                f"{self.unit_id} would exceed its establishment of {self.establishment}",
                figures={
                    "establishment": self.establishment,
                    "strength": before.total_strength,
                    "assigned": len(recruits),
                },
            )
        after = (
            check_assignment(before, added, coalitions, self.tolerance)
            if self.thirds_applies
            else with_members(before, added)
        )
        for recruit, (party, command_post) in zip(recruits, added, strict=True):
            event = MemberAssigned(self.unit_id, recruit.person_id, recruit.movement, party, command_post, on)
            self.record(event, at=recruit.at, subject=recruit.person_id)
        return after

    def strike_off(self, person_id: str, status: str, at: datetime) -> None:
        self.record(MemberStruckOff(self.unit_id, person_id, status, at.date()), at=at, subject=person_id)

    def reinstate(self, person_id: str, at: datetime) -> None:
        posting = self.posting_of(person_id)
        command_post = posting.command_post if posting is not None else False
        event = MemberReinstated(self.unit_id, person_id, command_post, at.date())
        self.record(event, at=at, subject=person_id)

    # -- state --------------------------------------------------------------------------------------------

    def apply(self, event: UnitEvent) -> None:
        if isinstance(event, UnitEstablished):
            self.unit_id, self.establishment = event.unit_id, event.establishment
            self.thirds_applies, self.tolerance = event.thirds_applies, event.tolerance
            self.established_at = self.at
            return
        if isinstance(event, ArmedForcesContingentRecorded):
            self.contingents.append(Contingent(event.effective_on, event.strength, event.command_posts))
        elif isinstance(event, MemberAssigned):
            self.postings.append(
                Posting(event.person_id, event.movement, event.command_post, event.effective_on)
            )
        elif isinstance(event, MemberStruckOff):
            posting = self.posting_of(event.person_id)
            if posting is not None and posting.end_on is None:
                posting.end_on = event.effective_on
        else:
            previous = self.posting_of(event.person_id)
            movement = previous.movement if previous is not None else ""
            self.postings.append(Posting(event.person_id, movement, event.command_post, event.effective_on))
        self.last_change_on = max(self.last_change_on or event.effective_on, event.effective_on)
