"""What a handler answers, item by item for the batch commands."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ddr_reinsertion.domain.catalogue import PlannedTranche


@dataclass(frozen=True)
class Refused:
    key: str
    rule: str
    detail: str
    conflict: bool = False  # it conflicts with what already happened (409) rather than breaking a rule (422)


@dataclass(frozen=True)
class Enrolled:
    person_id: str
    caseload: str
    commitment_id: str
    package_id: str
    package_version: int
    line_id: str
    currency: str
    amount: int
    tranches: tuple[PlannedTranche, ...]
    visits_due: tuple[date, ...]


@dataclass(frozen=True)
class Paid:
    request_id: str
    person_id: str
    tranche: int
    amount: int
    line_id: str
    disbursement_id: str
    office: str
    paid_on: date
    replayed: bool = False


@dataclass(frozen=True)
class Listed:
    person_id: str
    region: str
