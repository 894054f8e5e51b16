"""Revoked bearer tokens: by token id (``jti``), or every token of a subject issued up to a moment.

The list is kept by the key service (in development, in the shared key store's database) and every service
process holds a copy in memory, refreshed every few seconds, so the check on each request costs no I/O.
A copy older than its staleness bound (the key service cannot be reached) refuses every token: a revoked
token must never pass because the list could not be fetched.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, Protocol

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_runtime.auth.roles import Principal

RevocationKind = Literal["jti", "subject"]
_log = logging.getLogger(__name__)

metadata = MetaData()
token_revocations = Table(
    "token_revocations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(10), nullable=False),
    Column("value", String(200), nullable=False),
    # Tokens issued at or before this moment are refused (for a jti: the moment it was revoked).
    Column("issued_up_to", DateTime(timezone=True), nullable=False),
    # After this the entry is moot: every token it could refuse has expired anyway.
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("reason", String(500), nullable=False),
    Column("revoked_by", String(200), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class Revocation:
    seq: int
    kind: RevocationKind
    value: str
    issued_up_to: datetime
    expires_at: datetime


class RevocationSource(Protocol):
    async def revocations_since(self, after: int) -> list[Revocation]: ...


class TokenRevoked(Exception):
    """The token was revoked (by its id or its subject)."""


class RevocationsUnavailable(Exception):
    """The revocation list could not be refreshed within its staleness bound: no token can be trusted."""


class RevocationStore:
    """The revocation list in the key store's database (the key service's, or development's)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_schema(self) -> None:
        async with self._engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def revoke(
        self,
        kind: RevocationKind,
        value: str,
        *,
        reason: str,
        revoked_by: str,
        max_lifetime: timedelta,
        now: datetime | None = None,
    ) -> Revocation:
        """Record a revocation of a token id or of every token a subject holds now."""
        if kind not in ("jti", "subject") or not value:
            raise ValueError("a revocation names a jti or a subject")
        now = now or datetime.now(UTC)
        row = {
            "kind": kind,
            "value": value,
            "issued_up_to": now,
            "expires_at": now + max_lifetime + timedelta(minutes=5),
            "reason": reason,
            "revoked_by": revoked_by,
            "created_at": now,
        }
        async with self._engine.begin() as conn:
            result = await conn.execute(token_revocations.insert().values(**row))
            seq = int(result.inserted_primary_key[0])  # type: ignore[index]
        return Revocation(seq, kind, value, now, row["expires_at"])  # type: ignore[arg-type]

    async def revocations_since(self, after: int) -> list[Revocation]:
        now = datetime.now(UTC)
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    token_revocations.c.seq,
                    token_revocations.c.kind,
                    token_revocations.c.value,
                    token_revocations.c.issued_up_to,
                    token_revocations.c.expires_at,
                )
                .where(token_revocations.c.seq > after)
                .order_by(token_revocations.c.seq)
            )
            found = [
                Revocation(r.seq, r.kind, r.value, _aware(r.issued_up_to), _aware(r.expires_at)) for r in rows
            ]
        # Expired entries still advance the caller's position, so they are sent, and the caller drops them.
        return [r for r in found if r.expires_at > now] or found[-1:]


class RevocationList:
    """This process's copy of the revocation list, checked on every request."""

    def __init__(
        self,
        source: RevocationSource,
        *,
        refresh_seconds: float = 5.0,
        max_staleness_seconds: float = 60.0,
    ) -> None:
        self._source = source
        self._refresh = refresh_seconds
        self._max_staleness = max_staleness_seconds
        self._position = 0
        self._jtis: dict[str, datetime] = {}  # jti → expiry of the entry
        self._subjects: dict[str, tuple[datetime, datetime]] = {}  # subject → (issued up to, expiry)
        self._fresh_at: float | None = None

    @property
    def current(self) -> bool:
        """Loaded and refreshed within the staleness bound."""
        return self._fresh_at is not None and time.monotonic() - self._fresh_at <= self._max_staleness

    async def refresh(self) -> None:
        """Fetch what was revoked since the last refresh."""
        for revocation in await self._source.revocations_since(self._position):
            self._position = max(self._position, revocation.seq)
            if revocation.kind == "jti":
                self._jtis[revocation.value] = revocation.expires_at
            else:
                previous = self._subjects.get(revocation.value)
                up_to = max(revocation.issued_up_to, previous[0]) if previous else revocation.issued_up_to
                expiry = max(revocation.expires_at, previous[1]) if previous else revocation.expires_at
                self._subjects[revocation.value] = (up_to, expiry)
        self._drop_expired()
        self._fresh_at = time.monotonic()

    def check(self, principal: Principal) -> None:
        """Raise TokenRevoked for a revoked token, RevocationsUnavailable when the list is too old."""
        if not self.current:
            raise RevocationsUnavailable("the token revocation list is not current")
        if principal.token_id is not None and principal.token_id in self._jtis:
            raise TokenRevoked("the token was revoked")
        revoked_subject = self._subjects.get(principal.subject)
        if revoked_subject is not None and (
            principal.issued_at is None or principal.issued_at <= revoked_subject[0]
        ):
            raise TokenRevoked("the subject's tokens were revoked")

    @asynccontextmanager
    async def kept_fresh(self) -> AsyncIterator[RevocationList]:
        """Load the list, then refresh it in the background until the block ends."""
        await self.refresh()
        task = asyncio.create_task(self._keep_refreshing(), name="token-revocations")
        try:
            yield self
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _keep_refreshing(self) -> None:
        while True:
            await asyncio.sleep(self._refresh)
            try:
                await self.refresh()
            except Exception as error:  # noqa: BLE001 - keep trying; staleness refuses tokens meanwhile
                _log.warning("token revocation list not refreshed: %s", type(error).__qualname__)

    def _drop_expired(self) -> None:
        now = datetime.now(UTC)
        self._jtis = {jti: until for jti, until in self._jtis.items() if until > now}
        self._subjects = {s: entry for s, entry in self._subjects.items() if entry[1] > now}


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


__all__: Sequence[str] = [
    "Revocation",
    "RevocationList",
    "RevocationSource",
    "RevocationStore",
    "RevocationsUnavailable",
    "TokenRevoked",
]
