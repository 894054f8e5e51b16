"""Request bodies of the screening API (role-named, validated at the edge: a bad field is a 422 naming it)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ddr_screening.domain.values import AllegationStatus, MedicalResult, VettingStatus

Code = Field(min_length=1, max_length=60, pattern=r"^[a-z0-9_]+$")
Text = Field(default=None, max_length=4000)
Id = Field(min_length=1, max_length=36)
BULK_LIMIT = 5000


def business_time(what: str) -> Any:
    return Field(
        default=None,
        description=f"When {what}: a day (YYYY-MM-DD) or an instant; absent, now. Never in the future, never "
        "before the fact it depends on; older than the back-recording window only for a records officer "
        "with a Back-Recording-Reason.",
    )


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExaminationIn(Body):
    result: MedicalResult
    details: str | None = Text
    examined_on: date | datetime | None = business_time("the person was examined")


class BulkExaminationItem(ExaminationIn):
    person_id: str = Id


class BulkExaminations(Body):
    items: list[BulkExaminationItem] = Field(min_length=1, max_length=BULK_LIMIT)


class ReExaminationRequestIn(Body):
    reason: str | None = Text
    requested_on: date | datetime | None = business_time("the re-examination was requested")


class AgeAssessmentIn(Body):
    method: Literal["document", "medical", "interview", "challenge"]
    youngest_age: int | None = Field(default=None, ge=0, le=120)
    document_issued_on: date | None = None
    documented_age: int | None = Field(default=None, ge=0, le=120)
    note: str | None = Text
    assessed_on: date | datetime | None = business_time("the age was assessed")


class BulkAgeAssessmentItem(AgeAssessmentIn):
    person_id: str = Id


class BulkAgeAssessments(Body):
    items: list[BulkAgeAssessmentItem] = Field(min_length=1, max_length=BULK_LIMIT)


class HandoverIn(Body):
    receiving_actor: str = Field(min_length=1, max_length=200)
    handed_over_at: date | datetime | None = business_time("the child was handed over")
    note: str | None = Text


class VettingDecisionIn(Body):
    status: VettingStatus
    reason_code: str = Code
    reason: str | None = Text
    decided_on: date | datetime | None = business_time("the vetting was decided")


class MembershipDecisionIn(Body):
    verified: bool
    reason_code: str = Code
    reason: str | None = Text
    decided_on: date | datetime | None = business_time("membership was decided")


class HandlingTestIn(Body):
    passed: bool
    tested_on: date | datetime | None = business_time("the weapon handling test was taken")


class BulkHandlingTestItem(HandlingTestIn):
    person_id: str = Id


class BulkHandlingTests(Body):
    items: list[BulkHandlingTestItem] = Field(min_length=1, max_length=BULK_LIMIT)


class ReinsertionChoiceIn(Body):
    chosen_on: date | datetime | None = business_time("the person chose reinsertion")


class AppealIn(Body):
    decision_id: str = Id
    reason: str | None = Text
    lodged_on: date | datetime | None = business_time("the appeal was lodged")


class AppealDecisionIn(Body):
    overturned: bool
    replacement: str | None = Field(default=None, max_length=20)
    reason: str | None = Text
    decided_on: date | datetime | None = business_time("the appeal was decided")


class RuleSetIn(Body):
    rule_version: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._-]+$")
    effective_from: date
    description: str = Field(min_length=1, max_length=2000)
    integration_categories: tuple[str, ...]
    reinsertion_categories: tuple[str, ...]
    cvr_movements: tuple[str, ...] = ()
    require_armed: bool = True
    require_verified_member: bool = True
    require_weapon_or_handling_test: bool = True
    reinsertion_choice_offered: bool = False


class VettingListEntryIn(Body):
    person_id: str = Id
    allegation_ref: str = Field(min_length=1, max_length=100)
    status: AllegationStatus


class VettingListIn(Body):
    source_ref: str = Field(min_length=1, max_length=200)
    entries: list[VettingListEntryIn] = Field(max_length=100_000)
