"""The words of screening: tracks, results, statuses, and the entries of the vetting list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Track = Literal["integration", "reinsertion", "cvr", "not_eligible", "child_protection"]
MedicalResult = Literal["fit", "unfit", "temporarily_unfit"]
VettingStatus = Literal["cleared", "held", "excluded"]
VettingSource = Literal["list_check", "officer", "appeal"]
AgeConclusion = Literal["child", "adult", "undetermined"]
AgeEffect = Literal["child_identified", "adult_confirmed", "child_determination_kept", "still_undetermined"]
ChildBasis = Literal["category", "birth_date", "birth_year", "assessment", "correction"]
AllegationStatus = Literal["alleged", "substantiated"]
Eligibility = Literal["integration", "reinsertion", "cvr", "not_eligible", "pending"]
DecisionKind = Literal["age", "medical", "vetting", "membership", "handling_test"]


@dataclass(frozen=True, slots=True)
class VettingListEntry:
    """A person of the caseload named by an allegation of grave crimes (by person id, never by name).

    ``allegation_ref`` is ``None`` when it can no longer be read: the person is erased (their key shredded);
    they are still on the list, and a list check still holds them."""

    person_id: str
    allegation_ref: str | None
    status: AllegationStatus
