"""The reinsertion domain's events: what it records, as frozen dataclasses of the standard library.

Each has the name and the fields of the contract event in ``ddr_contracts.reinsertion`` it is stored and
published as (the unit of work translates by name). Money is :class:`~decimal.Decimal`, never a float.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ddr_reinsertion.domain.values import PlannedTranche, TrancheTerms

# -- rounds ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VolunteerRoundOpened:
    round_id: str
    title: str
    regions: tuple[str, ...]
    size_per_region: int
    opened_on: date


@dataclass(frozen=True)
class RoundPlacesTaken:
    round_id: str
    region: str
    places: int
    listed_on: date


# -- catalogue ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PackageVersionPublished:
    package_id: str
    package_version: int
    kind: str
    title: str
    caseloads: tuple[str, ...]
    currency: str
    base_amount: Decimal
    category_supplements: dict[str, Decimal]
    rank_supplements: dict[str, Decimal]
    per_dependant_amount: Decimal
    max_dependants: int
    tranches: tuple[TrancheTerms, ...]
    follow_up_after_days: tuple[int, ...]
    effective_on: date


# -- budget lines ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLineOpened:
    line_id: str
    funding_source: str
    title: str
    currency: str
    allotted: Decimal
    opened_on: date


@dataclass(frozen=True)
class FundsReceived:
    line_id: str
    amount: Decimal
    reference: str
    received_on: date


@dataclass(frozen=True)
class FundsCommitted:
    line_id: str
    commitment_id: str
    amount: Decimal


@dataclass(frozen=True)
class CommitmentReleased:
    line_id: str
    commitment_id: str
    amount: Decimal


@dataclass(frozen=True)
class FundsDisbursed:
    line_id: str
    commitment_id: str
    disbursement_id: str
    amount: Decimal


# -- a beneficiary --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ScreeningOutcomeNoted:
    person_id: str
    decision_id: str
    track: str
    region: str
    sex: str
    category: str
    movement: str
    rank: str


@dataclass(frozen=True)
class BenefitsHoldNoted:
    person_id: str
    decision_id: str
    reason_code: str


@dataclass(frozen=True)
class BenefitsReleaseNoted:
    person_id: str
    decision_id: str
    reason_code: str


@dataclass(frozen=True)
class IntegrationStatusNoted:
    person_id: str
    standing: str  # accepted, withdrawn, serving, discharged
    referred_to_reinsertion: bool
    effective_on: date


@dataclass(frozen=True)
class VolunteerListed:
    round_id: str
    person_id: str
    region: str
    sex: str
    category: str
    movement: str
    rank: str
    listed_on: date


@dataclass(frozen=True)
class BeneficiaryEnrolled:
    person_id: str
    source: str
    round_id: str | None
    region: str
    sex: str
    category: str
    movement: str
    effective_on: date


@dataclass(frozen=True)
class CounsellingProfileRecorded:
    person_id: str
    caseload: str
    skills: tuple[str, ...]
    literacy: str
    area_of_return: str | None
    dependants: int
    counselled_on: date


@dataclass(frozen=True)
class PackageGranted:
    person_id: str
    commitment_id: str
    package_id: str
    package_version: int
    kind: str
    line_id: str
    currency: str
    amount: Decimal
    tranches: tuple[PlannedTranche, ...]
    visits_due: tuple[date, ...]
    granted_on: date


@dataclass(frozen=True)
class TrainingAttended:
    person_id: str
    commitment_id: str
    provider: str
    attended_on: date


@dataclass(frozen=True)
class FollowUpVisitRecorded:
    person_id: str
    visit_id: str
    outcome: str
    visited_on: date


@dataclass(frozen=True)
class TrancheDisbursed:
    person_id: str
    commitment_id: str
    tranche: int
    amount: Decimal
    line_id: str
    disbursement_id: str
    request_id: str
    office: str
    paid_on: date


@dataclass(frozen=True)
class BeneficiaryExited:
    person_id: str
    reason: str  # completed, dropped_out, moved_to_integration, withdrawn
    effective_on: date


BeneficiaryEvent = (
    ScreeningOutcomeNoted
    | BenefitsHoldNoted
    | BenefitsReleaseNoted
    | IntegrationStatusNoted
    | VolunteerListed
    | BeneficiaryEnrolled
    | CounsellingProfileRecorded
    | PackageGranted
    | TrainingAttended
    | FollowUpVisitRecorded
    | TrancheDisbursed
    | BeneficiaryExited
)
LineEvent = BudgetLineOpened | FundsReceived | FundsCommitted | CommitmentReleased | FundsDisbursed
RoundEvent = VolunteerRoundOpened | RoundPlacesTaken
