"""The read ledger is append-only on both backends: a row once written is never changed or removed; and it
tells no child from anyone else to an auditor without child protection."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import MetaData, Table, delete, insert, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_runtime.audit.reads import GroupCommit, ReadLedger, ledger_rows, person_reads
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.db import create_engine

OFFICER = Principal(subject="officer-1", name="Officer", roles=frozenset({Role.CNDDR_OFFICER}))
PROTECTION = Principal(subject="cp-1", name="Protection", roles=frozenset({Role.CHILD_PROTECTION}))


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


async def test_a_childs_record_shown_is_left_out_for_an_auditor_without_child_protection_and_refusals_stay(
    ledger: ReadLedger,
) -> None:
    await ledger.record(PROTECTION, ["child"], route="GET /cases/{person_id}", children=["child"])
    await ledger.record(OFFICER, ["child"], route="GET /cases/{person_id}", outcome="not_visible")

    plain = await ledger.reads_of("child", with_children=False)
    protected = await ledger.reads_of("child", with_children=True)

    assert [(r["reader"], r["outcome"]) for r in plain] == [("officer-1", "not_visible")]
    assert [(r["reader"], r["outcome"]) for r in protected] == [
        ("cp-1", "shown"),
        ("officer-1", "not_visible"),
    ]


async def test_a_read_shown_to_child_protection_whose_route_did_not_say_is_taken_for_a_childs(
    ledger: ReadLedger,
) -> None:
    await ledger.record(PROTECTION, ["p1"], route="GET /persons/{person_id}")  # the route did not say
    await ledger.record(PROTECTION, ["p1", "c1"], route="GET /persons", children=["c1"])  # p1: an adult
    await ledger.record(OFFICER, ["p1"], route="GET /persons/{person_id}")

    plain = await ledger.reads_of("p1", with_children=False)

    assert [(r["reader"], r["route"]) for r in plain] == [
        ("cp-1", "GET /persons"),
        ("officer-1", "GET /persons/{person_id}"),
    ]


async def test_a_ledger_made_before_rows_said_whether_a_child_was_read_gains_the_column(
    database_url: str,
) -> None:
    engine = create_engine(database_url)
    before = Table(
        "person_reads", MetaData(), *(c._copy() for c in person_reads.columns if c.name != "child")
    )
    async with engine.begin() as conn:
        await conn.run_sync(before.metadata.create_all)
        await conn.execute(
            insert(before).values(
                person_id="c1",
                reader="cp-1",
                reader_roles="child_protection",
                route="GET /x",
                outcome="shown",
                read_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )
    ledger = ReadLedger(engine)
    try:
        await ledger.create_schema()
        await ledger.record(OFFICER, ["c1"], route="GET /x", outcome="not_visible")

        assert [r["reader"] for r in await ledger.reads_of("c1", with_children=False)] == ["officer-1"]
        assert [r["reader"] for r in await ledger.reads_of("c1")] == ["cp-1", "officer-1"]
    finally:
        await engine.dispose()


async def test_reads_submitted_at_once_share_one_transaction_and_each_returns_once_committed(
    ledger: ReadLedger,
) -> None:
    committer: GroupCommit[list[dict[str, Any]]] = GroupCommit(
        lambda batch: ledger.insert([row for rows in batch for row in rows])
    )

    async def read(person: str) -> int:
        await committer.submit(ledger_rows(OFFICER, [person], route="GET /persons/{person_id}"))
        return len(await ledger.reads_of(person))  # committed before the submit returned

    seen = await asyncio.gather(*(read(f"p{i}") for i in range(20)))

    assert seen == [1] * 20
    assert (committer.flushes, committer.written) == (1, 20)


async def test_a_bad_record_fails_its_own_read_only_and_the_others_of_its_batch_are_written(
    ledger: ReadLedger,
) -> None:
    committer: GroupCommit[list[dict[str, Any]]] = GroupCommit(
        lambda batch: ledger.insert([row for rows in batch for row in rows])
    )
    bad = [{**ledger_rows(OFFICER, ["p2"], route="GET /x")[0], "reader": None}]  # the reader is required

    results = await asyncio.gather(
        committer.submit(ledger_rows(OFFICER, ["p1"], route="GET /x")),
        committer.submit(bad),
        committer.submit(ledger_rows(OFFICER, ["p3"], route="GET /x")),
        return_exceptions=True,
    )

    assert [type(r).__name__ for r in results] == ["NoneType", "IntegrityError", "NoneType"]
    assert [len(await ledger.reads_of(p)) for p in ("p1", "p2", "p3")] == [1, 0, 1]
