"""What the CVR domain records: frozen dataclasses, one per published event, with the same class and field
names as the contract events of ``ddr_contracts.cvr`` (the unit of work translates them by name).

Every class declared here is an event; value types they carry live in :mod:`ddr_cvr.domain.terms`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ddr_cvr.domain.terms import (
    CapacityRating,
    ChildSource,
    CollectedItem,
    Committee,
    CountSource,
    DecisionOutcome,
    ParticipantCategory,
    PartnerKind,
    ProjectType,
    RegistrationSource,
    RiskLevel,
    Sex,
    VettingOutcome,
    VisitKind,
)

# -- partners --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PartnerRegistered:
    partner_id: str
    display_name: str
    kind: PartnerKind
    lead_partner_id: str | None = None
    member_partner_ids: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    registered_on: date


@dataclass(frozen=True, kw_only=True)
class PartnerCapacityAssessed:
    partner_id: str
    assessed_on: date
    rating: CapacityRating
    financial_management: CapacityRating
    staff_count: int
    assessor: str
    notes: str = ""


# -- projects --------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProjectSubmitted:
    project_id: str
    partner_id: str
    partner_kind: PartnerKind
    ngo_ids: tuple[str, ...]
    revision: int
    title: str
    project_type: ProjectType
    region: str
    cercle: str
    commune: str
    location: str
    budget: Decimal
    currency: str
    budget_usd: Decimal
    cap_usd: Decimal
    duration_months: int
    planned_start: date
    armed_groups_active: bool
    programme: str | None
    direct_beneficiaries_target: int
    ex_combatants_target: int
    women_target: int
    submitted_on: date


@dataclass(frozen=True, kw_only=True)
class TechnicalAssessmentRecorded:
    project_id: str
    agency: str
    reference: str
    assessed_on: date
    favourable: bool
    conditions: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class RiskAnalysisAttached:
    project_id: str
    analysed_on: date
    political: RiskLevel
    fiduciary: RiskLevel
    legal: RiskLevel
    reputational: RiskLevel
    mitigation: str


@dataclass(frozen=True, kw_only=True)
class CommitteeDecided:
    project_id: str
    committee: Committee
    revision: int
    decided_on: date
    members_present: tuple[str, ...]
    outcome: DecisionOutcome
    conditions: tuple[str, ...] = ()
    human_rights_vetting: VettingOutcome = "not_applicable"
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class ProjectApproved:
    project_id: str
    partner_id: str
    approved_on: date
    budget_usd: Decimal


@dataclass(frozen=True, kw_only=True)
class BeneficiaryCountsRecorded:
    project_id: str
    counted_on: date
    direct: int
    direct_women: int
    indirect: int
    indirect_women: int
    source: CountSource


@dataclass(frozen=True, kw_only=True)
class TranchePaid:
    project_id: str
    partner_id: str
    tranche: int
    amount: Decimal
    currency: str
    paid_on: date


@dataclass(frozen=True, kw_only=True)
class ProgressReported:
    project_id: str
    reported_on: date
    percent_complete: int
    summary: str


@dataclass(frozen=True, kw_only=True)
class ProjectCompleted:
    project_id: str
    completed_on: date


@dataclass(frozen=True, kw_only=True)
class ProjectHandedOver:
    project_id: str
    handed_over_on: date
    handed_over_to: str


@dataclass(frozen=True, kw_only=True)
class WamItemsCollected:
    project_id: str
    collection_id: str
    collected_on: date
    region: str
    cercle: str
    custodian: str
    items: tuple[CollectedItem, ...]


@dataclass(frozen=True, kw_only=True)
class MonitoringVisitRecorded:
    project_id: str
    visit_kind: VisitKind
    visited_on: date
    findings: str
    insecurity_reason: str | None = None
    partner_report_reference: str | None = None
    testimonies: int = 0


# -- participants ----------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ParticipantEnrolled:
    participant_id: str
    project_id: str
    partner_id: str
    category: ParticipantCategory
    sex: Sex
    birth_year: int | None = None
    person_id: str | None = None
    enrolled_on: date
    full_name: str | None
    telephone: str | None


@dataclass(frozen=True, kw_only=True)
class ParticipantWithdrawn:
    participant_id: str
    project_id: str
    person_id: str | None = None
    withdrawn_on: date
    reason: str | None


@dataclass(frozen=True, kw_only=True)
class ParticipantDataErased:
    participant_id: str
    project_id: str
    person_id: str | None = None
    reason_code: str


# -- what CVR learnt from registration --------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class PersonRegistrationNoted:
    registered_person_id: str
    noted_from: RegistrationSource


@dataclass(frozen=True, kw_only=True)
class PersonChildNoted:
    registered_person_id: str
    noted_from: ChildSource


@dataclass(frozen=True, kw_only=True)
class PersonMergeNoted:
    registered_person_id: str
    into_person_id: str


PartnerEvent = PartnerRegistered | PartnerCapacityAssessed
ProjectEvent = (
    ProjectSubmitted
    | TechnicalAssessmentRecorded
    | RiskAnalysisAttached
    | CommitteeDecided
    | ProjectApproved
    | BeneficiaryCountsRecorded
    | TranchePaid
    | ProgressReported
    | ProjectCompleted
    | ProjectHandedOver
    | WamItemsCollected
    | MonitoringVisitRecorded
)
ParticipantEvent = ParticipantEnrolled | ParticipantWithdrawn | ParticipantDataErased
RegisteredPersonEvent = PersonRegistrationNoted | PersonChildNoted | PersonMergeNoted
