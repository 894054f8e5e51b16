"""Training cohorts: a camp, a capacity (Kati: 250), a length (three months)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from ddr_integration.domain.errors import RuleViolated


@dataclass(frozen=True)
class Cohort:
    cohort_id: str
    camp: str
    capacity: int
    starts_on: date
    ends_on: date
    enrolled: int


def add_months(start: date, months: int) -> date:
    month = start.month - 1 + months
    year = start.year + month // 12
    month = month % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def validate_cohort(capacity: int, starts_on: date, ends_on: date) -> None:
    if capacity < 1:
        raise RuleViolated("cohort_capacity", "a cohort's capacity is at least 1")
    if ends_on <= starts_on:
        raise RuleViolated("cohort_dates", "a cohort ends after it starts")


def ensure_room(cohort: Cohort) -> None:
    if cohort.enrolled >= cohort.capacity:
        raise RuleViolated(
            "cohort_full",
            f"cohort {cohort.cohort_id} at {cohort.camp} is full: {cohort.enrolled} of {cohort.capacity}",
            {"cohort_id": cohort.cohort_id, "enrolled": cohort.enrolled, "capacity": cohort.capacity},
            capacity=True,
        )


def ensure_outcome_date(cohort: Cohort, outcome: str, on: date) -> None:
    if on < cohort.starts_on:
        raise RuleViolated("training_date", "a training outcome cannot predate the cohort's start")
    if outcome == "completed" and on < cohort.ends_on:
        raise RuleViolated(
            "training_not_over",
            f"the cohort's training ends on {cohort.ends_on.isoformat()}",
            {"ends_on": cohort.ends_on.isoformat()},
        )
