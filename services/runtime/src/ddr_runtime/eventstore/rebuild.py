"""Rebuild a service's read model from its own history while it serves (blue-green), the same in every service.

The new tables are built beside the live ones, from the first stored event, by the service's own projections:
the projection code is unchanged, its statements are pointed at the shadow tables with SQLAlchemy's
``schema_translate_map`` (a schema of its own on PostgreSQL, an attached database file on SQLite). Commands go
on meanwhile, writing the live tables. Once the shadow has caught up, one short transaction keeps writers out
(PostgreSQL: ``LOCK TABLE events IN SHARE MODE``; SQLite: its write lock), projects the last events and swaps:
PostgreSQL moves the live tables out and the shadow tables in; SQLite copies the shadow rows into the live
tables. Readers see the old model or the new one, never a mix.
"""

from __future__ import annotations

import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Connection, MetaData, Table, delete, insert, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_runtime.db import is_postgres
from ddr_runtime.eventstore.store import START, GlobalCursor
from ddr_runtime.eventstore.unit import UnitOfWork

PAGE = 2_000
log = logging.getLogger(__name__)


@dataclass
class RebuildProgress:
    """How far a rebuild has come: events projected into the shadow, and whether it has been swapped in."""

    projected: int = 0
    swapped: bool = False


@dataclass(frozen=True)
class ReadModel:
    """What a service rebuilds: the unit of work whose projections write ``tables``, from its own store.

    ``tables`` are every table the projections write, and nothing else: tables of facts learnt from other
    services' topics, which the service's own history does not hold, stay as they are."""

    unit: UnitOfWork
    tables: Sequence[Table]


async def rebuild_if_outdated(read_model: ReadModel) -> list[str]:
    """At start, before anything reads it: when a table of the read model exists with other columns than
    this release declares (an upgrade changed its shape), the whole read model is made again from the
    service's own history. The names of the outdated tables (none: nothing was done)."""
    tables = list(read_model.tables)
    engine = read_model.unit.engine

    def outdated(sync: Connection) -> list[str]:
        found = inspect(sync)
        return [
            table.name
            for table in tables
            if found.has_table(table.name)
            and {column["name"] for column in found.get_columns(table.name)} != set(table.columns.keys())
        ]

    async with engine.connect() as conn:
        names = await conn.run_sync(outdated)
    if names:
        log.warning("read model of an earlier shape (%s): rebuilding it from the history", ", ".join(names))
        metadata = _metadata_of(tables)
        async with engine.begin() as conn:
            await conn.run_sync(lambda sync: metadata.drop_all(sync, tables=tables))
            await conn.run_sync(lambda sync: metadata.create_all(sync, tables=tables))
        await rebuild_read_model(read_model.unit, tables)
    return names


async def create_read_model(read_model: ReadModel) -> None:
    """Create the read model's tables where missing (before anything projects into them)."""
    metadata = _metadata_of(read_model.tables)
    async with read_model.unit.engine.begin() as conn:
        await conn.run_sync(lambda sync: metadata.create_all(sync, tables=list(read_model.tables)))


async def rebuild_read_model(
    unit: UnitOfWork,
    tables: Sequence[Table],
    *,
    page: int = PAGE,
    progress: Callable[[RebuildProgress], None] | None = None,
) -> RebuildProgress:
    """Project every stored event into new copies of ``tables`` and swap them in; what was projected."""
    state = RebuildProgress()
    shadow = f"rebuild_{uuid.uuid4().hex[:12]}"
    postgres = is_postgres(unit.engine)
    async with unit.engine.connect() as conn:
        if not postgres:
            await _attach(conn, shadow)
        try:
            await _create_shadow(conn, tables, shadow, postgres)
            cursor = START
            while True:
                async with conn.begin():
                    cursor, count = await _project_page(unit, conn, shadow, cursor, page, settled=False)
                state.projected += count
                if progress is not None:
                    progress(state)
                if count < page:
                    break
            async with conn.begin():
                await _keep_writers_out(conn, postgres)
                while True:
                    cursor, count = await _project_page(unit, conn, shadow, cursor, page, settled=True)
                    state.projected += count
                    if count < page:
                        break
                await _swap(conn, tables, shadow, postgres)
            state.swapped = True
            if progress is not None:
                progress(state)
        finally:
            await _drop_shadow(conn, shadow, postgres)
    log.info("read model rebuilt from %d events", state.projected)
    return state


async def _project_page(
    unit: UnitOfWork, conn: AsyncConnection, shadow: str, cursor: GlobalCursor, page: int, *, settled: bool
) -> tuple[GlobalCursor, int]:
    rows = await unit.store.read_all(cursor, page, settled=settled, conn=conn)
    if not rows:
        return cursor, 0
    recorded = await unit.store.decode([stored.envelope for _, stored in rows])
    async with _shadowed(conn, shadow) as shadowed:
        await unit.project_recorded(shadowed, recorded)
    return rows[-1][0], len(rows)


@contextlib.asynccontextmanager
async def _shadowed(conn: AsyncConnection, shadow: str) -> AsyncIterator[AsyncConnection]:
    """The connection with schema-less tables pointed at the shadow, for as long as the block lasts (a
    connection's execution options stay set on it: the store's own tables must be read unshadowed)."""
    await conn.execution_options(schema_translate_map={None: shadow})
    try:
        yield conn
    finally:
        await conn.execution_options(schema_translate_map=None)


def _shadow_file(conn: AsyncConnection, shadow: str) -> Path | None:
    database = make_url(str(conn.engine.url)).database or ""
    return Path(database).with_name(f"{Path(database).name}.{shadow}") if database else None


async def _outside_transaction(conn: AsyncConnection, sql: str) -> None:
    """ATTACH and DETACH cannot run inside a transaction, and SQLAlchemy begins one on every statement."""
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.execute(sql)


async def _attach(conn: AsyncConnection, shadow: str) -> None:
    path = _shadow_file(conn, shadow)
    await _outside_transaction(conn, f"ATTACH DATABASE '{path or ':memory:'}' AS {shadow}")


async def _create_shadow(conn: AsyncConnection, tables: Sequence[Table], shadow: str, postgres: bool) -> None:
    async with conn.begin():
        if postgres:
            await conn.exec_driver_sql(f'CREATE SCHEMA "{shadow}"')
        metadata = _metadata_of(tables)
        async with _shadowed(conn, shadow) as shadowed:
            await shadowed.run_sync(lambda sync: metadata.create_all(sync, tables=list(tables)))


async def _keep_writers_out(conn: AsyncConnection, postgres: bool) -> None:
    if postgres:
        # Appends take ROW EXCLUSIVE on events; SHARE waits for those in flight and keeps new ones out,
        # while readers go on. Every committed event is then final: the tail is read without a horizon.
        await conn.exec_driver_sql("LOCK TABLE events IN SHARE MODE")
    # SQLite: this transaction began IMMEDIATE, so it already holds the write lock.


async def _swap(conn: AsyncConnection, tables: Sequence[Table], shadow: str, postgres: bool) -> None:
    if postgres:
        live = (await conn.exec_driver_sql("SELECT current_schema()")).scalar_one()
        retired = f"{shadow}_old"
        await conn.exec_driver_sql(f'CREATE SCHEMA "{retired}"')
        for table in tables:
            await conn.exec_driver_sql(f'ALTER TABLE "{live}"."{table.name}" SET SCHEMA "{retired}"')
            await conn.exec_driver_sql(f'ALTER TABLE "{shadow}"."{table.name}" SET SCHEMA "{live}"')
        await conn.exec_driver_sql(f'DROP SCHEMA "{retired}" CASCADE')
        return
    for table in reversed(_dependency_order(tables)):
        await conn.execute(delete(table))
    for table in _dependency_order(tables):
        async with _shadowed(conn, shadow) as shadowed:
            rows = (await shadowed.execute(select(table))).mappings().all()
        if rows:
            await conn.execute(insert(table), [dict(row) for row in rows])


async def _drop_shadow(conn: AsyncConnection, shadow: str, postgres: bool) -> None:
    with contextlib.suppress(Exception):
        if conn.in_transaction():
            await conn.rollback()
    if postgres:
        await conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{shadow}" CASCADE')
        await conn.commit()
        return
    await _outside_transaction(conn, f"DETACH DATABASE {shadow}")
    path = _shadow_file(conn, shadow)
    if path is not None:
        path.unlink(missing_ok=True)


def _metadata_of(tables: Sequence[Table]) -> MetaData:
    metadatas = {id(table.metadata): table.metadata for table in tables}
    if len(metadatas) != 1:
        raise ValueError("a read model's tables are declared in one MetaData")
    return next(iter(metadatas.values()))


def _dependency_order(tables: Sequence[Table]) -> list[Table]:
    wanted = {table.name for table in tables}
    return [table for table in _metadata_of(tables).sorted_tables if table.name in wanted]
