"""The programme's CVR figures as the report tabulates them: projects, NGOs, amounts, targets and beneficiaries
(with women) by year, programme, region, cercle, type or partner, as of any date.

One grouped sum over ``cvr_figures`` (a few dated rows per project, kept by the projection), joined to the
projects for the grouping: its cost follows the number of projects, not of participants or events.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import KeyedColumnElement

from ddr_cvr.adapters.children import linked_to_a_child
from ddr_cvr.adapters.tables import FIGURE_COLUMNS, figures, participants, project_ngos, projects
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
    *,
    children: bool,
) -> dict[str, Any]:
    """Rows per group (per period when ``periods`` are given, grouping by year) and the total.

    ``children``: whether participants linked to a child count (for child protection only); for everyone
    else they are taken out of the participant counts at every date, as if never enrolled."""
    conditions = conditions_of(report_filter)
    if periods:
        by_year, ngos_by_year = await _sums(conn, projects.c.approved_year, as_of, conditions)
        if not children:
            await _without_children(conn, by_year, projects.c.approved_year, as_of, conditions)
        rows = [_row(p.label, *_fold(by_year, ngos_by_year, p)) for p in periods]
        total_sums, total_ngos = await _distinct_total(conn, as_of, conditions, periods)
        if not children:
            in_any = or_(*(projects.c.approved_year.between(p.first, p.last) for p in periods))
            wrapped = {"total": total_sums}
            await _without_children(conn, wrapped, None, as_of, [in_any, *conditions])
        total = _row("total", total_sums, total_ngos)
        return {"as_of": as_of, "group_by": "period", "rows": rows, "total": total}
    summed, ngos_by_key = await _sums(conn, DIMENSIONS[group_by], as_of, conditions)
    if not children:
        await _without_children(conn, summed, DIMENSIONS[group_by], as_of, conditions)
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


async def _without_children(
    conn: AsyncConnection,
    sums: dict[Any, Sums],
    dimension: KeyedColumnElement[Any] | None,
    as_of: date,
    conditions: list[ColumnElement[bool]],
) -> None:
    """Take out of ``sums`` (per value of ``dimension``; ``None``: the single key ``"total"``) the
    participants linked to a child that the figures count as of ``as_of`` (enrolled, on the project's approval
    date if before it, and not withdrawn by then, as the projection dates them), and what they add to direct
    beneficiaries: per project, the larger of the partner's recorded count and the named participants left.
    Starts from the few persons noted as children, then reads the few projects they are in."""

    def dated(on: Any) -> Any:
        return case((on < projects.c.approved_on, projects.c.approved_on), else_=on)

    women = func.sum(case((participants.c.sex == "F", 1), else_=0))
    ex = func.sum(case((participants.c.category == "ex_combatant", 1), else_=0))
    key = (dimension if dimension is not None else projects.c.project_id).label("key")
    hidden_query = (
        select(projects.c.project_id, key, func.count().label("n"), women.label("women"), ex.label("ex"))
        .select_from(participants.join(projects, projects.c.project_id == participants.c.project_id))
        .where(
            projects.c.approved_on.is_not(None),
            projects.c.approved_on <= as_of,
            dated(participants.c.enrolled_on) <= as_of,
            or_(participants.c.withdrawn_on.is_(None), dated(participants.c.withdrawn_on) > as_of),
            linked_to_a_child(),
            *conditions,
        )
        .group_by(projects.c.project_id, key)
    )
    hidden = {row.project_id: row for row in await conn.execute(hidden_query)}
    if not hidden:
        return
    counted = ("participants", "participants_women", "direct", "direct_women", "recorded_direct", "recorded_direct_women")  # fmt: skip
    per_project = (
        select(figures.c.project_id, *(func.sum(figures.c[c]).label(c) for c in counted))
        .where(figures.c.effective_on <= as_of, figures.c.project_id.in_(sorted(hidden)))
        .group_by(figures.c.project_id)
    )
    for project in await conn.execute(per_project):
        row = hidden[project.project_id]
        named, named_women = int(project.participants), int(project.participants_women)
        direct = max(int(project.recorded_direct), named - row.n)
        direct_women = max(int(project.recorded_direct_women), named_women - int(row.women or 0))
        values = sums.setdefault("total" if dimension is None else row.key, _empty())
        values["participants"] -= int(row.n)
        values["participants_women"] -= int(row.women or 0)
        values["ex_combatants"] -= int(row.ex or 0)
        values["direct"] -= int(project.direct) - direct
        values["direct_women"] -= int(project.direct_women) - direct_women
