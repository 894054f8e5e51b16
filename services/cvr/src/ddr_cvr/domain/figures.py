"""What the programme's CVR report is asked for: the grouping, the filters, and the report's own periods."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ddr_runtime.kernel import RuleViolated

GroupBy = Literal["year", "programme", "region", "cercle", "project_type", "partner_id"]


@dataclass(frozen=True)
class ReportFilter:
    programmes: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    cercles: tuple[str, ...] = ()
    project_types: tuple[str, ...] = ()
    from_year: int | None = None
    to_year: int | None = None
    within_regions: frozenset[str] | None = None
    """The caller's remit (its ``regions`` claim), whatever the query asks; None: every region."""


@dataclass(frozen=True)
class Period:
    """An inclusive range of approval years, labelled as asked (``2013-2015``)."""

    label: str
    first: int
    last: int


def parse_periods(text: str) -> list[Period]:
    """``2013-2015,2021-2022,2019`` → labelled inclusive year ranges (they may overlap, as the report's do)."""
    periods = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        start, _, end = part.partition("-")
        if not start.isdigit() or (end and not end.isdigit()):
            raise RuleViolated(
                "periods", f"period {part!r} is not YEAR or YEAR-YEAR", figures={"field": "periods"}
            )
        first, last = int(start), int(end or start)
        if first > last:
            raise RuleViolated(
                "periods", f"period {part!r} ends before it starts", figures={"field": "periods"}
            )
        periods.append(Period(part, first, last))
    return periods
