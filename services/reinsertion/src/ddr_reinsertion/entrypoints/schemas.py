"""Request and response bodies of the reinsertion API."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_AMOUNT = 10**14  # currency units; far above any budget, and its thousandths fit a 64-bit column
Amount = Annotated[Decimal, Field(ge=0, le=MAX_AMOUNT, max_digits=20, decimal_places=3)]
"""Money: a decimal amount of the currency (a JSON number or string), never a float."""
PositiveAmount = Annotated[Decimal, Field(gt=0, le=MAX_AMOUNT, max_digits=20, decimal_places=3)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RoundCreate(Body):
    round_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")
    title: str = Field(min_length=1, max_length=200)
    regions: list[str] = Field(min_length=1, max_length=30)
    size_per_region: int = Field(gt=0, le=100_000)
    opened_on: date


class VolunteerIn(Body):
    person_id: str = Field(min_length=1, max_length=80)
    region: str = Field(min_length=1, max_length=80)
    sex: Literal["F", "M"]
    category: str = Field(min_length=1, max_length=40)
    movement: str = Field(min_length=1, max_length=40)
    rank: str = Field(default="", max_length=40)


class VolunteersIn(Body):
    listed_on: date
    volunteers: list[VolunteerIn] = Field(min_length=1, max_length=5000)


class TrancheIn(Body):
    """A tranche as an ``amount`` of the package's currency, or (a convenience) a ``share_percent``."""

    number: int = Field(ge=1)
    amount: PositiveAmount | None = None
    share_percent: Annotated[Decimal, Field(gt=0, le=100, max_digits=7, decimal_places=4)] | None = None
    due_after_days: int = Field(ge=0, le=3650)
    condition: Literal["training_attended", "follow_up_visit"] | None = None


class PackageIn(Body):
    package_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")
    kind: Literal[
        "vocational_training",
        "income_generating_activity",
        "agriculture",
        "livestock",
        "small_trade",
        "transport",
        "education",
    ]
    title: str = Field(min_length=1, max_length=200)
    caseloads: list[Literal["ex_combatant", "faga"]] = Field(min_length=1)
    currency: str = Field(min_length=3, max_length=3)
    base_amount: PositiveAmount
    category_supplements: dict[str, Amount] = Field(default_factory=dict)
    rank_supplements: dict[str, Amount] = Field(default_factory=dict)
    per_dependant_amount: Amount = Decimal(0)
    max_dependants: int = Field(default=0, ge=0, le=30)
    tranches: list[TrancheIn] = Field(min_length=1, max_length=12)
    follow_up_after_days: list[int] = Field(default_factory=list, max_length=12)
    effective_on: date


class BudgetLineCreate(Body):
    line_id: str = Field(min_length=1, max_length=80, pattern=r"^[A-Za-z0-9._-]+$")
    funding_source: str = Field(min_length=1, max_length=120)
    title: str = Field(min_length=1, max_length=200)
    currency: str = Field(min_length=3, max_length=3)
    allotted: PositiveAmount
    opened_on: date


class FundsIn(Body):
    amount: PositiveAmount
    reference: str = Field(min_length=1, max_length=120)
    received_on: date


class EnrolmentIn(Body):
    package_id: str = Field(min_length=1, max_length=80)
    package_version: int | None = Field(default=None, ge=1)
    line_id: str = Field(min_length=1, max_length=80)
    skills: list[str] = Field(default_factory=list, max_length=20)
    literacy: Literal["none", "basic", "functional", "fluent"]
    area_of_return: str = Field(min_length=1, max_length=200)
    dependants: int = Field(default=0, ge=0, le=50)
    enrolled_on: date


class BatchEnrolmentIn(EnrolmentIn):
    person_id: str = Field(min_length=1, max_length=80)


class BatchEnrolments(Body):
    enrolments: list[BatchEnrolmentIn] = Field(min_length=1, max_length=2000)


class DisbursementIn(Body):
    request_id: str = Field(min_length=8, max_length=80)
    person_id: str = Field(min_length=1, max_length=80)
    tranche: int = Field(ge=1)
    office: str = Field(min_length=1, max_length=80)
    paid_on: date


class BatchDisbursements(Body):
    disbursements: list[DisbursementIn] = Field(min_length=1, max_length=2000)


class TrainingIn(Body):
    provider: str = Field(min_length=1, max_length=200)
    attended_on: date


class VisitIn(Body):
    visit_id: str = Field(min_length=1, max_length=80)
    outcome: Literal["business_running", "employed", "dropped_out", "relocated", "not_found"]
    visited_on: date


class ExitIn(Body):
    reason: Literal["completed", "dropped_out", "withdrawn"]
    effective_on: date
