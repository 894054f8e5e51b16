"""Read-side questions, answered from the read model: beneficiaries, timetables, tranches due, overdue
visits, the ledger, the catalogue, rounds and the dashboards."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

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
from ddr_runtime.eventstore.store import EventStore
from ddr_runtime.kernel import UnknownRecord

COUNTS = ("waiting", "active", "completed", "dropped_out", "ever_enrolled", "faga")
AMOUNTS = ("committed", "disbursed")
PUBLIC_COLUMNS = (
    "person_id", "stage", "source", "round_id", "region", "sex", "category", "movement", "caseload",
    "package_id", "package_kind", "commitment_id", "line_id", "currency", "committed", "disbursed",
    "training_attended", "visits_done", "enrolled_on", "exited_on", "integration_active", "version",
)  # fmt: skip


def _public(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in PUBLIC_COLUMNS}


def _line(row: Any) -> dict[str, Any]:
    committed = row.committed - row.released
    return {
        "line_id": row.line_id,
        "funding_source": row.funding_source,
        "title": row.title,
        "currency": row.currency,
        "allotted": row.allotted,
        "received": row.received,
        "committed": committed,
        "disbursed": row.disbursed,
        "uncommitted": row.allotted - committed,
        "cash": row.received - row.disbursed,
        "outstanding_commitments": committed - row.disbursed,
        "version": row.version,
    }


def _figures(b: Any) -> list[Any]:
    def count(stage: str) -> Any:
        return func.sum(case((b.stage == stage, 1), else_=0)).label(stage)

    return [
        *(count(stage) for stage in ("waiting", "active", "completed", "dropped_out")),
        func.sum(case((b.enrolled_on.is_not(None), 1), else_=0)).label("ever_enrolled"),
        func.sum(case((b.caseload == "faga", 1), else_=0)).label("faga"),
        func.sum(b.committed).label("committed"),
        func.sum(b.disbursed).label("disbursed"),
    ]


def _cell(row: Any, *keys: str) -> dict[str, Any]:
    values = row._mapping
    return {
        **{key: values[key] for key in keys},
        **{key: int(values[key] or 0) for key in COUNTS},
        **{key: values[key] if values[key] is not None else Decimal(0) for key in AMOUNTS},
    }


@dataclass(frozen=True)
class Queries:
    engine: AsyncEngine
    store: EventStore

    async def counselling_profile(self, person_id: str) -> dict[str, Any] | None:
        """The latest profile, opened from the person's stream (``area_of_return`` None once erased)."""
        history = await self.store.read_stream(f"beneficiary-{person_id}")
        profiles = [e.event for e in history if isinstance(e.event, CounsellingProfileRecorded)]
        return profiles[-1].model_dump(mode="json") if profiles else None

    async def _all(self, query: Select[Any]) -> list[Any]:
        async with self.engine.connect() as conn:
            return list((await conn.execute(query)).all())

    async def beneficiaries(
        self, *, regions: frozenset[str], region: str | None, stage: str | None, limit: int, offset: int,
        include_barred: bool,
    ) -> list[dict[str, Any]]:  # fmt: skip
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
        return [_public(row) for row in await self._all(query)]

    async def standing(self, person_id: str) -> tuple[str | None, bool] | None:
        """The person's region and whether they are barred (a child), or None for a person never heard of."""
        query = select(beneficiaries.c.region, beneficiaries.c.barred, beneficiaries.c.stage).where(
            beneficiaries.c.person_id == person_id
        )
        rows = await self._all(query)
        if not rows:
            return None
        return rows[0].region, bool(rows[0].barred)

    async def children_among(self, person_ids: Iterable[str]) -> set[str]:
        """Which of ``person_ids`` are children (barred: screened a child), for the read ledger."""
        wanted = sorted(set(person_ids))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            query = select(beneficiaries.c.person_id).where(
                beneficiaries.c.person_id.in_(wanted[start : start + 500]), beneficiaries.c.barred.is_(True)
            )
            found.update(row.person_id for row in await self._all(query))
        return found

    async def region_of(self, person_id: str) -> str | None:
        rows = await self._all(select(beneficiaries.c.region).where(beneficiaries.c.person_id == person_id))
        return rows[0].region if rows else None

    async def beneficiary(self, person_id: str, *, include_barred: bool) -> dict[str, Any]:
        rows = await self._all(select(beneficiaries).where(beneficiaries.c.person_id == person_id))
        row = rows[0] if rows else None
        if row is None or row.stage == "none" or (row.barred and not include_barred):
            raise UnknownRecord("beneficiary", person_id)
        found = _public(row)
        plan = (
            select(tranches).where(tranches.c.commitment_id == row.commitment_id).order_by(tranches.c.number)
        )
        found["tranches"] = [
            {
                "number": t.number, "amount": t.amount, "due_on": t.due_on, "condition": t.condition,
                "paid": t.paid, "paid_on": t.paid_on, "disbursement_id": t.disbursement_id,
            }
            for t in await self._all(plan)
        ]  # fmt: skip
        planned = select(visits).where(visits.c.commitment_id == row.commitment_id).order_by(visits.c.seq)
        found["visits"] = [
            {"seq": v.seq, "due_on": v.due_on, "visited_on": v.visited_on, "outcome": v.outcome}
            for v in await self._all(planned)
        ]
        return found

    async def tranches_due(self, as_of: date, regions: frozenset[str], limit: int) -> list[dict[str, Any]]:
        """Unpaid tranches of active beneficiaries falling due by ``as_of``, with what they wait for."""
        query = (
            select(
                tranches.c.person_id, tranches.c.number, tranches.c.amount, tranches.c.due_on,
                tranches.c.condition, beneficiaries.c.line_id, beneficiaries.c.region,
            )
            .join(beneficiaries, beneficiaries.c.commitment_id == tranches.c.commitment_id)
            .where(beneficiaries.c.stage == "active", tranches.c.paid.is_(False), tranches.c.due_on <= as_of)
            .order_by(tranches.c.due_on, tranches.c.person_id, tranches.c.number)
            .limit(limit)
        )  # fmt: skip
        if regions:
            query = query.where(beneficiaries.c.region.in_(sorted(regions)))
        return [dict(row._mapping) for row in await self._all(query)]

    async def overdue_visits(self, as_of: date, regions: frozenset[str], limit: int) -> list[dict[str, Any]]:
        query = (
            select(visits.c.person_id, visits.c.seq, visits.c.due_on, beneficiaries.c.region)
            .join(beneficiaries, beneficiaries.c.commitment_id == visits.c.commitment_id)
            .where(beneficiaries.c.stage == "active", visits.c.visited_on.is_(None), visits.c.due_on < as_of)
            .order_by(visits.c.due_on, visits.c.person_id)
            .limit(limit)
        )
        if regions:
            query = query.where(beneficiaries.c.region.in_(sorted(regions)))
        rows = await self._all(query)
        return [{**dict(row._mapping), "days_overdue": (as_of - row.due_on).days} for row in rows]

    async def budget_lines(self) -> list[dict[str, Any]]:
        return [_line(row) for row in await self._all(select(budget_lines).order_by(budget_lines.c.line_id))]

    async def budget_line(self, line_id: str) -> dict[str, Any]:
        rows = await self._all(select(budget_lines).where(budget_lines.c.line_id == line_id))
        if not rows:
            raise UnknownRecord("budget_line", line_id)
        return _line(rows[0])

    async def packages(self) -> list[dict[str, Any]]:
        query = select(packages).order_by(packages.c.package_id, packages.c.package_version)
        return [json.loads(row.terms) for row in await self._all(query)]

    async def round(self, round_id: str) -> dict[str, Any]:
        heads = await self._all(select(rounds).where(rounds.c.round_id == round_id))
        if not heads:
            raise UnknownRecord("round", round_id)
        head = heads[0]
        query = (
            select(round_regions).where(round_regions.c.round_id == round_id).order_by(round_regions.c.region)
        )
        return {
            "round_id": head.round_id,
            "title": head.title,
            "size_per_region": head.size_per_region,
            "opened_on": head.opened_on,
            "regions": [{"region": r.region, "listed": r.listed} for r in await self._all(query)],
        }

    async def dashboard(self, regions: frozenset[str]) -> dict[str, Any]:
        """Counts and amounts by region and sex, and by package; no person id. Cells count people, so the
        caller's region scope applies."""
        b = beneficiaries.c
        scope = [b.stage != "none", b.region.is_not(None), b.barred.is_(False)]
        if regions:
            scope.append(b.region.in_(sorted(regions)))
        by_region = select(b.region, b.sex, *_figures(b)).where(*scope).group_by(b.region, b.sex)
        cells = [_cell(row, "region", "sex") for row in await self._all(by_region.order_by(b.region, b.sex))]
        by_package = (
            select(b.package_id, b.package_kind, b.currency, *_figures(b))
            .where(*scope, b.package_id.is_not(None))
            .group_by(b.package_id, b.package_kind, b.currency)
            .order_by(b.package_id, b.currency)
        )
        per_package = [
            _cell(row, "package_id", "package_kind", "currency") for row in await self._all(by_package)
        ]
        totals: dict[str, Any] = {key: sum(cell[key] for cell in cells) for key in COUNTS}
        totals.update({key: sum((cell[key] for cell in cells), Decimal(0)) for key in AMOUNTS})
        return {
            "by_region_and_sex": cells,
            "by_package": per_package,
            "totals": totals,
            "budget_lines": await self.budget_lines(),
        }
