"""How many small list uploads a movement liaison may still make: a token bucket per liaison in the store.

A one-row upload once told a liaison whether anyone, in any movement, was on file. Liaisons' answers no
longer say so; this bound stays so that probing by many tiny lists is slow and seen. Each upload by a
liaison takes a token before the file is read; an upload that turns out to be a real list
(``SMALL_LIST_ROWS`` rows or more), or a file already imported, gives it back. Tokens come back at ``REFILL_SECONDS`` each, up
to ``CAPACITY``. The CNDDR reads each liaison's counts (``GET /lists/upload-activity``).

Not a projection of events (it is not rebuilt): its own metadata, beside the read model.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Column, DateTime, Float, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

CAPACITY = 5
REFILL_SECONDS = 3600.0

allowance_metadata = MetaData()
upload_allowances = Table(
    "reg_upload_allowances",
    allowance_metadata,
    Column("subject", String(200), primary_key=True),
    Column("movement", String(40), nullable=False),
    Column("tokens", Float, nullable=False),
    Column("refreshed_at", DateTime(timezone=True), nullable=False),
    Column("small_uploads", Integer, nullable=False),
    Column("refused_uploads", Integer, nullable=False),
    Column("last_small_at", DateTime(timezone=True), nullable=True),
    Column("last_refused_at", DateTime(timezone=True), nullable=True),
)


class UploadAllowances:
    """The service layer's ``UploadAllowance`` in the store."""

    def __init__(
        self, engine: AsyncEngine, *, capacity: int = CAPACITY, refill_seconds: float = REFILL_SECONDS
    ) -> None:
        self.engine = engine
        self.capacity = capacity
        self.refill_seconds = refill_seconds

    async def create_schema(self) -> None:
        async with self.engine.begin() as conn:
            await conn.run_sync(allowance_metadata.create_all)

    async def take(self, subject: str, movement: str) -> int | None:
        """Take a token for an upload about to be read; a refusal is counted."""
        now = datetime.now(UTC)
        async with self.engine.begin() as conn:
            row = await self._row(conn, subject, movement, now)
            tokens = self._refilled(row, now)
            if tokens < 1:
                await conn.execute(
                    update(upload_allowances)
                    .where(upload_allowances.c.subject == subject)
                    .values(
                        tokens=tokens,
                        refreshed_at=now,
                        refused_uploads=upload_allowances.c.refused_uploads + 1,
                        last_refused_at=now,
                    )
                )
                return max(1, math.ceil((1 - tokens) * self.refill_seconds))
            await conn.execute(
                update(upload_allowances)
                .where(upload_allowances.c.subject == subject)
                .values(tokens=tokens - 1, refreshed_at=now)
            )
        return None

    async def settle(self, subject: str, *, small: bool) -> None:
        """After the upload: a small one is counted (its token stays spent), any other gives it back."""
        now = datetime.now(UTC)
        values: dict[str, Any] = (
            {"small_uploads": upload_allowances.c.small_uploads + 1, "last_small_at": now}
            if small
            else {"tokens": upload_allowances.c.tokens + 1}
        )
        async with self.engine.begin() as conn:
            await conn.execute(
                update(upload_allowances).where(upload_allowances.c.subject == subject).values(**values)
            )

    async def activity(self) -> list[dict[str, Any]]:
        """Each liaison's small and refused uploads, and the tokens they have now, most refused first."""
        now = datetime.now(UTC)
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(upload_allowances))).all()
        found = [
            {
                "subject": row.subject,
                "movement": row.movement,
                "small_uploads": row.small_uploads,
                "refused_uploads": row.refused_uploads,
                "uploads_left": int(self._refilled(row, now)),
                "last_small_at": _aware(row.last_small_at),
                "last_refused_at": _aware(row.last_refused_at),
            }
            for row in rows
        ]
        return sorted(found, key=lambda r: (-r["refused_uploads"], -r["small_uploads"], r["subject"]))

    async def _row(self, conn: AsyncConnection, subject: str, movement: str, now: datetime) -> Any:
        query = select(upload_allowances).where(upload_allowances.c.subject == subject)
        if conn.dialect.name == "postgresql":
            query = query.with_for_update()
        row = (await conn.execute(query)).first()
        if row is None:
            await conn.execute(
                insert(upload_allowances).values(
                    subject=subject,
                    movement=movement,
                    tokens=float(self.capacity),
                    refreshed_at=now,
                    small_uploads=0,
                    refused_uploads=0,
                )
            )
            row = (await conn.execute(query)).one()
        return row

    def _refilled(self, row: Any, now: datetime) -> float:
        elapsed = max(0.0, (now - _aware(row.refreshed_at)).total_seconds())  # type: ignore[operator]
        return float(min(self.capacity, row.tokens + elapsed / self.refill_seconds))


def _aware(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
