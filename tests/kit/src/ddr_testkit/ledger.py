"""What a service's read ledger holds of one person, for tests of the ledger's child rule (issue 14)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_runtime.audit.reads import person_reads


async def ledger_rows(engine: AsyncEngine, person_id: str) -> list[tuple[str, str, bool | None]]:
    """Each read of ``person_id`` in the ledger, oldest first: its route, its outcome, and whether the route
    said the person is a child (None: it did not say, which every route of a service must)."""
    query = (
        select(person_reads.c.route, person_reads.c.outcome, person_reads.c.child)
        .where(person_reads.c.person_id == person_id)
        .order_by(person_reads.c.id)
    )
    async with engine.connect() as conn:
        return [(row.route, row.outcome, row.child) for row in await conn.execute(query)]
