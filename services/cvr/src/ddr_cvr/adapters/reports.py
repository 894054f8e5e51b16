"""The programme's CVR figures as the report tabulates them: projects, NGOs, amounts, targets and beneficiaries
(with women) by year, programme, region, cercle, type or partner, as of any date.

One grouped sum over ``cvr_figures`` (a few dated rows per project, kept by the projection), joined to the
projects for the grouping: its cost follows the number of projects, not of participants or events.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import KeyedColumnElement

from ddr_cvr.adapters.tables import FIGURE_COLUMNS, figures, project_ngos, projects
from ddr_cvr.domain.figures import GroupBy, Period, ReportFilter

DIMENSIONS: dict[str, KeyedColumnElement[Any]] = {
    "year": projects.c.approved_year,
    "programme": projects.c.programme,
    "region": projects.c.region,
    "cercle": projects.c.cercle,
    "project_type": projects.c.project_type,
    "partner_id": projects.c.partner_id,
}
Sums = dict[str, int]


def conditions_of(report_filter: ReportFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    for column, values in (
        (projects.c.programme, report_filter.programmes),
        (projects.c.region, report_filter.regions),
        (projects.c.cercle, report_filter.cercles),
        (projects.c.project_type, report_filter.project_types),
    ):
        if values:
            conditions.append(column.in_(values))
    if report_filter.within_regions is not None:
        conditions.append(projects.c.region.in_(sorted(report_filter.within_regions)))
    if report_filter.from_year is not None:
        conditions.append(projects.c.approved_year >= report_filter.from_year)
    if report_filter.to_year is not None:
        conditions.append(projects.c.approved_year <= report_filter.to_year)
    return conditions


def _empty() -> Sums:
    return dict.fromkeys(FIGURE_COLUMNS, 0)


def _row(key: Any, values: Sums, ngos: set[str]) -> dict[str, Any]:
    return {
        "key": key,
        "projects": values["projects"],
        "ngos": len(ngos),
        "amount_usd": values["amount_usd_cents"] / 100,
        "beneficiaries": values["direct"],
        "beneficiaries_women": values["direct_women"],
        "indirect_beneficiaries": values["indirect"],
        "indirect_beneficiaries_women": values["indirect_women"],
        "participants": values["participants"],
        "participants_women": values["participants_women"],
        "ex_combatants": values["ex_combatants"],
        "target_beneficiaries": values["target_direct"],
        "target_women": values["target_women"],
        "target_ex_combatants": values["target_ex_combatants"],
    }


async def _sums(
    conn: AsyncConnection,
    dimension: KeyedColumnElement[Any],
    as_of: date,
    conditions: list[ColumnElement[bool]],
) -> tuple[dict[Any, Sums], dict[Any, set[str]]]:
    """Per value of ``dimension``: the summed figures and the distinct NGOs (a consortium's members)."""
    sums = (
        select(dimension.label("key"), *(func.sum(figures.c[c]).label(c) for c in FIGURE_COLUMNS))
        .select_from(figures.join(projects, projects.c.project_id == figures.c.project_id))
        .where(figures.c.effective_on <= as_of, *conditions)
        .group_by(dimension)
    )
    ngos = (
        select(dimension.label("key"), project_ngos.c.ngo_id)
        .select_from(project_ngos.join(projects, projects.c.project_id == project_ngos.c.project_id))
        .where(projects.c.approved_on <= as_of, *conditions)
        .distinct()
    )
    summed = {
        row.key: {c: int(getattr(row, c) or 0) for c in FIGURE_COLUMNS} for row in await conn.execute(sums)
    }
    ngos_by_key: dict[Any, set[str]] = defaultdict(set)
    for row in await conn.execute(ngos):
        ngos_by_key[row.key].add(row.ngo_id)
    return summed, ngos_by_key


async def programme_report(
    conn: AsyncConnection,
    group_by: GroupBy,
    as_of: date,
    report_filter: ReportFilter,
    periods: list[Period] | None = None,
) -> dict[str, Any]:
    """Rows per group (per period when ``periods`` are given, grouping by year) and the total."""
    conditions = conditions_of(report_filter)
    if periods:
        by_year, ngos_by_year = await _sums(conn, projects.c.approved_year, as_of, conditions)
        rows = [_row(p.label, *_fold(by_year, ngos_by_year, p)) for p in periods]
        total = _row("total", *await _distinct_total(conn, as_of, conditions, periods))
        return {"as_of": as_of, "group_by": "period", "rows": rows, "total": total}
    summed, ngos_by_key = await _sums(conn, DIMENSIONS[group_by], as_of, conditions)
    keys = sorted((k for k in summed if summed[k]["projects"]), key=lambda k: (k is None, k))
    total, all_ngos = _empty(), set[str]().union(*ngos_by_key.values())
    for values in summed.values():
        for column in FIGURE_COLUMNS:
            total[column] += values[column]
    return {
        "as_of": as_of,
        "group_by": group_by,
        "rows": [_row(key, summed[key], ngos_by_key.get(key, set())) for key in keys],
        "total": _row("total", total, all_ngos),
    }


def _fold(
    by_year: dict[Any, Sums], ngos_by_year: dict[Any, set[str]], period: Period
) -> tuple[Sums, set[str]]:
    values, found = _empty(), set[str]()
    for year, row in by_year.items():
        if year is not None and period.first <= year <= period.last:
            for column in FIGURE_COLUMNS:
                values[column] += row[column]
            found |= ngos_by_year.get(year, set())
    return values, found


async def _distinct_total(
    conn: AsyncConnection, as_of: date, conditions: list[ColumnElement[bool]], periods: list[Period]
) -> tuple[Sums, set[str]]:
    """The total over the union of the periods: a project in two overlapping periods counts once."""
    in_any = or_(*(projects.c.approved_year.between(p.first, p.last) for p in periods))
    query = (
        select(*(func.sum(figures.c[c]).label(c) for c in FIGURE_COLUMNS))
        .select_from(figures.join(projects, projects.c.project_id == figures.c.project_id))
        .where(figures.c.effective_on <= as_of, in_any, *conditions)
    )
    ngo_query = (
        select(project_ngos.c.ngo_id)
        .distinct()
        .select_from(project_ngos.join(projects, projects.c.project_id == project_ngos.c.project_id))
        .where(projects.c.approved_on <= as_of, in_any, *conditions)
    )
    row = (await conn.execute(query)).one()
    ngo_ids = {r[0] for r in await conn.execute(ngo_query)}
    return {c: int(getattr(row, c) or 0) for c in FIGURE_COLUMNS}, ngo_ids
