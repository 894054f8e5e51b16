"""Stored answers to POSTs sent with an ``Idempotency-Key``, per caller.

The first request claims the key (a row without an answer) before it runs, so a retry that arrives while it
still runs cannot run it twice; the answer is stored when it completes, and the claim dropped if it fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_screening.adapters.tables import idempotency_keys


@dataclass(frozen=True)
class StoredAnswer:
    request_hash: str
    status_code: int | None
    body: Any
    headers: dict[str, str]


class IdempotencyStore:
    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def claim(self, principal: str, key: str, request_hash: str) -> StoredAnswer | None:
        """Claim ``key`` for this request; if it was claimed before, what is stored for it."""
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(idempotency_keys).values(
                        principal=principal, key=key, request_hash=request_hash, created_at=datetime.now(UTC)
                    )
                )
            return None
        except IntegrityError:
            pass
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    select(idempotency_keys).where(
                        idempotency_keys.c.principal == principal, idempotency_keys.c.key == key
                    )
                )
            ).one()
        return StoredAnswer(row.request_hash, row.status_code, row.body, dict(row.headers or {}))

    async def complete(
        self, principal: str, key: str, status_code: int, body: Any, headers: dict[str, str]
    ) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                update(idempotency_keys)
                .where(idempotency_keys.c.principal == principal, idempotency_keys.c.key == key)
                .values(status_code=status_code, body=body, headers=headers)
            )

    async def release(self, principal: str, key: str) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                delete(idempotency_keys).where(
                    idempotency_keys.c.principal == principal, idempotency_keys.c.key == key
                )
            )
