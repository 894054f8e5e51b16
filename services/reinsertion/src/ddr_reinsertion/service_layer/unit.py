"""The service's parts and the transactions its handlers run in.

Concurrency, on both backends:

* a budget line is an event-sourced aggregate whose snapshot row carries its stream version; a change reads
  the row, decides, and appends with that version as the expected one, inside a savepoint. A concurrent
  change makes the append fail (PostgreSQL: the unique (stream, version) key; SQLite: writers are serialised
  by ``BEGIN IMMEDIATE``); the savepoint is rolled back and the change decided again on a fresh read;
* a beneficiary's row is locked (``FOR UPDATE`` on PostgreSQL) before anything about the person is decided,
  so a payment, a visit and an exit of the same person never interleave;
* each tranche has a stream of its own whose only event is its payment: a second payment of the same
  tranche cannot be stored, whatever happened before.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timezone
from typing import Any, TypeVar

from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_contracts.events import DomainEvent
from ddr_contracts.reinsertion import BeneficiaryExited, CommitmentReleased
from ddr_reinsertion.adapters.tables import beneficiaries, budget_lines, holds
from ddr_reinsertion.domain.beneficiary import Standing
from ddr_reinsertion.domain.errors import UnknownRecord
from ddr_reinsertion.domain.ledger import BudgetLine
from ddr_runtime.db import is_postgres
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent

T = TypeVar("T")
MAX_ATTEMPTS = 20


def beneficiary_stream(person_id: str) -> str:
    return f"beneficiary-{person_id}"


def line_stream(line_id: str) -> str:
    return f"budget-line-{line_id}"


def tranche_stream(commitment_id: str, number: int) -> str:
    return f"tranche-{commitment_id}-{number}"


def at(day: date) -> datetime:
    """Business time of a dated fact: noon UTC of that day."""
    return datetime.combine(day, time(12), tzinfo=timezone.utc)  # noqa: UP017 - explicit for readers


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class Reinsertion:
    store: EventStore
    notify: Callable[[], None]

    @property
    def engine(self) -> AsyncEngine:
        return self.store.engine

    async def run(self, work: Callable[[AsyncConnection], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction; on a concurrency conflict, again from a fresh read."""
        for attempt in range(MAX_ATTEMPTS):
            try:
                async with self.engine.begin() as conn:
                    result = await work(conn)
                self.notify()
                return result
            except (ConcurrencyConflict, IntegrityError):
                # A concurrent writer got there first (a stream version, or a row a consumer just created).
                if attempt == MAX_ATTEMPTS - 1:
                    raise
        raise AssertionError("unreachable")

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.connect() as conn:
            yield conn


async def lock_beneficiaries(conn: AsyncConnection, person_ids: Sequence[str]) -> dict[str, Row[Any]]:
    """The rows of ``person_ids``, locked until the transaction ends (in id order: no deadlock)."""
    found: dict[str, Row[Any]] = {}
    ordered = sorted(set(person_ids))
    for start in range(0, len(ordered), 500):
        query = (
            select(beneficiaries)
            .where(beneficiaries.c.person_id.in_(ordered[start : start + 500]))
            .order_by(beneficiaries.c.person_id)
        )
        if is_postgres(conn.engine):
            query = query.with_for_update()
        found.update({row.person_id: row for row in (await conn.execute(query)).all()})
    return found


async def standing_of(conn: AsyncConnection, row: Row[Any] | None) -> Standing:
    if row is None:
        return Standing(barred=False, integration_active=False, holds=0)
    held = (await conn.execute(select(holds.c.decision_id).where(holds.c.person_id == row.person_id))).all()
    return Standing(barred=row.barred, integration_active=row.integration_active, holds=len(held))


async def load_line(conn: AsyncConnection, line_id: str) -> BudgetLine:
    row = (await conn.execute(select(budget_lines).where(budget_lines.c.line_id == line_id))).first()
    if row is None:
        raise UnknownRecord("budget_line", line_id)
    return BudgetLine(
        line_id=row.line_id,
        funding_source=row.funding_source,
        currency=row.currency,
        allotted=row.allotted,
        received=row.received,
        committed=row.committed,
        released=row.released,
        disbursed=row.disbursed,
        version=row.version,
    )


LineDecision = tuple[BudgetLine, list[DomainEvent], T]


async def change_line(
    store: EventStore,
    conn: AsyncConnection,
    line_id: str,
    decide: Callable[[BudgetLine], LineDecision[T]],
    causation: Causation,
    occurred_at: datetime | None = None,
) -> T:
    """Decide on a fresh read of the line and append with its version; on a conflict, decide again."""
    for attempt in range(MAX_ATTEMPTS):
        try:
            async with conn.begin_nested():
                line = await load_line(conn, line_id)
                changed, events, result = decide(line)
                if events:
                    await store.append(
                        line_stream(line_id),
                        line.version,
                        [NewEvent(e, line_id, occurred_at) for e in events],
                        causation,
                        conn=conn,
                    )
                    changed = replace(changed, version=line.version + len(events))
                    await conn.execute(
                        update(budget_lines)
                        .where(budget_lines.c.line_id == line_id)
                        .values(
                            received=changed.received,
                            committed=changed.committed,
                            released=changed.released,
                            disbursed=changed.disbursed,
                            version=changed.version,
                        )
                    )
                return result
        except ConcurrencyConflict:
            if attempt == MAX_ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


EXIT_STAGES = {
    "completed": "completed",
    "dropped_out": "dropped_out",
    "moved_to_integration": "moved_to_integration",
    "withdrawn": "withdrawn",
}


async def end_beneficiary(
    store: EventStore,
    conn: AsyncConnection,
    row: Row[Any],
    reason: str,
    effective_on: date,
    causation: Causation,
) -> None:
    """``BeneficiaryExited`` for an active beneficiary (its row locked), and the unpaid rest of its
    commitment released to the budget line."""
    person_id = row.person_id
    exited = BeneficiaryExited(person_id=person_id, reason=reason, effective_on=effective_on)
    await store.append(
        beneficiary_stream(person_id),
        row.version,
        [NewEvent(exited, person_id, at(effective_on))],
        causation,
        conn=conn,
    )
    await conn.execute(
        update(beneficiaries)
        .where(beneficiaries.c.person_id == person_id)
        .values(stage=EXIT_STAGES[reason], exited_on=effective_on, version=row.version + 1)
    )
    unpaid = row.committed - row.disbursed
    if unpaid > 0 and row.line_id is not None:
        commitment_id = row.commitment_id

        def release(line: BudgetLine) -> LineDecision[None]:
            event = CommitmentReleased(line_id=line.line_id, commitment_id=commitment_id, amount=unpaid)
            return line.release(unpaid), [event], None

        await change_line(store, conn, row.line_id, release, causation, at(effective_on))
