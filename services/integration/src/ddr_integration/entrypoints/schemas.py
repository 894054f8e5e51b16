"""Request bodies of the integration API (validated at the edge: a bad field is a 422 naming it)."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class QuotaCreate(Body):
    quota_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    movement: str | None = Field(default=None, max_length=40)
    period_start: date
    period_end: date
    limit: int = Field(ge=0, le=1_000_000)
    decision_ref: str = Field(min_length=1, max_length=120)
    reason: str = Field(min_length=1, max_length=500)


class QuotaDecisionBody(Body):
    limit: int = Field(ge=0, le=1_000_000)
    decision_ref: str = Field(min_length=1, max_length=120)
    reason: str = Field(min_length=1, max_length=500)
    effective_on: date


class AcceptBody(Body):
    effective_on: date


class RankRuleBody(Body):
    movement_ranks: list[str] = Field(default_factory=list, max_length=50)
    min_years: int = Field(ge=0, le=60)
    qualifications: list[
        Literal["none", "basic_military", "nco_course", "officer_school", "higher_education"]
    ] = Field(default_factory=list)
    rank: str = Field(min_length=1, max_length=60)
    command_function: str = Field(min_length=1, max_length=60)


class RankRulesBody(Body):
    rule_version: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.:-]+$")
    decree_ref: str = Field(min_length=1, max_length=200)
    effective_from: date
    rules: list[RankRuleBody] = Field(min_length=1, max_length=500)


class RankBody(Body):
    years_of_service: int = Field(ge=0, le=60)
    qualification: Literal["none", "basic_military", "nco_course", "officer_school", "higher_education"]
    effective_on: date


class RankEntryBody(Body):
    person_id: str
    years_of_service: int = Field(ge=0, le=60)
    qualification: Literal["none", "basic_military", "nco_course", "officer_school", "higher_education"]


class RankAllocationsBody(Body):
    """A list of allocations decided together (as an order listing many members does)."""

    entries: list[RankEntryBody] = Field(min_length=1, max_length=5000)
    effective_on: date


class DisputeBody(Body):
    claimed_rank: str = Field(min_length=1, max_length=60)
    claimed_command_function: str = Field(min_length=1, max_length=60)
    grounds_code: str = Field(min_length=1, max_length=60)
    effective_on: date


class DisputeDecisionBody(Body):
    outcome: Literal["upheld", "rejected"]
    decision_ref: str = Field(min_length=1, max_length=120)
    effective_on: date


class CohortCreate(Body):
    cohort_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    camp: str = Field(min_length=1, max_length=80)
    capacity: int = Field(ge=1, le=100_000)
    starts_on: date
    length_months: int = Field(default=3, ge=1, le=24)


class EnrolBody(Body):
    person_ids: list[str] = Field(min_length=1, max_length=5000)
    effective_on: date


class TrainingOutcomeBody(Body):
    person_id: str
    outcome: Literal["completed", "failed", "absent"]


class TrainingOutcomesBody(Body):
    outcomes: list[TrainingOutcomeBody] = Field(min_length=1, max_length=5000)
    effective_on: date


class UnitCreate(Body):
    unit_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    display_name: str = Field(min_length=1, max_length=200)
    kind: Literal["battalion", "company", "other"]
    location: str = Field(min_length=1, max_length=80)
    establishment: int = Field(ge=1, le=100_000)
    thirds_applies: bool = True
    tolerance: float = Field(default=0.02, ge=0, lt=0.66)


class ContingentBody(Body):
    strength: int = Field(ge=0, le=100_000)
    command_posts: int = Field(ge=0, le=100_000)
    effective_on: date


class AssignmentBody(Body):
    person_id: str
    command_post: bool | None = None


class AssignmentsBody(Body):
    assignments: list[AssignmentBody] = Field(min_length=1, max_length=5000)
    effective_on: date


class PlacementBody(Body):
    destination: str = Field(min_length=1, max_length=120)
    effective_on: date


class ServiceEntryBody(Body):
    person_id: str
    status: Literal["serving", "absent", "deserted", "returned", "discharged"]
    discharge_kind: Literal["medical", "voluntary", "disciplinary", "other"] | None = None
    referred_to_reinsertion: bool = False


class ServiceEntriesBody(Body):
    entries: list[ServiceEntryBody] = Field(min_length=1, max_length=5000)
    effective_on: date
