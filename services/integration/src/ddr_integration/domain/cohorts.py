"""Training cohorts (stream ``cohort-<id>``): a camp, a capacity (Kati: 250 at once), a length in days.

A cohort lasting ``duration_days`` from ``starts_on`` ends on ``ends_on``, its last day (day ``duration_days``):
outcomes may be recorded from that day. The cohort's seats are its own record (:class:`CohortSeatsTaken`,
:class:`CohortSeatsFreed`, one per decision), written with its trainees' enrolments, so two enrolments
decided on the same figures never overfill it; who the trainees are is on their own records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from ddr_integration.domain.events import CohortOpened, CohortSeatsFreed, CohortSeatsTaken
from ddr_runtime.kernel import Aggregate, AlreadyDone, Change, LimitReached, RuleViolated

CohortEvent = CohortOpened | CohortSeatsTaken | CohortSeatsFreed
OUTCOMES = ("completed", "failed", "absent")
THREE_MONTHS = 91
"""The report's three-month cohorts at Kati ran 91 days."""


def cohort_stream(cohort_id: str) -> str:
    return f"cohort-{cohort_id}"


@dataclass(frozen=True)
class CohortPlan:
    cohort_id: str
    camp: str
    capacity: int
    starts_on: date
    duration_days: int

    @property
    def ends_on(self) -> date:
        """The last day of training (day ``duration_days``, counting ``starts_on`` as day 1)."""
        return self.starts_on + timedelta(days=self.duration_days - 1)


class Cohort(Aggregate[CohortEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.cohort_id = ""
        self.camp = ""
        self.capacity = 0
        self.starts_on = date.min
        self.ends_on = date.min
        self.enrolled = 0
        self._reserved = 0
        self._reserved_at: datetime | None = None

    def open(self, plan: CohortPlan, at: datetime) -> None:
        if self.version:
            raise AlreadyDone("cohort_exists", f"cohort {plan.cohort_id} already exists")
        if plan.capacity < 1:
            raise RuleViolated("cohort_capacity", "a cohort's capacity is at least 1")
        if plan.duration_days < 1:
            raise RuleViolated("cohort_duration", "a cohort lasts at least one day")
        self.record(
            CohortOpened(plan.cohort_id, plan.camp, plan.capacity, plan.starts_on, plan.ends_on),
            at=at,
            subject=plan.cohort_id,
        )

    @property
    def seats_taken(self) -> int:
        return self.enrolled + self._reserved

    def reserve_seat(self, on: date, at: datetime) -> None:
        """A seat for one trainee enrolled on ``on``: refused once the cohort is full or its training over."""
        if on > self.ends_on:
            raise RuleViolated(
                "enrolment_date",
                "the cohort's training is over",
                figures={"ends_on": self.ends_on.isoformat()},
            )
        if self.seats_taken >= self.capacity:
            raise LimitReached(
                "cohort_full",
                f"cohort {self.cohort_id} at {self.camp} is full: {self.seats_taken} of {self.capacity}",
                figures={
                    "cohort_id": self.cohort_id,
                    "enrolled": self.seats_taken,
                    "capacity": self.capacity,
                },
            )
        self._reserved += 1
        self._reserved_at = max(at, self._reserved_at or at)

    def free_seat(self, at: datetime) -> None:
        self.record(CohortSeatsFreed(self.cohort_id, 1, at.date()), at=at, subject=self.cohort_id)

    def ensure_outcome_date(self, outcome: str, on: date) -> None:
        if outcome not in OUTCOMES:
            raise RuleViolated("outcome", f"a training outcome is one of {', '.join(OUTCOMES)}")
        if on < self.starts_on:
            raise RuleViolated(
                "training_date",
                "a training outcome cannot predate the cohort's start",
                figures={"starts_on": self.starts_on.isoformat()},
            )
        if outcome == "completed" and on < self.ends_on:
            raise RuleViolated(
                "training_not_over",
                f"the cohort's training ends on {self.ends_on.isoformat()}",
                figures={"ends_on": self.ends_on.isoformat(), "on": on.isoformat()},
            )

    def take_pending(self) -> list[Change[CohortEvent]]:
        if self._reserved and self._reserved_at is not None:
            seats, at = self._reserved, self._reserved_at
            self._reserved, self._reserved_at = 0, None
            self.record(CohortSeatsTaken(self.cohort_id, seats, at.date()), at=at, subject=self.cohort_id)
        return super().take_pending()

    def apply(self, event: CohortEvent) -> None:
        if isinstance(event, CohortOpened):
            self.cohort_id, self.camp, self.capacity = event.cohort_id, event.camp, event.capacity
            self.starts_on, self.ends_on = event.starts_on, event.ends_on
        elif isinstance(event, CohortSeatsTaken):
            self.enrolled += event.seats
        else:
            self.enrolled -= event.seats
