"""Many read-model rows at once: PostgreSQL's COPY for a batch (one round trip), a plain insert otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_runtime.db import is_postgres

COPY_THRESHOLD = 50


async def insert_rows(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (each naming every column it sets; all rows the same columns) into ``table``."""
    if not rows:
        return
    if is_postgres(conn.engine) and len(rows) >= COPY_THRESHOLD:
        columns = list(rows[0])
        raw = await conn.get_raw_connection()
        driver = raw.driver_connection
        assert driver is not None
        await driver.copy_records_to_table(
            table.name, records=[tuple(row[c] for c in columns) for row in rows], columns=columns
        )
        return
    await conn.execute(insert(table), list(rows))
