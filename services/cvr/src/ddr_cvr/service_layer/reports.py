"""The programme's CVR figures as the report tabulates them: projects, NGOs, amounts and beneficiaries
(with women) by year, region, cercle or type, as of any date.

One grouped sum over ``cvr_figures`` (a few dated rows per project, kept by the projection), joined to the
projects for the grouping: its cost follows the number of projects, not of participants or events.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.sql.elements import KeyedColumnElement

from ddr_cvr.adapters.tables import FIGURE_COLUMNS, figures, project_ngos, projects
from ddr_cvr.domain.errors import RuleViolated
from ddr_cvr.service_layer.unit import Cvr

GroupBy = Literal["year", "region", "cercle", "project_type", "partner_id"]
DIMENSIONS: dict[str, KeyedColumnElement[Any]] = {
    "year": projects.c.approved_year,
    "region": projects.c.region,
    "cercle": projects.c.cercle,
    "project_type": projects.c.project_type,
    "partner_id": projects.c.partner_id,
}


@dataclass(frozen=True)
class ReportFilter:
    regions: tuple[str, ...] = ()
    cercles: tuple[str, ...] = ()
    project_types: tuple[str, ...] = ()
    from_year: int | None = None
    to_year: int | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.regions:
            conditions.append(projects.c.region.in_(self.regions))
        if self.cercles:
            conditions.append(projects.c.cercle.in_(self.cercles))
        if self.project_types:
            conditions.append(projects.c.project_type.in_(self.project_types))
        if self.from_year is not None:
            conditions.append(projects.c.approved_year >= self.from_year)
        if self.to_year is not None:
            conditions.append(projects.c.approved_year <= self.to_year)
        return conditions


def parse_periods(text: str) -> list[tuple[str, int, int]]:
    """``2013-2015,2021-2022,2019`` → labelled inclusive year ranges (they may overlap, as the report's do)."""
    periods = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        start, _, end = part.partition("-")
        if not start.isdigit() or (end and not end.isdigit()):
            raise RuleViolated("periods", f"period {part!r} is not YEAR or YEAR-YEAR")
        first, last = int(start), int(end or start)
        if first > last:
            raise RuleViolated("periods", f"period {part!r} ends before it starts")
        periods.append((part, first, last))
    return periods


def _empty() -> dict[str, int]:
    return dict.fromkeys(FIGURE_COLUMNS, 0)


def _row(key: Any, values: dict[str, int], ngos: set[str]) -> dict[str, Any]:
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
    }


async def programme_report(
    cvr: Cvr,
    group_by: GroupBy,
    as_of: date,
    report_filter: ReportFilter,
    periods: list[tuple[str, int, int]] | None = None,
) -> dict[str, Any]:
    """Rows per group (per period when ``periods`` are given, grouping by year) and the total."""
    dimension = DIMENSIONS["year" if periods else group_by]
    conditions = report_filter.conditions()
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
    async with cvr.engine.connect() as conn:
        summed = {
            row.key: {c: int(getattr(row, c) or 0) for c in FIGURE_COLUMNS}
            for row in await conn.execute(sums)
        }
        ngo_rows = (await conn.execute(ngos)).all()
    ngos_by_key: dict[Any, set[str]] = defaultdict(set)
    for row in ngo_rows:
        ngos_by_key[row.key].add(row.ngo_id)
    if periods:
        summed, ngos_by_key = _fold_periods(summed, ngos_by_key, periods)
        keys: list[Any] = [label for label, _, _ in periods]
    else:
        keys = sorted((k for k in summed if summed[k]["projects"]), key=lambda k: (k is None, k))
    rows = [_row(key, summed.get(key, _empty()), ngos_by_key.get(key, set())) for key in keys]
    total = _empty()
    all_ngos: set[str] = set()
    for key in summed if not periods else []:
        for column in FIGURE_COLUMNS:
            total[column] += summed[key][column]
    for ngo_set in ngos_by_key.values() if not periods else []:
        all_ngos |= ngo_set
    if periods:
        total, all_ngos = await _distinct_total(cvr, as_of, conditions, periods)
    return {
        "as_of": as_of,
        "group_by": "period" if periods else group_by,
        "rows": rows,
        "total": _row("total", total, all_ngos),
    }


def _fold_periods(
    by_year: dict[Any, dict[str, int]],
    ngos_by_year: dict[Any, set[str]],
    periods: list[tuple[str, int, int]],
) -> tuple[dict[Any, dict[str, int]], dict[Any, set[str]]]:
    summed: dict[Any, dict[str, int]] = {}
    ngos: dict[Any, set[str]] = {}
    for label, first, last in periods:
        values = _empty()
        found: set[str] = set()
        for year, row in by_year.items():
            if year is not None and first <= year <= last:
                for column in FIGURE_COLUMNS:
                    values[column] += row[column]
                found |= ngos_by_year.get(year, set())
        summed[label] = values
        ngos[label] = found
    return summed, ngos


async def _distinct_total(
    cvr: Cvr, as_of: date, conditions: list[ColumnElement[bool]], periods: list[tuple[str, int, int]]
) -> tuple[dict[str, int], set[str]]:
    """The total over the union of the periods: a project in two overlapping periods counts once."""
    in_any = or_(*(projects.c.approved_year.between(first, last) for _, first, last in periods))
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
    async with cvr.engine.connect() as conn:
        row = (await conn.execute(query)).one()
        ngo_ids = {r[0] for r in await conn.execute(ngo_query)}
    return {c: int(getattr(row, c) or 0) for c in FIGURE_COLUMNS}, ngo_ids
