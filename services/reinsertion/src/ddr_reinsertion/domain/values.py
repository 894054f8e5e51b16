"""Values nested in the domain's events (not events themselves)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class TrancheTerms:
    """A package's tranche: an ``amount`` of its currency, or a ``share_percent`` of the entitlement."""

    number: int
    due_after_days: int
    amount: Decimal | None = None
    share_percent: Decimal | None = None
    condition: str | None = None


@dataclass(frozen=True)
class PlannedTranche:
    """A tranche of one beneficiary's timetable."""

    number: int
    amount: Decimal
    due_on: date
    condition: str | None = None
