"""Contract events of the CVR service (topic ``ddr.cvr.events``).

Subjects: a partner's events carry the partner id; a project's events carry the project id, so Kafka keys
them by project and keeps their order. A participant's events carry the **participant id**: their name and
telephone are personal and encrypted under the participant's own key (erasing one participant shreds only
them), while ``project_id`` stays readable. An ex-combatant participant carries ``person_id`` (the
registration person id, after any merge) so ``pathway`` can show CVR participation in the person's path;
nothing else of their combatant record is copied here.

Amounts are decimals in the stated currency; ``budget_usd`` is the USD equivalent the caps are checked on.
Targets are counts (of direct beneficiaries, women and ex-combatants among them): a percent is only how a
partner may state one, turned into a count once, on submission.
:class:`WamItemsCollected` lists weapons and ammunition collected by a project's weapons-and-ammunition-
management component, for the registration weapons register to take into custody.

:class:`PersonRegistrationNoted` and :class:`PersonMergeNoted` are what CVR learnt from the registration topic
(a person exists; a record was merged into another), recorded in CVR's own history so that linking an
ex-combatant participant is decided on CVR's events alone. They are CVR's bookkeeping, not steps of anyone's
path: the person is named ``registered_person_id``, not ``person_id``, which pathway reads as a step.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict

from ddr_contracts.events import PERSONAL, REGISTRY, DomainEvent, event

PartnerKind = Literal["ngo", "consortium"]
CapacityRating = Literal["weak", "adequate", "strong"]
ProjectType = Literal[
    "vocational_training",
    "infrastructure_rehabilitation",
    "income_generating_activity",
    "lighting_and_security",
    "agriculture_and_gardening",
    "solar_water",
    "animal_husbandry",
    "sensitization",
    "labour_intensive_work",
    "weapons_and_ammunition_management",
]
Committee = Literal["local_review", "regional_appraisal", "national_appraisal"]
DecisionOutcome = Literal["cleared", "returned", "rejected"]
VettingOutcome = Literal["cleared", "concerns", "not_applicable"]
RiskLevel = Literal["low", "medium", "high"]
ParticipantCategory = Literal["ex_combatant", "community"]
Sex = Literal["F", "M"]
CountSource = Literal["partner_report", "monitoring_visit", "programme_records"]
VisitKind = Literal["on_site", "remote_insecure"]

# -- partners --------------------------------------------------------------------------------------------


@event
class PartnerRegistered(DomainEvent):
    """A local NGO, or a consortium of 2-3 registered NGOs under one of them as lead. Subject: partner id."""

    name = "ddr.cvr.PartnerRegistered"
    version = 1

    partner_id: str
    display_name: str
    kind: PartnerKind
    lead_partner_id: str | None = None
    member_partner_ids: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    registered_on: date


@event
class PartnerCapacityAssessed(DomainEvent):
    """One capacity assessment of a partner; the partner's stream is its capacity history."""

    name = "ddr.cvr.PartnerCapacityAssessed"
    version = 1

    partner_id: str
    assessed_on: date
    rating: CapacityRating
    financial_management: CapacityRating
    staff_count: int
    assessor: str
    notes: str = ""


# -- projects --------------------------------------------------------------------------------------------


@event
class ProjectSubmitted(DomainEvent):
    """A proposal submitted for review (``revision`` 0), or resubmitted after return (``revision`` > 0).

    v2: the project's ``programme`` (one of the programme's configured values: the Community Rehabilitation
    Programme in central Mali, the northern programme...; ``None`` on submissions recorded in v1), and its
    targets as counts: ``ex_combatants_target`` and ``women_target`` among ``direct_beneficiaries_target``
    (v1 had whole percents, which lose people when summed: see the upcaster).
    """

    name = "ddr.cvr.ProjectSubmitted"
    version = 2

    project_id: str
    partner_id: str
    partner_kind: PartnerKind
    ngo_ids: tuple[str, ...]  # the NGOs doing the work: the partner itself, or the consortium's members
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


def share_of(count: int, percent: Decimal | int) -> int:
    """``percent`` of ``count`` as a whole number of people, halves rounded up."""
    return int((Decimal(count) * Decimal(percent) / 100).to_integral_value(ROUND_HALF_UP))


@REGISTRY.upcaster(ProjectSubmitted.name, 1)
def _targets_as_counts(data: dict[str, Any]) -> dict[str, Any]:
    """v1 → v2: the percents of the direct beneficiaries target become counts; the programme is unknown."""
    upcast = dict(data)
    target = int(upcast["direct_beneficiaries_target"])
    upcast["ex_combatants_target"] = share_of(target, upcast.pop("ex_combatant_target_percent"))
    upcast["women_target"] = share_of(target, upcast.pop("women_target_percent"))
    upcast["programme"] = None
    return upcast


@event
class TechnicalAssessmentRecorded(DomainEvent):
    """The competent government agency's technical assessment (water, construction)."""

    name = "ddr.cvr.TechnicalAssessmentRecorded"
    version = 1

    project_id: str
    agency: str
    reference: str
    assessed_on: date
    favourable: bool
    conditions: tuple[str, ...] = ()


@event
class RiskAnalysisAttached(DomainEvent):
    """Political, fiduciary, legal and reputational risk where armed groups are active."""

    name = "ddr.cvr.RiskAnalysisAttached"
    version = 1

    project_id: str
    analysed_on: date
    political: RiskLevel
    fiduciary: RiskLevel
    legal: RiskLevel
    reputational: RiskLevel
    mitigation: str


@event
class CommitteeDecided(DomainEvent):
    """A committee's decision on a project: who sat, what it decided, on which conditions.

    ``local_review`` also records the human-rights vetting of the participants. ``cleared`` by the national
    appraisal committee approves the project (see :class:`ProjectApproved`).
    """

    name = "ddr.cvr.CommitteeDecided"
    version = 1

    project_id: str
    committee: Committee
    revision: int
    decided_on: date
    members_present: tuple[str, ...]
    outcome: DecisionOutcome
    conditions: tuple[str, ...] = ()
    human_rights_vetting: VettingOutcome = "not_applicable"
    reason: str = ""


@event
class ProjectApproved(DomainEvent):
    """The national appraisal committee cleared the project: it counts in the programme from ``approved_on``."""

    name = "ddr.cvr.ProjectApproved"
    version = 1

    project_id: str
    partner_id: str
    approved_on: date
    budget_usd: Decimal


@event
class BeneficiaryCountsRecorded(DomainEvent):
    """The project's beneficiary counts as of ``counted_on`` (they replace the previous counts)."""

    name = "ddr.cvr.BeneficiaryCountsRecorded"
    version = 1

    project_id: str
    counted_on: date
    direct: int
    direct_women: int
    indirect: int
    indirect_women: int
    source: CountSource


@event
class TranchePaid(DomainEvent):
    name = "ddr.cvr.TranchePaid"
    version = 1

    project_id: str
    partner_id: str
    tranche: int
    amount: Decimal
    currency: str
    paid_on: date


@event
class ProgressReported(DomainEvent):
    name = "ddr.cvr.ProgressReported"
    version = 1

    project_id: str
    reported_on: date
    percent_complete: int
    summary: str


@event
class ProjectCompleted(DomainEvent):
    name = "ddr.cvr.ProjectCompleted"
    version = 1

    project_id: str
    completed_on: date


@event
class ProjectHandedOver(DomainEvent):
    name = "ddr.cvr.ProjectHandedOver"
    version = 1

    project_id: str
    handed_over_on: date
    handed_over_to: str  # the community body (village council, water users' association...)


class CollectedItem(BaseModel):
    """A weapon or a lot of ammunition collected by the project's WAM component."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["weapon", "ammunition"]
    type: str
    calibre: str
    serial: str | None = None
    quantity: int
    condition: str


@event
class WamItemsCollected(DomainEvent):
    """Weapons and ammunition collected in a WAM component, for the weapons register to take over."""

    name = "ddr.cvr.WamItemsCollected"
    version = 1

    project_id: str
    collection_id: str
    collected_on: date
    region: str
    cercle: str
    custodian: str
    items: tuple[CollectedItem, ...]


@event
class MonitoringVisitRecorded(DomainEvent):
    """The visit due one year after completion. Where insecurity prevents it (``remote_insecure``), the
    partner's report and the beneficiaries' testimony stand in, recorded as such."""

    name = "ddr.cvr.MonitoringVisitRecorded"
    version = 1

    project_id: str
    visit_kind: VisitKind
    visited_on: date
    findings: str
    insecurity_reason: str | None = None
    partner_report_reference: str | None = None
    testimonies: int = 0


# -- participants ----------------------------------------------------------------------------------------


@event
class ParticipantEnrolled(DomainEvent):
    """Subject: the participant id. ``person_id`` only for an ex-combatant: their registration id."""

    name = "ddr.cvr.ParticipantEnrolled"
    version = 1

    participant_id: str
    project_id: str
    partner_id: str
    category: ParticipantCategory
    sex: Sex
    birth_year: int | None = None
    person_id: str | None = None
    enrolled_on: date
    full_name: Annotated[str | None, PERSONAL]
    telephone: Annotated[str | None, PERSONAL]


@event
class ParticipantWithdrawn(DomainEvent):
    """Subject: the participant id. v2: ``reason`` is personal (a withdrawal's reason says things about the
    person: illness, a move, a threat), sealed under the participant's key; v1 stored it in clear, and its
    upcaster drops it, so the old text is never shown again."""

    name = "ddr.cvr.ParticipantWithdrawn"
    version = 2

    participant_id: str
    project_id: str
    person_id: str | None = None  # the ex-combatant's registration id, as on enrolment
    withdrawn_on: date
    reason: Annotated[str | None, PERSONAL]


@REGISTRY.upcaster("ddr.cvr.ParticipantWithdrawn", 1)
def _withdrawal_reason_dropped(data: dict[str, Any]) -> dict[str, Any]:
    """v1 -> v2: the reason was stored in clear; it is dropped rather than shown again."""
    return {**data, "reason": None}


@event
class ParticipantDataErased(DomainEvent):
    """Subject: the participant id. The participant's personal data is destroyed (their key is shredded):
    their name, telephone and withdrawal reason read ``None`` from now on. ``person_id``: the registration
    person whose erasure reached this participant (an ex-combatant's record, or one merged into it); absent
    when CVR erased a participant of its own (a community member)."""

    name = "ddr.cvr.ParticipantDataErased"
    version = 1

    participant_id: str
    project_id: str
    person_id: str | None = None
    reason_code: str


# -- what CVR learnt from registration ----------------------------------------------------------------------


@event
class PersonRegistrationNoted(DomainEvent):
    """Registration announced this person (pre-registered or registered): CVR may link an ex-combatant
    participant to them. Subject: the person id. Recorded once per person, whatever registration repeats."""

    name = "ddr.cvr.PersonRegistrationNoted"
    version = 1

    registered_person_id: str
    noted_from: Literal["PersonPreRegistered", "PersonRegistered"]


@event
class PersonChildNoted(DomainEvent):
    """The person is, or may be, a child (under 18 when registration listed them, a birth year alone counting
    as 31 December; or identified as one at screening): CVR never links a participant to them, and answers
    as if no such person were registered. Subject: the person id. ``noted_from`` names what said so."""

    name = "ddr.cvr.PersonChildNoted"
    version = 1

    registered_person_id: str
    noted_from: Literal["PersonPreRegistered", "ChildIdentified"]


@event
class PersonMergeNoted(DomainEvent):
    """Registration merged this person's record into another's: a link to them goes to the survivor."""

    name = "ddr.cvr.PersonMergeNoted"
    version = 1

    registered_person_id: str
    into_person_id: str
