"""Who exists in registration, as far as CVR needs to know: a person id, and where it was merged into.

CVR records what it learns from the registration topic as its own events (the consumer's policy), one stream
per person, so that linking an ex-combatant participant is decided on CVR's own history, and that history
shows what CVR knew when it linked. Nothing of the person is kept but the id.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from ddr_cvr.domain.events import (
    PersonChildNoted,
    PersonMergeNoted,
    PersonRegistrationNoted,
    RegisteredPersonEvent,
)
from ddr_cvr.domain.terms import ChildSource, RegistrationSource
from ddr_runtime.kernel import Aggregate, RuleViolated, UnknownRecord

MAX_MERGE_HOPS = 20
ADULT_AGE = 18


def possibly_a_child(birth_year: int | None, registered_on: date) -> bool:
    """Under 18 on the day registration listed them, a birth year alone counting as 31 December of that year
    (the benefit of the doubt of IDDRS 5.20: a possible minor is never taken for an adult)."""
    if birth_year is None:
        return False
    youngest = registered_on.year - birth_year - ((registered_on.month, registered_on.day) < (12, 31))
    return youngest < ADULT_AGE


def registered_person_stream(person_id: str) -> str:
    return f"cvr-registered-person-{person_id}"


class RegisteredPerson(Aggregate[RegisteredPersonEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.person_id = ""
        self.registered = False
        self.merged_into: str | None = None
        self.child = False

    def note_registration(self, person_id: str, source: RegistrationSource) -> None:
        """Registration announced the person; noted once, however often registration repeats it."""
        if not self.registered:
            self.record(PersonRegistrationNoted(registered_person_id=person_id, noted_from=source))

    def note_child(self, person_id: str, source: ChildSource) -> None:
        """The person is, or may be, a child: noted once; nothing makes them an adult again here."""
        if not self.child:
            self.record(PersonChildNoted(registered_person_id=person_id, noted_from=source))

    def note_merge(self, person_id: str, into_person_id: str) -> None:
        if self.merged_into != into_person_id:
            self.record(PersonMergeNoted(registered_person_id=person_id, into_person_id=into_person_id))

    def apply(self, event: RegisteredPersonEvent) -> None:
        self.person_id = event.registered_person_id
        match event:
            case PersonRegistrationNoted():
                self.registered = True
            case PersonChildNoted():
                self.child = True
            case PersonMergeNoted():
                self.merged_into = event.into_person_id


def missing_link(person_id: str, known: Mapping[str, RegisteredPerson]) -> str | None:
    """The first person on ``person_id``'s chain of merges that is not in ``known`` yet (load it), if any."""
    current = person_id
    for _ in range(MAX_MERGE_HOPS):
        person = known.get(current)
        if person is None:
            return current
        if person.merged_into is None:
            return None
        current = person.merged_into
    return None


def survivor(person_id: str, known: Mapping[str, RegisteredPerson], *, follow_merges: bool = True) -> str:
    """The registered person now standing for ``person_id``: itself, or the survivor of its merges.

    Refused with one answer, the same as for a person registration never announced, for a child (anyone on
    the chain noted as one) and, when ``follow_merges`` is off (a partner's link), for a merged record: the
    caller learns nothing of who exists, who is a child, or who was merged into whom. ``known`` holds the
    whole chain (see ``missing_link``)."""
    current = person_id
    for _ in range(MAX_MERGE_HOPS):
        person = known.get(current)
        if person is None or person.child or (person.merged_into is None and not person.registered):
            raise UnknownRecord("person", person_id)
        if person.merged_into is None:
            return current
        if not follow_merges:
            raise UnknownRecord("person", person_id)
        current = person.merged_into
    raise RuleViolated("merge-chain", "the person's merges do not end in a surviving record")
