"""Request and answer bodies of the integration API (validated at the edge: a bad field is a 422 naming it).

Every command that records something done on a given day takes that business date (``effective_on``, or a
date named for what happened: ``decided_on``, ``opened_on``, ``established_on``, ``published_on``); left out,
it is today. A date before the fact it depends on, or in the future, is refused with both dates.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ddr_integration.domain.cohorts import THREE_MONTHS
from ddr_runtime.http.writes import BulkAnswer

Qualification = Literal["none", "basic_military", "nco_course", "officer_school", "higher_education"]


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
    decided_on: date | None = Field(default=None, description="the day the decision was taken")


class QuotaDecisionBody(Body):
    limit: int = Field(ge=0, le=1_000_000)
    decision_ref: str = Field(min_length=1, max_length=120)
    reason: str = Field(min_length=1, max_length=500)
    effective_on: date | None = None


class AcceptBody(Body):
    effective_on: date | None = None


class RankRuleBody(Body):
    movement_ranks: list[str] = Field(default_factory=list, max_length=50)
    min_years: int = Field(ge=0, le=60)
    qualifications: list[Qualification] = Field(default_factory=list)
    rank: str = Field(min_length=1, max_length=60)
    command_function: str = Field(min_length=1, max_length=60)


class RankRulesBody(Body):
    rule_version: str = Field(min_length=1, max_length=60, pattern=r"^[A-Za-z0-9_.:-]+$")
    decree_ref: str = Field(min_length=1, max_length=200)
    effective_from: date
    rules: list[RankRuleBody] = Field(min_length=1, max_length=500)
    published_on: date | None = Field(default=None, description="the day the version was published")


class RankBody(Body):
    years_of_service: int = Field(ge=0, le=60)
    qualification: Qualification
    effective_on: date | None = None


class RankEntryBody(Body):
    person_id: str = Field(min_length=1, max_length=64)
    years_of_service: int = Field(ge=0, le=60)
    qualification: Qualification


class RankAllocationsBody(Body):
    """A list of allocations decided together (as an order listing many members does)."""

    entries: list[RankEntryBody] = Field(min_length=1, max_length=5000)
    effective_on: date | None = None


class DisputeBody(Body):
    claimed_rank: str = Field(min_length=1, max_length=60)
    claimed_command_function: str = Field(min_length=1, max_length=60)
    grounds_code: str = Field(min_length=1, max_length=60)
    effective_on: date | None = None


class DisputeDecisionBody(Body):
    outcome: Literal["upheld", "rejected"]
    decision_ref: str = Field(min_length=1, max_length=120)
    effective_on: date | None = None


class CohortCreate(Body):
    cohort_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    camp: str = Field(min_length=1, max_length=80)
    capacity: int = Field(ge=1, le=100_000)
    starts_on: date
    duration_days: int = Field(
        default=THREE_MONTHS, ge=1, le=730, description="days of training, counting the first as day 1"
    )
    opened_on: date | None = Field(default=None, description="the day the cohort was decided")


class EnrolBody(Body):
    person_ids: list[str] = Field(min_length=1, max_length=5000)
    effective_on: date | None = None


class TrainingOutcomeBody(Body):
    person_id: str = Field(min_length=1, max_length=64)
    outcome: Literal["completed", "failed", "absent"]


class TrainingOutcomesBody(Body):
    outcomes: list[TrainingOutcomeBody] = Field(min_length=1, max_length=5000)
    effective_on: date | None = None


class UnitCreate(Body):
    unit_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9_.:-]+$")
    display_name: str = Field(min_length=1, max_length=200)
    kind: Literal["battalion", "company", "other"]
    location: str = Field(min_length=1, max_length=80)
    establishment: int = Field(ge=1, le=100_000)
    thirds_applies: bool = True
    tolerance: float = Field(default=0.02, ge=0, lt=0.66)
    established_on: date | None = Field(default=None, description="the day the unit was established")


class ContingentBody(Body):
    strength: int = Field(ge=0, le=100_000)
    command_posts: int = Field(ge=0, le=100_000)
    effective_on: date | None = None


class AssignmentBody(Body):
    person_id: str = Field(min_length=1, max_length=64)
    command_post: bool | None = None


class AssignmentsBody(Body):
    assignments: list[AssignmentBody] = Field(min_length=1, max_length=5000)
    effective_on: date | None = None


class PlacementBody(Body):
    destination: str = Field(min_length=1, max_length=120)
    effective_on: date | None = None


class ServiceEntryBody(Body):
    person_id: str = Field(min_length=1, max_length=64)
    status: Literal["serving", "absent", "deserted", "returned", "discharged"]
    discharge_kind: Literal["medical", "voluntary", "disciplinary", "other"] | None = None
    referred_to_reinsertion: bool = False


class ServiceEntriesBody(Body):
    entries: list[ServiceEntryBody] = Field(min_length=1, max_length=5000)
    effective_on: date | None = None


class CohortAnswer(BulkAnswer):
    """Each item's outcome, and the cohort after the request."""

    cohort: dict[str, Any]


class AssignmentAnswer(BulkAnswer):
    """Each member's outcome, and the unit's composition after the decision, as of its date."""

    composition: dict[str, Any]
