"""The read model, projected from the service's own events in the transaction that saves them (and again,
from the first event, by a rebuild). Rows touched by a batch are read once, changed in memory in event
order and written back in a few statements, so a batch of a thousand enrolments costs a handful of
round trips."""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts import reinsertion as ev
from ddr_reinsertion.adapters.tables import (
    beneficiaries,
    budget_lines,
    packages,
    round_regions,
    rounds,
    tranches,
    visits,
)
from ddr_runtime.eventstore.unit import Saved

ZERO = Decimal(0)
PAGE = 500
EXIT_STAGES = ("completed", "dropped_out", "moved_to_integration", "withdrawn")


def new_beneficiary(person_id: str) -> dict[str, Any]:
    return {
        "person_id": person_id, "stage": "none", "source": None, "round_id": None, "region": None, "sex": None,
        "category": None, "movement": None, "rank": None, "screening_track": None, "barred": False,
        "integration_active": False, "holds": 0, "version": 0, "caseload": None, "package_id": None,
        "package_kind": None, "commitment_id": None, "line_id": None, "currency": None, "committed": ZERO,
        "disbursed": ZERO, "training_attended": False, "visits_done": 0, "enrolled_on": None, "exited_on": None,
    }  # fmt: skip


class Rows:
    """Rows of one table keyed by their primary key, read once, written back as inserts and updates."""

    def __init__(self, table: Table, key: str) -> None:
        self.table, self.key = table, key
        self.rows: dict[str, dict[str, Any]] = {}
        self.new: set[str] = set()
        self.changed: set[str] = set()

    async def load(self, conn: AsyncConnection, keys: Sequence[str]) -> None:
        wanted = sorted(set(keys) - set(self.rows))
        column = self.table.c[self.key]
        for start in range(0, len(wanted), PAGE):
            found = await conn.execute(select(self.table).where(column.in_(wanted[start : start + PAGE])))
            self.rows.update({row._mapping[self.key]: dict(row._mapping) for row in found})

    def get(self, key: str) -> dict[str, Any] | None:
        row = self.rows.get(key)
        if row is not None:
            self.changed.add(key)
        return row

    def add(self, key: str, row: dict[str, Any]) -> dict[str, Any]:
        self.rows[key] = row
        self.new.add(key)
        return row

    async def write(self, conn: AsyncConnection) -> None:
        inserted = [self.rows[k] for k in sorted(self.new)]
        if inserted:
            await conn.execute(insert(self.table), inserted)
        updated = [self.rows[k] for k in sorted(self.changed - self.new)]
        if updated:
            columns = [c.name for c in self.table.c if c.name != self.key]
            await conn.execute(
                update(self.table)
                .where(self.table.c[self.key] == bindparam("k_key"))
                .values({c: bindparam(f"k_{c}") for c in columns}),
                [{"k_key": row[self.key], **{f"k_{c}": row[c] for c in columns}} for row in updated],
            )


class ReinsertionProjection:
    """Beneficiaries with their tranches and visits, budget lines, the catalogue and the rounds."""

    async def project(self, conn: AsyncConnection, saved: Sequence[Saved]) -> None:
        people, lines = Rows(beneficiaries, "person_id"), Rows(budget_lines, "line_id")
        await people.load(conn, [s.event.person_id for s in saved if hasattr(s.event, "person_id")])
        await lines.load(conn, [s.event.line_id for s in saved if isinstance(s.event, _LINE_EVENTS)])
        plans: list[dict[str, Any]] = []
        planned_visits: list[dict[str, Any]] = []
        paid: list[dict[str, Any]] = []
        visited: list[ev.FollowUpVisitRecorded] = []
        for item in saved:
            event = item.event
            if isinstance(event, _LINE_EVENTS):
                _line(lines, event, item)
            elif isinstance(event, _CATALOGUE_EVENTS):
                await _catalogue(conn, event)
            elif hasattr(event, "person_id"):
                row = people.get(event.person_id) or people.add(
                    event.person_id, new_beneficiary(event.person_id)
                )
                row["version"] = item.version
                _beneficiary(row, event)
                if isinstance(event, ev.PackageGranted):
                    plans += _tranche_rows(event)
                    planned_visits += [
                        {
                            "commitment_id": event.commitment_id,
                            "seq": n,
                            "person_id": event.person_id,
                            "due_on": due,
                        }
                        for n, due in enumerate(event.visits_due, start=1)
                    ]
                elif isinstance(event, ev.TrancheDisbursed):
                    paid.append(_paid(event))
                elif isinstance(event, ev.FollowUpVisitRecorded):
                    visited.append(event)
        await people.write(conn)
        await lines.write(conn)
        if plans:
            await conn.execute(insert(tranches), plans)
        if planned_visits:
            await conn.execute(insert(visits), planned_visits)
        if paid:
            await conn.execute(
                update(tranches)
                .where(
                    tranches.c.commitment_id == bindparam("b_commitment"),
                    tranches.c.number == bindparam("b_number"),
                )
                .values(
                    paid=True, disbursement_id=bindparam("b_disbursement"), paid_on=bindparam("b_paid_on")
                ),
                paid,
            )
        for visit in visited:
            await _fill_visit(conn, people.rows[visit.person_id]["commitment_id"], visit)


_LINE_EVENTS = (
    ev.BudgetLineOpened,
    ev.FundsReceived,
    ev.FundsCommitted,
    ev.CommitmentReleased,
    ev.FundsDisbursed,
)
_LEDGER_COLUMNS = {
    "FundsReceived": "received",
    "FundsCommitted": "committed",
    "CommitmentReleased": "released",
    "FundsDisbursed": "disbursed",
}
_CATALOGUE_EVENTS = (ev.PackageVersionPublished, ev.VolunteerRoundOpened, ev.RoundPlacesTaken)


def _line(lines: Rows, event: Any, item: Saved) -> None:
    """The line's running balance as of ``item``: the same sums as the aggregate's, so a command may load
    the line from this row (:mod:`ddr_reinsertion.adapters.snapshots`)."""
    version = item.version
    if isinstance(event, ev.BudgetLineOpened):
        lines.add(
            event.line_id,
            {
                "line_id": event.line_id, "funding_source": event.funding_source, "title": event.title,
                "currency": event.currency, "allotted": event.allotted, "received": ZERO, "committed": ZERO,
                "released": ZERO, "disbursed": ZERO, "version": version, "opened_at": item.envelope.occurredat,
            },
        )  # fmt: skip
        return
    row = lines.get(event.line_id)
    assert row is not None, f"budget line {event.line_id} is projected before its opening"
    row["version"] = version
    column = _LEDGER_COLUMNS[type(event).__name__]
    row[column] += event.amount


async def _catalogue(conn: AsyncConnection, event: Any) -> None:
    if isinstance(event, ev.PackageVersionPublished):
        await conn.execute(
            insert(packages).values(
                package_id=event.package_id,
                package_version=event.package_version,
                kind=event.kind,
                title=event.title,
                terms=json.dumps(event.model_dump(mode="json")),
                effective_on=event.effective_on,
            )
        )
    elif isinstance(event, ev.VolunteerRoundOpened):
        await conn.execute(
            insert(rounds).values(
                round_id=event.round_id, title=event.title, size_per_region=event.size_per_region,
                opened_on=event.opened_on,
            )
        )  # fmt: skip
        await conn.execute(
            insert(round_regions),
            [{"round_id": event.round_id, "region": r, "listed": 0} for r in event.regions],
        )
    else:
        await conn.execute(
            update(round_regions)
            .where(round_regions.c.round_id == event.round_id, round_regions.c.region == event.region)
            .values(listed=round_regions.c.listed + event.places)
        )


def _beneficiary(row: dict[str, Any], event: Any) -> None:
    """The person's row after ``event``: the same decisions as the aggregate's, for what the row shows."""
    if isinstance(event, ev.ScreeningOutcomeNoted | ev.VolunteerListed):
        row.update(region=event.region, sex=event.sex, category=event.category, movement=event.movement)
        row["rank"] = event.rank
        if isinstance(event, ev.VolunteerListed):
            row.update(stage="waiting", source="volunteer_round", round_id=event.round_id)
            return
        row["screening_track"] = event.track
        row["barred"] = row["barred"] or event.track == "child_protection"
        if row["barred"] or event.track != "reinsertion":
            row["stage"] = "withdrawn" if row["stage"] == "waiting" else row["stage"]
        elif row["stage"] in ("none", "withdrawn", "moved_to_integration"):
            row.update(stage="waiting", source="screening", round_id=None)
    elif isinstance(event, ev.IntegrationStatusNoted):
        row["integration_active"] = event.standing in ("accepted", "serving")
        if event.referred_to_reinsertion and not row["barred"] and row["stage"] != "active":
            row.update(stage="waiting", source="integration_discharge", round_id=None)
    elif isinstance(event, ev.BenefitsHoldNoted | ev.BenefitsReleaseNoted):
        row["holds"] = max(0, row["holds"] + (1 if isinstance(event, ev.BenefitsHoldNoted) else -1))
    else:
        _enrolment(row, event)


def _enrolment(row: dict[str, Any], event: Any) -> None:
    if isinstance(event, ev.BeneficiaryEnrolled):
        row.update(stage="active", enrolled_on=event.effective_on, exited_on=None, disbursed=ZERO)
        row.update(training_attended=False, visits_done=0)
    elif isinstance(event, ev.CounsellingProfileRecorded):
        row["caseload"] = event.caseload
    elif isinstance(event, ev.PackageGranted):
        row.update(package_id=event.package_id, package_kind=event.kind, commitment_id=event.commitment_id)
        row.update(line_id=event.line_id, currency=event.currency, committed=event.amount)
    elif isinstance(event, ev.TrainingAttended):
        row["training_attended"] = True
    elif isinstance(event, ev.FollowUpVisitRecorded):
        row["visits_done"] += 1
    elif isinstance(event, ev.TrancheDisbursed):
        row["disbursed"] += event.amount
    elif isinstance(event, ev.BeneficiaryExited):
        row.update(stage=event.reason, exited_on=event.effective_on)


def _tranche_rows(event: ev.PackageGranted) -> list[dict[str, Any]]:
    return [
        {
            "commitment_id": event.commitment_id, "number": t.number, "person_id": event.person_id,
            "amount": t.amount, "due_on": t.due_on, "condition": t.condition, "paid": False,
            "disbursement_id": None, "paid_on": None,
        }
        for t in event.tranches
    ]  # fmt: skip


def _paid(event: ev.TrancheDisbursed) -> dict[str, Any]:
    return {
        "b_commitment": event.commitment_id,
        "b_number": event.tranche,
        "b_disbursement": event.disbursement_id,
        "b_paid_on": event.paid_on,
    }


async def _fill_visit(conn: AsyncConnection, commitment_id: str, visit: ev.FollowUpVisitRecorded) -> None:
    """A visit fills the earliest planned visit still open."""
    open_visit = (
        await conn.execute(
            select(visits.c.seq)
            .where(visits.c.commitment_id == commitment_id, visits.c.visit_id.is_(None))
            .order_by(visits.c.seq)
            .limit(1)
        )
    ).scalar()
    if open_visit is not None:
        await conn.execute(
            update(visits)
            .where(visits.c.commitment_id == commitment_id, visits.c.seq == open_visit)
            .values(visit_id=visit.visit_id, visited_on=visit.visited_on, outcome=visit.outcome)
        )
