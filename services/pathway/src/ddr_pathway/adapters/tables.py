"""Read-model tables of the pathway service, one set per generation (blue-green), and the control table.

A generation's ``<prefix>_g<N>_facts`` table holds one row per consumed event (its id the key, so a
redelivered event changes nothing): the non-personal fields that paths and figures need, with the event's
business time (``valid_from``) and record time (``recorded_at``). Figures "as of" a date and "as known on" a
time are range conditions on those two columns: a temporal read model, not a replay.

``<prefix>_generations`` names every generation, its consumer group and its status; exactly one is ``live``
and every query reads that one, so switching to a rebuilt generation is one committed update.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_pathway.domain.facts import Fact, as_utc

DEFAULT_PREFIX = "pw"
STATUSES = ("building", "live", "retired")
FACT_COLUMNS = Fact._fields


@cache
def generations_table(prefix: str = DEFAULT_PREFIX) -> Table:
    return Table(
        f"{prefix}_generations",
        MetaData(),
        Column("generation", Integer, primary_key=True),
        Column("status", String(16), nullable=False),
        Column("group_id", String(200), nullable=False),
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("switched_at", DateTime(timezone=True), nullable=True),
        Column("target_events", BigInteger, nullable=True),
    )


@cache
def facts_table(prefix: str, generation: int) -> Table:
    """The same object for the same name, every time: SQLAlchemy keys its cache of compiled statements on
    the table, so a request building its query on a new one would compile it again (a path read spent a
    tenth of its time there)."""
    name = f"{prefix}_g{generation}_facts"
    return Table(
        name,
        MetaData(),
        Column("event_id", String(64), primary_key=True),
        Column("type", String(200), nullable=False),
        Column("service", String(40), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("person_id", String(200), nullable=True),
        Column("kind", String(32), nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("valid_from", DateTime(timezone=True), nullable=False),
        Column("recorded_at", DateTime(timezone=True), nullable=False),
        Column("actor", String(200), nullable=False),
        Column("reason_code", String(200), nullable=True),
        Column("rule_version", String(100), nullable=True),
        Column("value", String(200), nullable=True),
        Column("movement", String(100), nullable=True),
        Column("category", String(100), nullable=True),
        Column("sex", String(20), nullable=True),
        Column("region", String(100), nullable=True),
        Column("birth_year", Integer, nullable=True),
        Column("number", BigInteger, nullable=True),
        Column("amount", String(40), nullable=True),
        Column("summary", Text, nullable=False),
        Column("causation_id", String(64), nullable=True),
        Column("known_as", String(200), nullable=True),
        Column("refers_to", String(200), nullable=True),
        Index(f"ix_{name}_person", "person_id"),
        Index(f"ix_{name}_kind_valid", "kind", "valid_from"),
    )


if tuple(column.name for column in facts_table("check", 0).columns) != FACT_COLUMNS:
    raise ImportError("the facts table's columns must be the fields of Fact, in the same order")


def add_missing_columns(sync_conn: Any, table: Table) -> list[str]:
    """Add the nullable columns a table made by an older version lacks (``conn.run_sync``). Its old rows read
    them as NULL: a fact recorded before causation was kept orders by time alone until a rebuild."""
    present = {c["name"] for c in inspect(sync_conn).get_columns(table.name)}
    added = []
    for column in table.columns:
        if column.name not in present and column.nullable:
            kind = column.type.compile(dialect=sync_conn.dialect)
            sync_conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN "{column.name}" {kind}')
            added.append(column.name)
    return added


def insert_ignoring_duplicates(conn: AsyncConnection, table: Table) -> Any:
    dialect = postgresql if conn.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing(index_elements=["event_id"])


async def insert_facts(conn: AsyncConnection, table: Table, facts: Sequence[Fact]) -> None:
    """Write ``facts``; an event id already there is left as it was (idempotent, order-free)."""
    if not facts:
        return
    if conn.dialect.name == "postgresql" and len(facts) >= COPY_THRESHOLD:
        await _copy_facts(conn, table, facts)
        return
    await conn.execute(insert_ignoring_duplicates(conn, table), [f._asdict() for f in facts])


COPY_THRESHOLD = 64


async def _copy_facts(conn: AsyncConnection, table: Table, facts: Sequence[Fact]) -> None:
    """PostgreSQL: COPY into a transaction-scoped staging table, then one INSERT ... ON CONFLICT DO NOTHING
    (COPY itself cannot skip a duplicate event id)."""
    stage = f"{table.name}_stage"
    columns = ", ".join(f'"{c}"' for c in FACT_COLUMNS)
    await conn.exec_driver_sql(
        f'CREATE TEMP TABLE IF NOT EXISTS "{stage}" (LIKE "{table.name}" INCLUDING DEFAULTS) ON COMMIT DELETE ROWS'
    )
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(
        stage, records=[tuple(getattr(f, c) for c in FACT_COLUMNS) for f in facts], columns=FACT_COLUMNS
    )
    await conn.exec_driver_sql(
        f'INSERT INTO "{table.name}" ({columns}) SELECT {columns} FROM "{stage}" ON CONFLICT (event_id) DO NOTHING'
    )


_MOMENTS = tuple(FACT_COLUMNS.index(column) for column in ("occurred_at", "valid_from", "recorded_at"))


def fact_from_row(row: Any) -> Fact:
    """A row of ``select(facts_table)`` as a fact. Figures read every fact of the programme, so the row is
    taken by position: the table's columns are the fact's fields, in order (checked once, below)."""
    values = list(row)
    for index in _MOMENTS:
        moment = values[index]
        if isinstance(moment, datetime):
            values[index] = as_utc(moment)
    return Fact(*values)


async def live_generation(conn: AsyncConnection, prefix: str = DEFAULT_PREFIX) -> int | None:
    table = generations_table(prefix)
    row = (await conn.execute(select(table.c.generation).where(table.c.status == "live"))).first()
    return None if row is None else int(row.generation)


async def switch_live(conn: AsyncConnection, prefix: str, generation: int, at: datetime) -> None:
    """Make ``generation`` the live one and retire the previous, in the caller's transaction."""
    table = generations_table(prefix)
    await conn.execute(
        update(table)
        .where(table.c.status == "live", table.c.generation != generation)
        .values(status="retired")
    )
    await conn.execute(
        update(table).where(table.c.generation == generation).values(status="live", switched_at=at)
    )
