"""Async SQLAlchemy engines for the two backends a store runs on: embedded SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine


def create_engine(url: str, *, pool_size: int = 10) -> AsyncEngine:
    """An engine whose transactions are safe for an append-only store on either backend.

    SQLite: WAL, a busy timeout, and ``BEGIN IMMEDIATE`` so a transaction that reads a stream's tail and then
    appends holds the write lock from its start (no upgrade deadlock, commits in order).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})
        _make_sqlite_transactions_immediate(engine)
        return engine
    # No pre-ping: it costs a round trip per transaction. A dropped connection fails its transaction, which
    # callers retry (consumers rewind, HTTP clients retry with their idempotency key); recycle stale ones.
    return create_async_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_recycle=1800)


def is_postgres(engine: AsyncEngine) -> bool:
    return engine.dialect.name == "postgresql"


@asynccontextmanager
async def single_statement(engine: AsyncEngine) -> AsyncIterator[AsyncConnection]:
    """A connection for writes of one statement each, every one committed as it runs: on PostgreSQL in
    autocommit (no BEGIN and COMMIT around it: two round trips fewer, and one statement is atomic anyway);
    on SQLite in a transaction (its ``BEGIN IMMEDIATE`` is what orders writers). Never for two statements
    that must commit together."""
    if is_postgres(engine):
        async with engine.connect() as conn:
            yield await conn.execution_options(isolation_level="AUTOCOMMIT")
    else:
        async with engine.begin() as conn:
            yield conn


def _make_sqlite_transactions_immediate(engine: AsyncEngine) -> None:
    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, issue BEGIN (the documented pysqlite/aiosqlite recipe).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")
