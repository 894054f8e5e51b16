"""Screening's events, as the domain records them: each has the name and the fields of the contract event
it is published as (``ddr_contracts.screening``), which the unit of work translates to and from.

A case's events (stream and subject: the person id) come first; then the reference data (the eligibility
rule sets and the vetting list), each on a stream of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from ddr_screening.domain.values import (
    AgeConclusion,
    AgeEffect,
    ChildBasis,
    DecisionKind,
    Eligibility,
    MedicalResult,
    Track,
    VettingListEntry,
    VettingSource,
    VettingStatus,
)


@dataclass(frozen=True, slots=True)
class ScreeningCaseOpened:
    person_id: str
    ddr_id: str
    movement: str
    category: str
    sex: str
    region: str
    cercle: str
    rank: str
    armed: bool
    birth_kind: str
    birth_year: int | None
    youngest_age: int | None
    weapon_handed_over: bool
    registered_on: date


@dataclass(frozen=True, slots=True)
class ChildIdentified:
    person_id: str
    decision_id: str
    basis: ChildBasis
    youngest_age: int | None
    identified_at: datetime
    handover_deadline: datetime


@dataclass(frozen=True, slots=True)
class ChildHandedOver:
    person_id: str
    decision_id: str
    receiving_actor: str
    handed_over_at: datetime
    note: str | None


@dataclass(frozen=True, slots=True)
class AgeAssessed:
    person_id: str
    decision_id: str
    method: str
    youngest_age: int | None
    document_issued_on: date | None
    document_suspect: bool
    conclusion: AgeConclusion
    effect: AgeEffect
    note: str | None


@dataclass(frozen=True, slots=True)
class MedicalExamined:
    person_id: str
    decision_id: str
    examination_number: int
    result: MedicalResult
    re_examination: bool
    details: str | None


@dataclass(frozen=True, slots=True)
class MedicalReExaminationRequested:
    person_id: str
    request_id: str
    of_decision_id: str
    requested_by: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class VettingDecided:
    person_id: str
    decision_id: str
    status: VettingStatus
    source: VettingSource
    list_version: int | None
    allegation_ref: str | None
    reason_code: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class BenefitsHeld:
    person_id: str
    decision_id: str
    reason_code: str


@dataclass(frozen=True, slots=True)
class BenefitsReleased:
    person_id: str
    decision_id: str
    reason_code: str


@dataclass(frozen=True, slots=True)
class MembershipVerificationDecided:
    person_id: str
    decision_id: str
    verified: bool
    reason_code: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class HandlingTestRecorded:
    person_id: str
    decision_id: str
    passed: bool


@dataclass(frozen=True, slots=True)
class WeaponHandoverNoted:
    person_id: str
    weapon_id: str
    receipt_number: str


@dataclass(frozen=True, slots=True)
class ReinsertionChosen:
    person_id: str
    decision_id: str
    rule_version: str


@dataclass(frozen=True, slots=True)
class EligibilityDetermined:
    person_id: str
    decision_id: str
    rule_version: str
    result: Eligibility
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ScreeningOutcomeDecided:
    person_id: str
    decision_id: str
    track: Track
    reason_code: str
    rule_version: str | None
    previous_track: Track | None
    supersedes_decision_id: str | None
    by_appeal: bool
    movement: str
    category: str
    sex: str
    region: str
    birth_year: int | None
    rank: str
    armed: bool


@dataclass(frozen=True, slots=True)
class CaseDetailsCorrected:
    person_id: str
    corrected_fields: tuple[str, ...]
    category: str | None = None
    sex: str | None = None
    birth_kind: str | None = None
    birth_year: int | None = None
    region: str | None = None
    cercle: str | None = None
    rank: str | None = None
    armed: bool | None = None
    youngest_age: int | None = None


@dataclass(frozen=True, slots=True)
class CaseMergedInto:
    person_id: str
    into_person_id: str


@dataclass(frozen=True, slots=True)
class AppealLodged:
    person_id: str
    appeal_id: str
    decision_id: str
    decision_kind: DecisionKind
    lodged_by: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class AppealDecided:
    person_id: str
    appeal_id: str
    decision_id: str
    decision_kind: DecisionKind
    overturned: bool
    replacement: str | None
    decided_by: str
    reason: str | None


CaseEvent = (
    ScreeningCaseOpened
    | ChildIdentified
    | ChildHandedOver
    | AgeAssessed
    | MedicalExamined
    | MedicalReExaminationRequested
    | VettingDecided
    | BenefitsHeld
    | BenefitsReleased
    | MembershipVerificationDecided
    | HandlingTestRecorded
    | WeaponHandoverNoted
    | ReinsertionChosen
    | EligibilityDetermined
    | ScreeningOutcomeDecided
    | CaseDetailsCorrected
    | CaseMergedInto
    | AppealLodged
    | AppealDecided
)


# -- reference data ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VettingListVersionPublished:
    list_version: int
    entry_count: int
    source_ref: str
    entries: tuple[VettingListEntry, ...] | None  # None once the list's key is destroyed


@dataclass(frozen=True, slots=True)
class EligibilityRuleSetPublished:
    rule_version: str
    effective_from: date
    description: str
    integration_categories: tuple[str, ...]
    reinsertion_categories: tuple[str, ...]
    cvr_movements: tuple[str, ...]
    require_armed: bool
    require_verified_member: bool
    require_weapon_or_handling_test: bool
    reinsertion_choice_offered: bool
