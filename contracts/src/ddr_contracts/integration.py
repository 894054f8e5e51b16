"""Contract events of the integration service (topic ``ddr.integration.events``); a person's events carry the
person id as subject.

The cross-service contract: :class:`CandidateAccepted` makes a person an active member of the integration
track, :class:`ServiceStatusChanged` records their service record (a ``discharged`` status ends it and may
refer them to reinsertion), :class:`CandidateWithdrawn` ends a candidacy before service (e.g. an appeal moved
them to another track). Reinsertion uses these to refuse paying an active integrated member. The integration
service adds its own events (quotas, ranks, cohorts, units) here.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from ddr_contracts.events import REGISTRY, DomainEvent, event

IntegrationPath = Literal["reconstituted_forces", "armed_forces_recall", "civil_service"]
ServiceStatus = Literal["serving", "absent", "deserted", "returned", "discharged"]
DischargeKind = Literal["medical", "voluntary", "disciplinary", "other"]


@event
class CandidateAccepted(DomainEvent):
    """The person is an active integration candidate from ``effective_on`` (counted against ``quota_id``)."""

    name = "ddr.integration.CandidateAccepted"
    version = 1

    person_id: str
    movement: str
    path: IntegrationPath
    quota_id: str | None
    screening_decision_id: str
    effective_on: date


@event
class CandidateWithdrawn(DomainEvent):
    """The candidacy ends before or instead of service (``reason_code``: e.g. ``screening_superseded``)."""

    name = "ddr.integration.CandidateWithdrawn"
    version = 1

    person_id: str
    reason_code: str
    effective_on: date


@event
class ServiceStatusChanged(DomainEvent):
    """One entry of a member's service record. ``discharged`` ends active membership."""

    name = "ddr.integration.ServiceStatusChanged"
    version = 1

    person_id: str
    unit: str | None
    status: ServiceStatus
    effective_on: date
    discharge_kind: DischargeKind | None = None
    referred_to_reinsertion: bool = False


# -- the integration service's own events -------------------------------------------------------------------
# Person ids are pseudonymous references; none of these events carries a name or other identifying detail.

Qualification = Literal["none", "basic_military", "nco_course", "officer_school", "higher_education"]
TrainingOutcome = Literal["completed", "failed", "absent"]
DisputeOutcome = Literal["upheld", "rejected"]


@event
class CandidateReceived(DomainEvent):
    """A screening outcome put the person on the integration track: a candidate on ``path``, not yet accepted."""

    name = "ddr.integration.CandidateReceived"
    version = 2

    person_id: str
    movement: str
    category: str
    path: IntegrationPath
    movement_rank: str
    screening_decision_id: str
    effective_on: date
    region: str | None = None
    """v2: the region screening gave, so that callers narrowed to regions see and act on their regions' people
    only; ``None`` on v1 events (upcast), which such callers do not see."""


@event
class CandidateAcceptanceDeferred(DomainEvent):
    """The candidate could not be accepted yet (``reason_code``: ``quota_exhausted``, ``no_quota_open``,
    ``benefits_held``, ``reinsertion_beneficiary``); ``used``/``limit`` give the quota's figures when a quota
    refused."""

    name = "ddr.integration.CandidateAcceptanceDeferred"
    version = 1

    person_id: str
    reason_code: str
    quota_id: str | None
    used: int | None
    limit: int | None
    effective_on: date


@event
class QuotaSet(DomainEvent):
    """A decision opening a quota of integration places for ``movement`` (``None``: every movement) over a
    period."""

    name = "ddr.integration.QuotaSet"
    version = 1

    quota_id: str
    movement: str | None
    period_start: date
    period_end: date
    limit: int
    decision_ref: str
    reason: str


@event
class QuotaChanged(DomainEvent):
    """A decision changing a quota's limit (places already used stay used)."""

    name = "ddr.integration.QuotaChanged"
    version = 1

    quota_id: str
    previous_limit: int
    limit: int
    decision_ref: str
    reason: str
    effective_on: date


class RankRule(BaseModel):
    """One line of a rank-harmonisation rule set (not an event of its own: a part of :class:`RankRulesPublished`).

    Matches a movement rank (any of ``movement_ranks``; empty: any), at least ``min_years`` of service and one of
    ``qualifications`` (empty: any); gives the harmonised ``rank`` and ``command_function`` (``none``: no post).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    movement_ranks: list[str]
    min_years: int
    qualifications: list[Qualification]
    rank: str
    command_function: str


@event
class RankRulesPublished(DomainEvent):
    """A version of the rank-allocation rules (the 2019 decree on ranks, reclassification and command functions
    is the model); the first matching rule, in order, decides."""

    name = "ddr.integration.RankRulesPublished"
    version = 1

    rule_version: str
    decree_ref: str
    effective_from: date
    rules: list[RankRule]


@event
class RankAllocated(DomainEvent):
    """The person's harmonised rank and command function, under ``rule_version`` or a dispute's decision."""

    name = "ddr.integration.RankAllocated"
    version = 1

    person_id: str
    rule_version: str | None
    movement_rank: str
    years_of_service: int
    qualification: Qualification
    rank: str
    command_function: str
    by_dispute_id: str | None
    effective_on: date


@event
class RankDisputed(DomainEvent):
    name = "ddr.integration.RankDisputed"
    version = 1

    person_id: str
    dispute_id: str
    allocated_rank: str
    claimed_rank: str
    claimed_command_function: str
    grounds_code: str
    effective_on: date


@event
class RankDisputeDecided(DomainEvent):
    """``upheld``: a :class:`RankAllocated` with the claimed rank follows; ``rejected``: the allocation stands."""

    name = "ddr.integration.RankDisputeDecided"
    version = 1

    person_id: str
    dispute_id: str
    outcome: DisputeOutcome
    decision_ref: str
    effective_on: date


@event
class CohortOpened(DomainEvent):
    name = "ddr.integration.CohortOpened"
    version = 1

    cohort_id: str
    camp: str
    capacity: int
    starts_on: date
    ends_on: date


@event
class TraineeEnrolled(DomainEvent):
    name = "ddr.integration.TraineeEnrolled"
    version = 1

    cohort_id: str
    person_id: str
    effective_on: date


@event
class TrainingOutcomeRecorded(DomainEvent):
    name = "ddr.integration.TrainingOutcomeRecorded"
    version = 1

    cohort_id: str
    person_id: str
    outcome: TrainingOutcome
    effective_on: date


@event
class UnitEstablished(DomainEvent):
    """A unit as data: its establishment (authorised strength) and whether the rule of thirds governs it,
    within ``tolerance`` (a share: 0.02 lets a party hold up to a third plus two points)."""

    name = "ddr.integration.UnitEstablished"
    version = 1

    unit_id: str
    display_name: str
    kind: str
    location: str
    establishment: int
    thirds_applies: bool
    tolerance: float


@event
class ArmedForcesContingentRecorded(DomainEvent):
    """The armed forces' own contingent in a unit from ``effective_on`` (recorded by the defence liaison)."""

    name = "ddr.integration.ArmedForcesContingentRecorded"
    version = 1

    unit_id: str
    strength: int
    command_posts: int
    effective_on: date


@event
class MemberAssigned(DomainEvent):
    """The person joins the unit from ``effective_on``; ``party`` is the coalition they count for on that date."""

    name = "ddr.integration.MemberAssigned"
    version = 1

    unit_id: str
    person_id: str
    movement: str
    party: str
    command_post: bool
    effective_on: date


@event
class RecalledToCorps(DomainEvent):
    """A former member of the armed forces is recalled to their original corps."""

    name = "ddr.integration.RecalledToCorps"
    version = 1

    person_id: str
    corps: str
    effective_on: date


@event
class CivilServiceListed(DomainEvent):
    """A civilian cadre of a movement is put on a civil-service integration list."""

    name = "ddr.integration.CivilServiceListed"
    version = 1

    person_id: str
    list_ref: str
    effective_on: date


@event
class DualEnrolmentDetected(DomainEvent):
    """Reinsertion enrolled a person while integration held them active (the two services crossed inside the
    eventual-consistency window): flagged for a decision, so nobody is paid twice unseen."""

    name = "ddr.integration.DualEnrolmentDetected"
    version = 1

    person_id: str
    integration_status: str
    reinsertion_effective_on: date


# -- what integration learnt from other services, recorded in its own history --------------------------------
# A consumer's policy records the fact it acted on as an event of this service, on the stream of the aggregate
# it concerns: a rebuild from this service's store alone then reproduces every decision's grounds.


@event
class ScreeningOutcomeNoted(DomainEvent):
    """Screening decided an outcome for a person this service already knows, or for a child: the facts the
    candidacy depends on (a first outcome on the integration track is recorded as :class:`CandidateReceived`)."""

    name = "ddr.integration.ScreeningOutcomeNoted"
    version = 2

    person_id: str
    decision_id: str
    track: str
    movement: str
    category: str
    movement_rank: str
    effective_on: date
    region: str | None = None
    """v2: the region screening gave (``None`` on v1 events, upcast)."""


@REGISTRY.upcaster("ddr.integration.CandidateReceived", 1)
@REGISTRY.upcaster("ddr.integration.ScreeningOutcomeNoted", 1)
def _region_unknown(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: the region was not kept; it is unknown (``None``)."""
    return {**data, "region": None}


@event
class BenefitsHoldNoted(DomainEvent):
    """Screening holds the person's benefits (``decision_id``): no acceptance, enrolment or assignment until
    every hold is released."""

    name = "ddr.integration.BenefitsHoldNoted"
    version = 1

    person_id: str
    decision_id: str
    reason_code: str


@event
class BenefitsReleaseNoted(DomainEvent):
    """Screening released the hold ``decision_id``."""

    name = "ddr.integration.BenefitsReleaseNoted"
    version = 1

    person_id: str
    decision_id: str
    reason_code: str


@event
class ReinsertionEnrolmentNoted(DomainEvent):
    """Reinsertion enrolled the person from ``effective_on``: an active beneficiary is not accepted here."""

    name = "ddr.integration.ReinsertionEnrolmentNoted"
    version = 1

    person_id: str
    effective_on: date


@event
class ReinsertionExitNoted(DomainEvent):
    name = "ddr.integration.ReinsertionExitNoted"
    version = 1

    person_id: str
    effective_on: date


@event
class CoalitionJoinNoted(DomainEvent):
    """Registration recorded ``movement`` joining ``coalition`` from ``since`` (the party it counts for in the
    rule of thirds). Subject: the movement's code."""

    name = "ddr.integration.CoalitionJoinNoted"
    version = 1

    movement: str
    coalition: str
    since: date


@event
class CoalitionLeaveNoted(DomainEvent):
    name = "ddr.integration.CoalitionLeaveNoted"
    version = 1

    movement: str
    coalition: str
    until: date


# -- the limits' own records: quota places, cohort seats, a unit's strength ------------------------------------
# Each is written on the stream of the aggregate that holds the limit, in the same transaction as the person's
# event it goes with, so two decisions taken on the same figures cannot both be stored.


@event
class QuotaPlacesTaken(DomainEvent):
    """Places of quota ``quota_id`` taken by the candidates accepted from ``effective_on`` (one record per
    quota and day of one decision). Subject: the quota."""

    name = "ddr.integration.QuotaPlacesTaken"
    version = 1

    quota_id: str
    person_ids: list[str]
    effective_on: date


@event
class QuotaPlacesReleased(DomainEvent):
    """Places given back when the candidacies holding them ended (a withdrawal). Subject: the quota."""

    name = "ddr.integration.QuotaPlacesReleased"
    version = 1

    quota_id: str
    person_ids: list[str]
    effective_on: date


@event
class CohortSeatsTaken(DomainEvent):
    """Seats of the cohort taken by one enrolment decision (its trainees' :class:`TraineeEnrolled`)."""

    name = "ddr.integration.CohortSeatsTaken"
    version = 1

    cohort_id: str
    seats: int
    effective_on: date


@event
class CohortSeatsFreed(DomainEvent):
    """Seats freed by trainees who left before an outcome (their candidacy was withdrawn)."""

    name = "ddr.integration.CohortSeatsFreed"
    version = 1

    cohort_id: str
    seats: int
    effective_on: date


@event
class MemberStruckOff(DomainEvent):
    """The member leaves the unit's strength from ``effective_on`` (deserted or discharged; their
    :class:`ServiceStatusChanged` is on their own record)."""

    name = "ddr.integration.MemberStruckOff"
    version = 1

    unit_id: str
    person_id: str
    status: ServiceStatus
    effective_on: date


@event
class MemberReinstated(DomainEvent):
    """A returned member counts in the unit's strength again from ``effective_on``."""

    name = "ddr.integration.MemberReinstated"
    version = 1

    unit_id: str
    person_id: str
    command_post: bool
    effective_on: date
