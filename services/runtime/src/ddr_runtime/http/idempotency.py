"""Stored answers to POSTs sent with an ``Idempotency-Key``, per caller.

The first request claims the key (a row without an answer) before it runs, so a retry that arrives while it
still runs cannot run it twice; the answer is stored when it completes, and the claim dropped if it fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine


def idempotency_table(name: str, metadata: MetaData) -> Table:
    """A service's table of stored answers (in its own metadata, so its lifespan creates it)."""
    return Table(
        name,
        metadata,
        Column("principal", String(200), primary_key=True),
        Column("key", String(200), primary_key=True),
        Column("request_hash", String(64), nullable=False),
        Column("status_code", Integer, nullable=True),  # NULL while the first request is still running
        Column("body", JSON, nullable=True),
        Column("headers", JSON, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int | None
    body: Any
    headers: dict[str, str]


class IdempotencyStore:
    """Stored answers in ``table`` (made by :func:`idempotency_table`) of the service's own database."""

    def __init__(self, engine: AsyncEngine, table: Table) -> None:
        self.engine = engine
        self.table = table

    async def claim(self, principal: str, key: str, request_hash: str) -> StoredAnswer | None:
        """Claim ``key`` for this request; if it was claimed before, what is stored for it."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(self.table).values(
                        principal=principal, key=key, request_hash=request_hash, created_at=datetime.now(UTC)
                    )
                )
            return None
        except IntegrityError:
            pass
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(self.table).where(self.table.c.principal == principal, self.table.c.key == key)
                )
            ).one()
        return StoredAnswer(row.request_hash, row.status_code, row.body, dict(row.headers or {}))

    async def complete(
        self, principal: str, key: str, status_code: int, body: Any, headers: dict[str, str]
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(self.table)
                .where(self.table.c.principal == principal, self.table.c.key == key)
                .values(status_code=status_code, body=body, headers=headers)
            )

    async def release(self, principal: str, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(self.table).where(self.table.c.principal == principal, self.table.c.key == key)
            )
