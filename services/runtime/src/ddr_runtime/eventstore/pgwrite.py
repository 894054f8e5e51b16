"""How the event store writes on PostgreSQL: a batch of events and their outbox rows in one statement.

The rows travel as arrays (``unnest``), so the statement is prepared once per connection and no per-row
statement is built. The statement is guarded: it writes only if the stream holds, at the expected version,
the event whose hash the batch chains to (version 0: no guard; the unique (stream, version) key refuses a
stream that exists). Being one statement, an append on its own needs no transaction around it.

Inside a caller's transaction the statement goes through SQLAlchemy (its transaction, its errors); on a
connection of the store's own it goes straight to asyncpg, in autocommit: one round trip per append.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, Protocol

import asyncpg
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

EVENT_COLUMNS = (
    "event_id",
    "stream_id",
    "stream_version",
    "event_type",
    "subject",
    "recorded_at",
    "payload",
    "hash",
    "traceparent",
)

APPEND_STATEMENT = f"""
WITH written AS (
    INSERT INTO events ({", ".join(EVENT_COLUMNS)})
    SELECT r.event_id, r.stream_id, r.stream_version, r.event_type, r.subject, $6, r.payload, r.hash, $9
    FROM unnest($1::varchar[], $2::varchar[], $3::int[], $4::varchar[], $5::varchar[], $7::bytea[],
        $8::varchar[])
        WITH ORDINALITY AS r(event_id, stream_id, stream_version, event_type, subject, payload, hash, n)
    WHERE $11::int = 0
        OR EXISTS (SELECT FROM events WHERE stream_id = $12 AND stream_version = $11 AND hash = $13)
    ORDER BY r.n
    RETURNING position, event_id
)
INSERT INTO outbox (event_id, topic) SELECT event_id, $10 FROM written ORDER BY position
"""
"""Events in the order given and their outbox rows in the same order; written only if the guard ($11
version, $12 stream, $13 hash) holds. The outbox insert's row count is the number of events written."""

TAIL_STATEMENT = (
    "SELECT stream_version, hash FROM events WHERE stream_id = $1 ORDER BY stream_version DESC LIMIT 1"
)

NO_GUARD = (0, "", "")


class Refused(Exception):
    """A unique key refused the rows (a version or event id already stored): nothing was written."""


class Rows(Protocol):
    """What the statement needs of one stored event."""

    @property
    def document(self) -> dict[str, Any]: ...
    @property
    def payload(self) -> bytes: ...
    @property
    def hash(self) -> str: ...


def parameters(
    stored: Sequence[Rows],
    recorded_at: datetime,
    traceparent: str | None,
    topic: str,
    guard: tuple[int, str, str],
) -> tuple[Any, ...]:
    documents = [s.document for s in stored]
    return (
        [d["id"] for d in documents],
        [d["streamid"] for d in documents],
        [d["streamversion"] for d in documents],
        [d["type"] for d in documents],
        [d["subject"] for d in documents],
        recorded_at,
        [s.payload for s in stored],
        [s.hash for s in stored],
        traceparent,
        topic,
        *guard,
    )


class Writer(Protocol):
    own: bool
    """Outside any transaction: what the statement wrote is committed, and a refusal leaves nothing to
    roll back."""

    async def tail(self, stream_id: str) -> tuple[int, str] | None: ...

    async def write(self, parameters: tuple[Any, ...]) -> int:
        """The events written (0: the guard did not hold); raises :class:`Refused`."""
        ...


class _InTransaction:
    own = False

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn

    async def tail(self, stream_id: str) -> tuple[int, str] | None:
        row = (await self.conn.exec_driver_sql(TAIL_STATEMENT, (stream_id,))).first()
        return None if row is None else (row.stream_version, row.hash)

    async def write(self, parameters: tuple[Any, ...]) -> int:
        try:
            return (await self.conn.exec_driver_sql(APPEND_STATEMENT, parameters)).rowcount
        except IntegrityError:
            raise Refused from None


class _OwnConnection:
    own = True

    def __init__(self, driver: asyncpg.Connection) -> None:
        self.driver = driver

    async def tail(self, stream_id: str) -> tuple[int, str] | None:
        row = await self.driver.fetchrow(TAIL_STATEMENT, stream_id)
        return None if row is None else (row[0], row[1])

    async def write(self, parameters: tuple[Any, ...]) -> int:
        try:
            status: str = await self.driver.execute(APPEND_STATEMENT, *parameters)
        except asyncpg.UniqueViolationError:
            raise Refused from None
        return int(status.rsplit(" ", 1)[1])


@asynccontextmanager
async def writer(engine: AsyncEngine, conn: AsyncConnection | None) -> AsyncIterator[Writer]:
    """The caller's transaction, or a pooled connection of the store's own used in autocommit."""
    if conn is not None:
        yield _InTransaction(conn)
        return
    async with engine.connect() as own:
        raw = await own.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        try:
            yield _OwnConnection(driver)
        except BaseException:
            if driver.is_closed():  # lost: the pool must not hand it out again
                await own.invalidate()
            raise
