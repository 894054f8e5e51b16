"""Quotas of integration places: per movement (or all movements) and period, set and changed by decisions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from ddr_integration.domain.errors import RuleViolated


@dataclass(frozen=True)
class Quota:
    quota_id: str
    movement: str | None  # None: the quota counts every movement's candidates
    period_start: date
    period_end: date
    limit: int
    used: int

    def covers(self, movement: str, on: date) -> bool:
        return (
            self.movement is None or self.movement == movement
        ) and self.period_start <= on <= self.period_end

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


def validate_quota(period_start: date, period_end: date, limit: int) -> None:
    if period_end < period_start:
        raise RuleViolated("quota_period", "a quota's period must end on or after its start")
    if limit < 0:
        raise RuleViolated("quota_limit", "a quota's limit cannot be negative")


def quotas_for(quotas: Iterable[Quota], movement: str, on: date) -> list[Quota]:
    """Every quota an acceptance of ``movement`` on ``on`` counts against, the most specific first
    (a movement's own quota before a programme-wide one; a shorter period before a longer one)."""
    covering = [q for q in quotas if q.covers(movement, on)]
    return sorted(covering, key=lambda q: (q.movement is None, q.period_end - q.period_start, q.quota_id))


def check_room(applicable: list[Quota], movement: str, on: date) -> Quota:
    """The quota the acceptance is recorded under; refuses with the figures when none is open or one is full."""
    if not applicable:
        raise RuleViolated(
            "no_quota_open",
            f"no integration quota is open for {movement} on {on.isoformat()}",
            {"movement": movement, "on": on.isoformat()},
            capacity=True,
        )
    for quota in applicable:
        if quota.used >= quota.limit:
            raise RuleViolated(
                "quota_exhausted",
                f"quota {quota.quota_id} is exhausted: {quota.used} of {quota.limit} places used",
                {"quota_id": quota.quota_id, "used": quota.used, "limit": quota.limit},
                capacity=True,
            )
    return applicable[0]
