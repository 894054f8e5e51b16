"""Quotas of integration places (stream ``quotas``): per movement (or all movements) and period, set and
changed by decisions, and the places the accepted candidates hold.

Every quota covering an acceptance must have room; the most specific is the one recorded on the candidate.
All quotas are one aggregate because an acceptance counts against several at once (a movement's own and the
programme-wide offer): its stream version orders every place taken, so two acceptances decided on the same
figures never share the last place. Places taken by one decision are recorded once per quota and day
(:class:`QuotaPlacesTaken` lists the candidates), which keeps the stream short when a batch is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from ddr_integration.domain.events import (
    QuotaChanged,
    QuotaPlacesReleased,
    QuotaPlacesTaken,
    QuotaSet,
)
from ddr_integration.domain.timing import Clock
from ddr_runtime.kernel import Aggregate, AlreadyDone, Change, LimitReached, RuleViolated, UnknownRecord

QUOTAS_STREAM = "quotas"
QuotaEvent = QuotaSet | QuotaChanged | QuotaPlacesTaken | QuotaPlacesReleased


@dataclass
class Quota:
    quota_id: str
    movement: str | None  # None: the quota counts every movement's candidates
    period_start: date
    period_end: date
    limit: int
    decided_at: datetime | None = None
    holders: dict[str, date] = field(default_factory=dict)  # person id -> the day they took their place

    @property
    def used(self) -> int:
        return len(self.holders)

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)

    def covers(self, movement: str, on: date) -> bool:
        return (
            self.movement is None or self.movement == movement
        ) and self.period_start <= on <= self.period_end


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


class QuotaBook(Aggregate[QuotaEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.quotas: dict[str, Quota] = {}
        self._reserved: dict[tuple[str, date], list[str]] = {}
        self._reserved_at: dict[tuple[str, date], datetime] = {}

    # -- decisions ------------------------------------------------------------------------------------------

    def set_quota(self, decision: QuotaSet, at: datetime) -> None:
        validate_quota(decision.period_start, decision.period_end, decision.limit)
        if decision.quota_id in self.quotas:
            raise AlreadyDone("quota_exists", f"quota {decision.quota_id} already exists")
        self.record(decision, at=at, subject=decision.quota_id)

    def change(
        self, quota_id: str, limit: int, decision_ref: str, reason: str, on: date | None, clock: Clock
    ) -> None:
        quota = self.quota(quota_id)
        if limit < 0:
            raise RuleViolated("quota_limit", "a quota's limit cannot be negative")
        at = clock.moment(on, after=quota.decided_at, after_what="the decision that set the quota")
        event = QuotaChanged(quota_id, quota.limit, limit, decision_ref, reason, at.date())
        self.record(event, at=at, subject=quota_id)

    def quota(self, quota_id: str) -> Quota:
        found = self.quotas.get(quota_id)
        if found is None:
            raise UnknownRecord("quota", quota_id)
        return found

    # -- places ---------------------------------------------------------------------------------------------

    def used(self, quota: Quota) -> int:
        """Places held, with those reserved by the decision being taken."""
        return quota.used + sum(len(ids) for (qid, _), ids in self._reserved.items() if qid == quota.quota_id)

    def room_for(self, movement: str, on: date) -> tuple[list[Quota], Quota]:
        """The quotas an acceptance on ``on`` counts against and the one recorded; refused, with the figures,
        when none is open or one is full."""
        applicable = quotas_for(self.quotas.values(), movement, on)
        if not applicable:
            raise LimitReached(
                "no_quota_open",
                f"no integration quota is open for {movement} on {on.isoformat()}",
                figures={"movement": movement, "on": on.isoformat()},
            )
        for quota in applicable:
            used = self.used(quota)
            if used >= quota.limit:
                raise LimitReached(
                    "quota_exhausted",
                    f"quota {quota.quota_id} is exhausted: {used} of {quota.limit} places used",
                    figures={"quota_id": quota.quota_id, "used": used, "limit": quota.limit},
                )
        return applicable, applicable[0]

    def reserve(self, applicable: Iterable[Quota], person_id: str, at: datetime) -> None:
        """Take a place in each quota for ``person_id``: recorded with the decision's other places when the
        book is saved (one record per quota and day)."""
        for quota in applicable:
            key = (quota.quota_id, at.date())
            self._reserved.setdefault(key, []).append(person_id)
            self._reserved_at[key] = max(at, self._reserved_at.get(key, at))

    def release(self, person_id: str, at: datetime) -> None:
        """Give back every place ``person_id`` holds."""
        for quota in self.quotas.values():
            if person_id in quota.holders:
                self.record(
                    QuotaPlacesReleased(quota.quota_id, (person_id,), at.date()),
                    at=at,
                    subject=quota.quota_id,
                )

    def take_pending(self) -> list[Change[QuotaEvent]]:
        reserved, times = self._reserved, self._reserved_at
        self._reserved, self._reserved_at = {}, {}
        for (quota_id, on), person_ids in reserved.items():
            self.record(
                QuotaPlacesTaken(quota_id, tuple(person_ids), on), at=times[(quota_id, on)], subject=quota_id
            )
        return super().take_pending()

    # -- state ----------------------------------------------------------------------------------------------

    def apply(self, event: QuotaEvent) -> None:
        if isinstance(event, QuotaSet):
            self.quotas[event.quota_id] = Quota(
                event.quota_id, event.movement, event.period_start, event.period_end, event.limit, self.at
            )
        elif isinstance(event, QuotaChanged):
            self.quotas[event.quota_id].limit = event.limit
        elif isinstance(event, QuotaPlacesTaken):
            holders = self.quotas[event.quota_id].holders
            holders.update(dict.fromkeys(event.person_ids, event.effective_on))
        else:
            holders = self.quotas[event.quota_id].holders
            for person_id in event.person_ids:
                holders.pop(person_id, None)
