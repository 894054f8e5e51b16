"""``/reports``: the programme's figures (aggregates only, for donors too) and overdue monitoring visits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query

from ddr_cvr.domain.figures import GroupBy, ReportFilter, parse_periods
from ddr_cvr.entrypoints.dependencies import Reads
from ddr_cvr.entrypoints.roles import FigureReader, Monitor

router = APIRouter(tags=["reports"])
Values = Annotated[list[str] | None, Query()]


def _today() -> date:
    return datetime.now(UTC).date()


@router.get("/reports/projects")
async def projects_report(
    principal: FigureReader,
    reads: Reads,
    group_by: GroupBy = "year",
    as_of: date | None = None,
    periods: Annotated[str | None, Query(max_length=500, description="e.g. 2013-2015,2021-2022")] = None,
    programme: Values = None,
    region: Values = None,
    cercle: Values = None,
    project_type: Values = None,
    from_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    to_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
) -> dict[str, Any]:
    """Projects, NGOs, USD amounts, targets and beneficiaries (with women) per group, as of ``as_of``
    (default: today), with a total; ``periods`` makes the rows year ranges, as in the report's own table.
    Business dates decide: a project counts from the day it was approved, a count from the day it was made.
    A caller narrowed to regions (its token's ``regions``) sees those regions' projects only, whatever
    ``region`` asks. Participants linked to a child count for child protection only."""
    report_filter = ReportFilter(
        programmes=tuple(programme or ()),
        regions=tuple(region or ()),
        cercles=tuple(cercle or ()),
        project_types=tuple(project_type or ()),
        from_year=from_year,
        to_year=to_year,
        within_regions=principal.regions or None,
    )
    chosen = parse_periods(periods) if periods else None
    return await reads.programme_report(principal, group_by, as_of or _today(), report_filter, chosen)


@router.get("/monitoring/overdue-visits")
async def overdue_visits(principal: Monitor, reads: Reads, as_of: date | None = None) -> list[dict[str, Any]]:
    """Completed projects without a monitoring visit a year (the policy's days) after their completion date."""
    return await reads.overdue_visits(principal, as_of or _today())
