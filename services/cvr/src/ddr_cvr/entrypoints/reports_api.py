"""``/reports``: the programme's figures (aggregates only, for donors too) and overdue monitoring visits."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ddr_cvr.service_layer import queries
from ddr_cvr.service_layer.reports import GroupBy, ReportFilter, parse_periods, programme_report
from ddr_cvr.service_layer.unit import Cvr
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role

FigureReader = Annotated[Principal, Depends(require_roles(Role.DONOR, Role.CNDDR_OFFICER, Role.AUDITOR))]
Monitor = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER, Role.AUDITOR))]


def _today() -> date:
    return datetime.now(UTC).date()


def reports_router(cvr: Cvr) -> APIRouter:
    router = APIRouter(tags=["reports"])

    @router.get("/reports/projects")
    async def projects_report(
        principal: FigureReader,
        group_by: GroupBy = "year",
        as_of: date | None = None,
        periods: Annotated[str | None, Query(max_length=500, description="e.g. 2013-2015,2021-2022")] = None,
        region: Annotated[list[str] | None, Query()] = None,
        cercle: Annotated[list[str] | None, Query()] = None,
        project_type: Annotated[list[str] | None, Query()] = None,
        from_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
        to_year: Annotated[int | None, Query(ge=1990, le=2100)] = None,
    ) -> dict[str, Any]:
        """Projects, NGOs, USD amounts and beneficiaries (with women) per group, as of ``as_of`` (default:
        today), with a total; ``periods`` makes the rows year ranges, as in the report's own table."""
        report_filter = ReportFilter(
            regions=tuple(region or ()),
            cercles=tuple(cercle or ()),
            project_types=tuple(project_type or ()),
            from_year=from_year,
            to_year=to_year,
        )
        return await programme_report(
            cvr, group_by, as_of or _today(), report_filter, parse_periods(periods) if periods else None
        )

    @router.get("/monitoring/overdue-visits")
    async def overdue_visits(principal: Monitor, as_of: date | None = None) -> list[dict[str, Any]]:
        return await queries.overdue_visits(cvr, principal, as_of or _today())

    return router
