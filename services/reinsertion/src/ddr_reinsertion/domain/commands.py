"""What callers ask the reinsertion service to do. Dates are business dates: when it happened."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class OpenRound:
    round_id: str
    title: str
    regions: tuple[str, ...]
    size_per_region: int
    opened_on: date


@dataclass(frozen=True)
class Volunteer:
    person_id: str
    region: str
    sex: str
    category: str
    movement: str
    rank: str


@dataclass(frozen=True)
class OpenBudgetLine:
    line_id: str
    funding_source: str
    title: str
    currency: str
    allotted: Decimal
    opened_on: date


@dataclass(frozen=True)
class ReceiveFunds:
    line_id: str
    amount: Decimal
    reference: str
    received_on: date


@dataclass(frozen=True)
class Enrol:
    """Counselling and choice: the profile of the person and the package they chose, on one budget line."""

    person_id: str
    package_id: str
    package_version: int | None  # None: the version in force on ``enrolled_on``
    line_id: str
    skills: tuple[str, ...]
    literacy: str
    area_of_return: str
    dependants: int
    enrolled_on: date


@dataclass(frozen=True)
class Disburse:
    request_id: str  # the payment request's own id: a retried or redelivered request pays once
    person_id: str
    tranche: int
    office: str
    paid_on: date


@dataclass(frozen=True)
class RecordTraining:
    person_id: str
    provider: str
    attended_on: date


@dataclass(frozen=True)
class RecordVisit:
    person_id: str
    visit_id: str
    outcome: str
    visited_on: date


@dataclass(frozen=True)
class EndParticipation:
    person_id: str
    reason: str  # completed, dropped_out, withdrawn
    effective_on: date
