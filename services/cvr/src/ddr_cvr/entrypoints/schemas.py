"""Request bodies of the CVR API (responses are the read side's plain records), and the domain commands
they make."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from ddr_cvr.domain import terms
from ddr_cvr.domain.projects import ProjectDraft
from ddr_cvr.domain.terms import (
    CapacityRating,
    Committee,
    CountSource,
    DecisionOutcome,
    ParticipantCategory,
    ProjectType,
    RiskLevel,
    Sex,
    VettingOutcome,
    VisitKind,
)

Name = Field(min_length=1, max_length=200)
Identifier = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NgoCreate(Body):
    partner_id: str = Identifier
    display_name: str = Name
    regions: tuple[str, ...] = ()
    registered_on: date


class ConsortiumCreate(Body):
    partner_id: str = Identifier
    display_name: str = Name
    lead_partner_id: str = Field(min_length=1, max_length=64)
    member_partner_ids: tuple[str, ...] = Field(min_length=2, max_length=3)
    regions: tuple[str, ...] = ()
    registered_on: date


class CapacityAssessment(Body):
    assessed_on: date
    rating: CapacityRating
    financial_management: CapacityRating
    staff_count: int = Field(ge=0, le=100_000)
    assessor: str = Name
    notes: str = Field(default="", max_length=4000)


Percent = Field(default=None, ge=0, le=100, max_digits=5, decimal_places=2)
Count = Field(default=None, ge=0, le=10_000_000)


class ProjectProposal(Body):
    """Targets are counts among ``direct_beneficiaries_target``; a percent may be given instead of a count
    (it is turned into one), and the programme's default percent applies when neither is."""

    title: str = Field(min_length=1, max_length=300)
    project_type: ProjectType
    programme: str = Field(
        min_length=1,
        max_length=60,
        pattern=r"^[a-z0-9_-]+$",
        description="one of the programme's configured values (GET /programmes): crp, northern...",
    )
    region: str = Field(min_length=1, max_length=100)
    cercle: str = Field(min_length=1, max_length=100)
    commune: str = Field(min_length=1, max_length=100)
    location: str = Field(min_length=1, max_length=300)
    budget: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    usd_rate: Decimal | None = Field(default=None, gt=0, max_digits=18, decimal_places=10)
    duration_months: int = Field(ge=1, le=120)
    planned_start: date
    armed_groups_active: bool
    direct_beneficiaries_target: int = Field(ge=0, le=10_000_000)
    ex_combatants_target: int | None = Count
    women_target: int | None = Count
    ex_combatant_target_percent: Decimal | None = Percent
    women_target_percent: Decimal | None = Percent

    @field_validator("ex_combatant_target_percent", "women_target_percent")
    @classmethod
    def _count_or_percent(cls, percent: Decimal | None, info: ValidationInfo) -> Decimal | None:
        count = "ex_combatants_target" if info.field_name == "ex_combatant_target_percent" else "women_target"
        if percent is not None and info.data.get(count) is not None:
            raise ValueError(f"give {count} or {info.field_name}, not both")
        return percent

    def draft(self) -> ProjectDraft:
        fields = self.model_dump(exclude={"project_id", "partner_id", "submitted_on"})
        return ProjectDraft(**fields)


class ProjectCreate(ProjectProposal):
    project_id: str | None = Field(default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    partner_id: str | None = Field(default=None, min_length=1, max_length=64)
    submitted_on: date


class ProjectResubmission(ProjectProposal):
    submitted_on: date


class TechnicalAssessment(Body):
    agency: str = Name
    reference: str = Name
    assessed_on: date
    favourable: bool
    conditions: tuple[str, ...] = ()


class RiskAnalysisBody(Body):
    analysed_on: date
    political: RiskLevel
    fiduciary: RiskLevel
    legal: RiskLevel
    reputational: RiskLevel
    mitigation: str = Field(min_length=1, max_length=4000)


class CommitteeDecision(Body):
    committee: Committee
    decided_on: date
    members_present: tuple[str, ...] = Field(min_length=1, max_length=50)
    outcome: DecisionOutcome
    conditions: tuple[str, ...] = ()
    human_rights_vetting: VettingOutcome = "not_applicable"
    reason: str = Field(default="", max_length=4000)


class BeneficiaryCounts(Body):
    counted_on: date
    direct: int = Field(ge=0, le=10_000_000)
    direct_women: int = Field(ge=0, le=10_000_000)
    indirect: int = Field(default=0, ge=0, le=100_000_000)
    indirect_women: int = Field(default=0, ge=0, le=100_000_000)
    source: CountSource = "partner_report"


class Tranche(Body):
    amount: Decimal = Field(gt=0, max_digits=14, decimal_places=2)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    paid_on: date


class Progress(Body):
    reported_on: date
    percent_complete: int = Field(ge=0, le=100)
    summary: str = Field(min_length=1, max_length=4000)


class Completion(Body):
    completed_on: date


class HandOver(Body):
    handed_over_on: date
    handed_over_to: str = Name


class CollectedItem(Body):
    kind: Literal["weapon", "ammunition"]
    type: str = Field(min_length=1, max_length=200)
    calibre: str = Field(max_length=60)
    serial: str | None = Field(default=None, max_length=100)
    quantity: int = Field(ge=1, le=1_000_000)
    condition: str = Field(max_length=200)


class WamCollection(Body):
    collected_on: date
    custodian: str = Name
    items: tuple[CollectedItem, ...] = Field(min_length=1, max_length=1000)

    def collected(self) -> tuple[terms.CollectedItem, ...]:
        return tuple(terms.CollectedItem(**item.model_dump()) for item in self.items)


class MonitoringVisit(Body):
    visit_kind: VisitKind
    visited_on: date
    findings: str = Field(min_length=1, max_length=8000)
    insecurity_reason: str | None = Field(default=None, max_length=2000)
    partner_report_reference: str | None = Field(default=None, max_length=200)
    testimonies: int = Field(default=0, ge=0, le=100_000)


class ParticipantCreate(Body):
    participant_id: str | None = Field(
        default=None, min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$"
    )
    category: ParticipantCategory
    sex: Sex
    enrolled_on: date
    birth_year: int | None = Field(default=None, ge=1900, le=2100)
    person_id: str | None = Field(default=None, min_length=1, max_length=64)
    full_name: str | None = Field(default=None, min_length=1, max_length=200)
    telephone: str | None = Field(default=None, min_length=3, max_length=40)


class ParticipantBatch(Body):
    participants: tuple[ParticipantCreate, ...] = Field(min_length=1, max_length=5000)


class Withdrawal(Body):
    withdrawn_on: date
    reason: str = Field(min_length=1, max_length=2000)
