"""Read-side questions: beneficiaries, timetables, tranches due, overdue visits, the ledger, dashboards."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.reinsertion import CounsellingProfileRecorded
from ddr_reinsertion.adapters.tables import (
    beneficiaries,
    budget_lines,
    packages,
    round_regions,
    rounds,
    tranches,
    visits,
)
from ddr_reinsertion.domain.errors import UnknownRecord
from ddr_reinsertion.service_layer.unit import beneficiary_stream
from ddr_runtime.eventstore.store import EventStore

DASHBOARD_FIGURES = (
    "waiting",
    "active",
    "completed",
    "dropped_out",
    "ever_enrolled",
    "faga",
    "committed",
    "disbursed",
)
PUBLIC_COLUMNS = (
    "person_id",
    "stage",
    "source",
    "round_id",
    "region",
    "sex",
    "category",
    "movement",
    "caseload",
    "package_id",
    "package_kind",
    "commitment_id",
    "line_id",
    "committed",
    "disbursed",
    "training_attended",
    "visits_done",
    "enrolled_on",
    "exited_on",
    "integration_active",
)


def _public(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in PUBLIC_COLUMNS}


async def list_beneficiaries(
    conn: AsyncConnection,
    *,
    regions: frozenset[str],
    region: str | None,
    stage: str | None,
    limit: int,
    offset: int,
    include_barred: bool,
) -> list[dict[str, Any]]:
    query = select(beneficiaries).where(beneficiaries.c.stage != "none")
    if not include_barred:  # a child's record is restricted: only the auditor sees it here
        query = query.where(beneficiaries.c.barred.is_(False))
    if regions:
        query = query.where(beneficiaries.c.region.in_(sorted(regions)))
    if region is not None:
        query = query.where(beneficiaries.c.region == region)
    if stage is not None:
        query = query.where(beneficiaries.c.stage == stage)
    query = query.order_by(beneficiaries.c.person_id).limit(limit).offset(offset)
    return [_public(row) for row in await conn.execute(query)]


async def beneficiary(conn: AsyncConnection, person_id: str, *, include_barred: bool) -> dict[str, Any]:
    row = (await conn.execute(select(beneficiaries).where(beneficiaries.c.person_id == person_id))).first()
    if row is None or row.stage == "none" or (row.barred and not include_barred):
        raise UnknownRecord("beneficiary", person_id)
    found = _public(row)
    found["tranches"] = [
        {
            "number": t.number,
            "amount": t.amount,
            "due_on": t.due_on,
            "condition": t.condition,
            "paid": t.paid,
            "paid_on": t.paid_on,
            "disbursement_id": t.disbursement_id,
        }
        for t in await conn.execute(
            select(tranches).where(tranches.c.commitment_id == row.commitment_id).order_by(tranches.c.number)
        )
    ]
    found["visits"] = [
        {"seq": v.seq, "due_on": v.due_on, "visited_on": v.visited_on, "outcome": v.outcome}
        for v in await conn.execute(
            select(visits).where(visits.c.commitment_id == row.commitment_id).order_by(visits.c.seq)
        )
    ]
    return found


async def counselling_profile(store: EventStore, person_id: str) -> dict[str, Any] | None:
    """The latest profile, decrypted from the person's stream (``area_of_return`` is None once erased)."""
    profile: CounsellingProfileRecorded | None = None
    for recorded in await store.read_stream(beneficiary_stream(person_id)):
        if isinstance(recorded.event, CounsellingProfileRecorded):
            profile = recorded.event
    return None if profile is None else profile.model_dump(mode="json")


async def tranches_due(
    conn: AsyncConnection, as_of: date, regions: frozenset[str], limit: int
) -> list[dict[str, Any]]:
    """Unpaid tranches of active beneficiaries falling due by ``as_of``, with what they wait for."""
    query = (
        select(
            tranches.c.person_id,
            tranches.c.number,
            tranches.c.amount,
            tranches.c.due_on,
            tranches.c.condition,
            beneficiaries.c.line_id,
            beneficiaries.c.region,
        )
        .join(beneficiaries, beneficiaries.c.commitment_id == tranches.c.commitment_id)
        .where(beneficiaries.c.stage == "active", tranches.c.paid.is_(False), tranches.c.due_on <= as_of)
        .order_by(tranches.c.due_on, tranches.c.person_id, tranches.c.number)
        .limit(limit)
    )
    if regions:
        query = query.where(beneficiaries.c.region.in_(sorted(regions)))
    return [dict(row._mapping) for row in await conn.execute(query)]


async def overdue_visits(
    conn: AsyncConnection, as_of: date, regions: frozenset[str], limit: int
) -> list[dict[str, Any]]:
    query = (
        select(visits.c.person_id, visits.c.seq, visits.c.due_on, beneficiaries.c.region)
        .join(beneficiaries, beneficiaries.c.commitment_id == visits.c.commitment_id)
        .where(beneficiaries.c.stage == "active", visits.c.visited_on.is_(None), visits.c.due_on < as_of)
        .order_by(visits.c.due_on, visits.c.person_id)
        .limit(limit)
    )
    if regions:
        query = query.where(beneficiaries.c.region.in_(sorted(regions)))
    return [
        {**dict(row._mapping), "days_overdue": (as_of - row.due_on).days} for row in await conn.execute(query)
    ]


def _line(row: Any) -> dict[str, Any]:
    return {
        "line_id": row.line_id,
        "funding_source": row.funding_source,
        "title": row.title,
        "currency": row.currency,
        "allotted": row.allotted,
        "received": row.received,
        "committed": row.committed - row.released,
        "disbursed": row.disbursed,
        "uncommitted": row.allotted - (row.committed - row.released),
        "cash": row.received - row.disbursed,
        "outstanding_commitments": row.committed - row.released - row.disbursed,
        "version": row.version,
    }


async def budget_line_list(conn: AsyncConnection) -> list[dict[str, Any]]:
    return [_line(row) for row in await conn.execute(select(budget_lines).order_by(budget_lines.c.line_id))]


async def budget_line(conn: AsyncConnection, line_id: str) -> dict[str, Any]:
    row = (await conn.execute(select(budget_lines).where(budget_lines.c.line_id == line_id))).first()
    if row is None:
        raise UnknownRecord("budget_line", line_id)
    return _line(row)


async def package_list(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(select(packages).order_by(packages.c.package_id, packages.c.package_version))
    return [json.loads(row.terms) for row in rows]


async def round_detail(conn: AsyncConnection, round_id: str) -> dict[str, Any]:
    head = (await conn.execute(select(rounds).where(rounds.c.round_id == round_id))).first()
    if head is None:
        raise UnknownRecord("round", round_id)
    regions = await conn.execute(
        select(round_regions).where(round_regions.c.round_id == round_id).order_by(round_regions.c.region)
    )
    return {
        "round_id": head.round_id,
        "title": head.title,
        "size_per_region": head.size_per_region,
        "opened_on": head.opened_on,
        "regions": [{"region": r.region, "listed": r.listed} for r in regions],
    }


async def dashboard(conn: AsyncConnection, regions: frozenset[str]) -> dict[str, Any]:
    """Counts and amounts by region and sex; no person id. Cells count people, so the caller's region
    scope applies."""
    b = beneficiaries.c

    def count(stage: str) -> Any:
        return func.sum(case((b.stage == stage, 1), else_=0))

    query = (
        select(
            b.region,
            b.sex,
            count("waiting").label("waiting"),
            count("active").label("active"),
            count("completed").label("completed"),
            count("dropped_out").label("dropped_out"),
            func.sum(case((b.enrolled_on.is_not(None), 1), else_=0)).label("ever_enrolled"),
            func.sum(case((b.caseload == "faga", 1), else_=0)).label("faga"),
            func.coalesce(func.sum(b.committed), 0).label("committed"),
            func.coalesce(func.sum(b.disbursed), 0).label("disbursed"),
        )
        .where(b.stage != "none", b.region.is_not(None), b.barred.is_(False))
        .group_by(b.region, b.sex)
        .order_by(b.region, b.sex)
    )
    if regions:
        query = query.where(b.region.in_(sorted(regions)))
    cells = [
        {
            "region": row.region,
            "sex": row.sex,
            **{key: int(row._mapping[key] or 0) for key in DASHBOARD_FIGURES},
        }
        for row in await conn.execute(query)
    ]
    totals = {key: sum(cell[key] for cell in cells) for key in DASHBOARD_FIGURES}
    return {"by_region_and_sex": cells, "totals": totals, "budget_lines": await budget_line_list(conn)}
