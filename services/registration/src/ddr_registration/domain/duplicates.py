"""A suspected duplicate identity: raised by the dedup policy, resolved by a person (merge or distinct)."""

from __future__ import annotations

from ddr_contracts.events import DomainEvent
from ddr_contracts.registration import DuplicateOutcome, DuplicateResolved, DuplicateSuspected
from ddr_registration.domain.aggregate import Aggregate
from ddr_registration.domain.errors import RuleViolated


def duplicate_stream(case_id: str) -> str:
    return f"duplicate-{case_id}"


class DuplicateCase(Aggregate):
    def __init__(self) -> None:
        super().__init__()
        self.case_id = ""
        self.person_id = ""
        self.other_person_id = ""
        self.outcome: DuplicateOutcome | None = None
        self.survivor: str | None = None

    @classmethod
    def suspect(
        cls,
        case_id: str,
        person_id: str,
        other_person_id: str,
        *,
        score: float,
        certain: bool,
        reasons: tuple[str, ...],
    ) -> DuplicateCase:
        if person_id == other_person_id:
            raise RuleViolated("duplicate-of-another", "a record cannot duplicate itself")
        case = cls()
        case.record(
            DuplicateSuspected(
                case_id=case_id,
                person_id=person_id,
                other_person_id=other_person_id,
                score=score,
                certain=certain,
                reasons=reasons,
            )
        )
        return case

    def resolve(self, outcome: DuplicateOutcome, surviving_person_id: str | None) -> None:
        if self.outcome is not None:
            raise RuleViolated("resolved-once", "this suspected duplicate is already resolved")
        pair = (self.person_id, self.other_person_id)
        if outcome == "merged" and surviving_person_id not in pair:
            raise RuleViolated("survivor-is-one-of-the-pair", "the surviving record must be one of the two")
        if outcome == "distinct":
            surviving_person_id = None
        self.record(
            DuplicateResolved(
                case_id=self.case_id,
                person_id=self.person_id,
                other_person_id=self.other_person_id,
                outcome=outcome,
                surviving_person_id=surviving_person_id,
            )
        )

    @property
    def absorbed_person_id(self) -> str:
        """Of a merge: the record that is not the survivor."""
        return self.other_person_id if self.survivor == self.person_id else self.person_id

    def apply(self, event: DomainEvent) -> None:
        if isinstance(event, DuplicateSuspected):
            self.case_id, self.person_id, self.other_person_id = (
                event.case_id,
                event.person_id,
                event.other_person_id,
            )
        elif isinstance(event, DuplicateResolved):
            self.outcome, self.survivor = event.outcome, event.surviving_person_id
