"""Tables every service store holds: its events, the outbox the relay drains, the inbox of consumed ids."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    text,
)
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_runtime.db import is_postgres

metadata = MetaData()

# SQLite only gives AUTOINCREMENT semantics to an INTEGER PRIMARY KEY.
Position = BigInteger().with_variant(Integer, "sqlite")

events = Table(
    "events",
    metadata,
    Column("position", Position, primary_key=True, autoincrement=True),
    # The writing transaction's id (PostgreSQL) orders the global read safely; SQLite commits serially.
    Column("tx_id", BigInteger, nullable=False, server_default=text("0")),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("stream_id", String(200), nullable=False),
    Column("stream_version", Integer, nullable=False),
    Column("event_type", String(200), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("payload", LargeBinary, nullable=False),
    Column("hash", String(64), nullable=False),
    # Copied out of the payload so the relay can continue the trace without parsing every event.
    Column("traceparent", String(64), nullable=True),
    UniqueConstraint("stream_id", "stream_version", name="uq_events_stream_version"),
    Index("ix_events_global_order", "tx_id", "position"),
)

outbox = Table(
    "outbox",
    metadata,
    Column("id", Position, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False, unique=True),
    Column("topic", String(200), nullable=False),
    # Never reuse an id once its row is deleted: the relay skips the ids it is still deleting, and a reused
    # id would hide a new event behind them (SQLite otherwise restarts at max(rowid) + 1 in an empty table).
    sqlite_autoincrement=True,
)

inbox = Table(
    "inbox",
    metadata,
    Column("consumer", String(200), primary_key=True),
    Column("event_id", String(36), primary_key=True),
    Column("topic", String(200), nullable=False),
    Column("partition", Integer, nullable=False),
    Column("offset", BigInteger, nullable=False),
    Column("processed_at", DateTime(timezone=True), nullable=False),
)

PG_TX_ID = "(pg_current_xact_id()::text::bigint)"


async def create_store_schema(engine: AsyncEngine) -> None:
    """Create the tables once (idempotent)."""
    async with engine.begin() as conn:
        await conn.run_sync(metadata.create_all)
        if is_postgres(engine):
            await conn.exec_driver_sql(f"ALTER TABLE events ALTER COLUMN tx_id SET DEFAULT {PG_TX_ID}")
