"""Who exists in registration, as far as CVR needs to know: a person id, and where it was merged into.

CVR records what it learns from the registration topic as its own events (the consumer's policy), one stream
per person, so that linking an ex-combatant participant is decided on CVR's own history, and that history
shows what CVR knew when it linked. Nothing of the person is kept but the id.
"""

from __future__ import annotations

from collections.abc import Mapping

from ddr_cvr.domain.events import PersonMergeNoted, PersonRegistrationNoted, RegisteredPersonEvent
from ddr_cvr.domain.terms import RegistrationSource
from ddr_runtime.kernel import Aggregate, RuleViolated, UnknownRecord

MAX_MERGE_HOPS = 20


def registered_person_stream(person_id: str) -> str:
    return f"cvr-registered-person-{person_id}"


class RegisteredPerson(Aggregate[RegisteredPersonEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.person_id = ""
        self.registered = False
        self.merged_into: str | None = None

    def note_registration(self, person_id: str, source: RegistrationSource) -> None:
        """Registration announced the person; noted once, however often registration repeats it."""
        if not self.registered:
            self.record(PersonRegistrationNoted(registered_person_id=person_id, noted_from=source))

    def note_merge(self, person_id: str, into_person_id: str) -> None:
        if self.merged_into != into_person_id:
            self.record(PersonMergeNoted(registered_person_id=person_id, into_person_id=into_person_id))

    def apply(self, event: RegisteredPersonEvent) -> None:
        self.person_id = event.registered_person_id
        match event:
            case PersonRegistrationNoted():
                self.registered = True
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


def survivor(person_id: str, known: Mapping[str, RegisteredPerson]) -> str:
    """The registered person now standing for ``person_id``: itself, or the survivor of its merges. Refused
    (404) for a person registration never announced; ``known`` holds the whole chain (see ``missing_link``)."""
    current = person_id
    for _ in range(MAX_MERGE_HOPS):
        person = known.get(current)
        if person is None or (person.merged_into is None and not person.registered):
            raise UnknownRecord("person", person_id)
        if person.merged_into is None:
            return current
        current = person.merged_into
    raise RuleViolated("merge-chain", "the person's merges do not end in a surviving record")
