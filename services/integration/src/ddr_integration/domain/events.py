"""The integration domain's events: frozen dataclasses of the standard library, each the twin of the contract
event of the same name in ``ddr_contracts.integration`` (same class name, same field names), translated by
the unit of work on save and on load. Every dataclass declared here is an event.

Streams: ``person-<id>`` (a person's candidacy, what screening and reinsertion told us about them, rank,
training, placement and service record), ``quotas`` (every quota's decisions and places), ``cohort-<id>``
(opening and seats), ``unit-<id>`` (establishment, contingent, members' postings), ``rank-rules`` and
``coalitions`` (what registration told us of movements' coalitions).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ddr_integration.domain.ranks import Rule

# -- a person: candidacy ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CandidateReceived:
    person_id: str
    movement: str
    category: str
    path: str
    movement_rank: str
    screening_decision_id: str
    effective_on: date
    region: str | None = None


@dataclass(frozen=True)
class ScreeningOutcomeNoted:
    person_id: str
    decision_id: str
    track: str
    movement: str
    category: str
    movement_rank: str
    effective_on: date
    region: str | None = None


@dataclass(frozen=True)
class CandidateAcceptanceDeferred:
    person_id: str
    reason_code: str
    quota_id: str | None
    used: int | None
    limit: int | None
    effective_on: date


@dataclass(frozen=True)
class CandidateAccepted:
    person_id: str
    movement: str
    path: str
    quota_id: str | None
    screening_decision_id: str
    effective_on: date


@dataclass(frozen=True)
class CandidateWithdrawn:
    person_id: str
    reason_code: str
    effective_on: date


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
class ReinsertionEnrolmentNoted:
    person_id: str
    effective_on: date


@dataclass(frozen=True)
class ReinsertionExitNoted:
    person_id: str
    effective_on: date


@dataclass(frozen=True)
class DualEnrolmentDetected:
    person_id: str
    integration_status: str
    reinsertion_effective_on: date


# -- a person: rank, training, placement, service record -------------------------------------------------


@dataclass(frozen=True)
class RankAllocated:
    person_id: str
    rule_version: str | None
    movement_rank: str
    years_of_service: int
    qualification: str
    rank: str
    command_function: str
    by_dispute_id: str | None
    effective_on: date


@dataclass(frozen=True)
class RankDisputed:
    person_id: str
    dispute_id: str
    allocated_rank: str
    claimed_rank: str
    claimed_command_function: str
    grounds_code: str
    effective_on: date


@dataclass(frozen=True)
class RankDisputeDecided:
    person_id: str
    dispute_id: str
    outcome: str
    decision_ref: str
    effective_on: date


@dataclass(frozen=True)
class TraineeEnrolled:
    cohort_id: str
    person_id: str
    effective_on: date


@dataclass(frozen=True)
class TrainingOutcomeRecorded:
    cohort_id: str
    person_id: str
    outcome: str
    effective_on: date


@dataclass(frozen=True)
class RecalledToCorps:
    person_id: str
    corps: str
    effective_on: date


@dataclass(frozen=True)
class CivilServiceListed:
    person_id: str
    list_ref: str
    effective_on: date


@dataclass(frozen=True)
class ServiceStatusChanged:
    person_id: str
    unit: str | None
    status: str
    effective_on: date
    discharge_kind: str | None = None
    referred_to_reinsertion: bool = False


# -- quotas ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QuotaSet:
    quota_id: str
    movement: str | None
    period_start: date
    period_end: date
    limit: int
    decision_ref: str
    reason: str


@dataclass(frozen=True)
class QuotaChanged:
    quota_id: str
    previous_limit: int
    limit: int
    decision_ref: str
    reason: str
    effective_on: date


@dataclass(frozen=True)
class QuotaPlacesTaken:
    quota_id: str
    person_ids: tuple[str, ...]
    effective_on: date


@dataclass(frozen=True)
class QuotaPlacesReleased:
    quota_id: str
    person_ids: tuple[str, ...]
    effective_on: date


# -- rank rules, cohorts, units, coalitions ----------------------------------------------------------------


@dataclass(frozen=True)
class RankRulesPublished:
    rule_version: str
    decree_ref: str
    effective_from: date
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class CohortOpened:
    cohort_id: str
    camp: str
    capacity: int
    starts_on: date
    ends_on: date


@dataclass(frozen=True)
class CohortSeatsTaken:
    cohort_id: str
    seats: int
    effective_on: date


@dataclass(frozen=True)
class CohortSeatsFreed:
    cohort_id: str
    seats: int
    effective_on: date


@dataclass(frozen=True)
class UnitEstablished:
    unit_id: str
    display_name: str
    kind: str
    location: str
    establishment: int
    thirds_applies: bool
    tolerance: float


@dataclass(frozen=True)
class ArmedForcesContingentRecorded:
    unit_id: str
    strength: int
    command_posts: int
    effective_on: date


@dataclass(frozen=True)
class MemberAssigned:
    unit_id: str
    person_id: str
    movement: str
    party: str
    command_post: bool
    effective_on: date


@dataclass(frozen=True)
class MemberStruckOff:
    unit_id: str
    person_id: str
    status: str
    effective_on: date


@dataclass(frozen=True)
class MemberReinstated:
    unit_id: str
    person_id: str
    command_post: bool
    effective_on: date


@dataclass(frozen=True)
class CoalitionJoinNoted:
    movement: str
    coalition: str
    since: date


@dataclass(frozen=True)
class CoalitionLeaveNoted:
    movement: str
    coalition: str
    until: date
