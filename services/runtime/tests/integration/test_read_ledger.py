"""The read ledger is append-only on both backends: a row once written is never changed or removed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy import delete, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_runtime.audit.reads import ReadLedger, person_reads
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.db import create_engine

OFFICER = Principal(subject="officer-1", name="Officer", roles=frozenset({Role.CNDDR_OFFICER}))


@pytest.fixture
async def ledger(database_url: str) -> AsyncIterator[ReadLedger]:
    engine: AsyncEngine = create_engine(database_url)
    ledger = ReadLedger(engine)
    await ledger.create_schema()
    await ledger.create_schema()  # a second start finds it in place
    yield ledger
    await engine.dispose()


async def test_a_read_is_recorded_once_per_person_shown(ledger: ReadLedger) -> None:
    recorded = await ledger.record(OFFICER, ["p1", "p2", "p1"], route="GET /persons")

    assert recorded == 2
    assert [r["route"] for r in await ledger.reads_of("p1")] == ["GET /persons"]


async def test_a_recorded_read_cannot_be_changed(ledger: ReadLedger) -> None:
    await ledger.record(OFFICER, ["p1"], route="GET /persons/{person_id}")

    with pytest.raises(DBAPIError, match="append-only"):
        async with ledger.engine.begin() as conn:
            await conn.execute(update(person_reads).values(reader="someone-else"))


async def test_a_recorded_read_cannot_be_deleted(ledger: ReadLedger) -> None:
    await ledger.record(OFFICER, ["p1"], route="GET /persons/{person_id}")

    with pytest.raises(DBAPIError, match="append-only"):
        async with ledger.engine.begin() as conn:
            await conn.execute(delete(person_reads))
    async with ledger.engine.connect() as conn:
        assert len((await conn.execute(select(person_reads))).all()) == 1


async def test_a_read_recorded_in_the_callers_transaction_is_undone_with_it(ledger: ReadLedger) -> None:
    async with ledger.engine.connect() as conn:
        transaction = await conn.begin()
        await ledger.record(OFFICER, ["p1"], route="GET /paths/{person_id}", conn=conn)
        await transaction.rollback()

    assert await ledger.reads_of("p1") == []
