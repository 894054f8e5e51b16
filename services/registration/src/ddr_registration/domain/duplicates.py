"""A suspected duplicate identity: raised by the dedup policy, made certain by a shared biometric, resolved by
a person (merge or distinct). Its reasons are codes and scores: no name or other value of either record."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ddr_registration.domain.events import (
    DuplicateEvent,
    DuplicateMadeCertain,
    DuplicateResolved,
    DuplicateSuspected,
)
from ddr_registration.domain.identity import Reason
from ddr_registration.domain.values import DuplicateOutcome, DuplicateReason
from ddr_runtime.kernel import Aggregate, RuleViolated


@dataclass(frozen=True)
class Holder:
    """The standing record a biometric reference is registered to, and what access to it depends on."""

    person_id: str
    ddr_id: str
    movement: str
    category: str
    region: str


def duplicate_stream(case_id: str) -> str:
    return f"duplicate-{case_id}"


class DuplicateCase(Aggregate[DuplicateEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.case_id = ""
        self.person_id = ""
        self.other_person_id = ""
        self.certain = False
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
        reasons: Iterable[Reason],
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
                reasons=_codes(reasons),
            )
        )
        return case

    def make_certain(self, reasons: Iterable[Reason]) -> bool:
        """The two records proved one person: the case becomes certain (open again if judged distinct).
        False, recording nothing, when it already is certain and open, or was merged."""
        if self.outcome == "merged" or (self.certain and self.outcome is None):
            return False
        self.record(
            DuplicateMadeCertain(
                case_id=self.case_id,
                person_id=self.person_id,
                other_person_id=self.other_person_id,
                reasons=_codes(reasons),
                reopened=self.outcome is not None,
            )
        )
        return True

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

    def apply(self, event: DuplicateEvent) -> None:
        if isinstance(event, DuplicateSuspected):
            self.case_id, self.person_id, self.other_person_id = (
                event.case_id,
                event.person_id,
                event.other_person_id,
            )
            self.certain = event.certain
        elif isinstance(event, DuplicateMadeCertain):
            self.certain, self.outcome, self.survivor = True, None, None
        elif isinstance(event, DuplicateResolved):
            self.outcome, self.survivor = event.outcome, event.surviving_person_id


def _codes(reasons: Iterable[Reason]) -> tuple[DuplicateReason, ...]:
    return tuple(DuplicateReason(kind=r.kind, score=r.score) for r in reasons)
