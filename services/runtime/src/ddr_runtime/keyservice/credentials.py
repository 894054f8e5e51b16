"""Per-service credentials of the key service, and the record of what each one asked for.

A credential is issued for one service on one host, with grants; its secret is shown once and only its
SHA-256 is kept (the secret is 32 random bytes, so no slow hash is needed). Revoking by service or by host
ends every credential they hold at once: from the next call on they unwrap nothing.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

Grant = Literal["create", "unwrap", "erase"]
GRANTS: tuple[Grant, ...] = ("create", "unwrap", "erase")
PREFIX = "ddrk"

metadata = MetaData()
key_credentials = Table(
    "key_credentials",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("service", String(100), nullable=False, index=True),
    Column("host", String(200), nullable=False, index=True),
    Column("grants", String(100), nullable=False),
    Column("secret_sha256", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("revoked_reason", String(500), nullable=True),
)
key_usage = Table(
    "key_usage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("credential_id", String(32), nullable=False, index=True),
    Column("service", String(100), nullable=False),
    Column("host", String(200), nullable=False),
    Column("operation", String(20), nullable=False),
    Column("subjects", Integer, nullable=False),  # how many subjects were asked for
    Column("keys_given", Integer, nullable=False),  # how many keys were handed out (or erased)
)


@dataclass(frozen=True)
class Credential:
    id: str
    service: str
    host: str
    grants: frozenset[str]
    created_at: datetime
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    def allows(self, grant: Grant) -> bool:
        return self.revoked_at is None and grant in self.grants


@dataclass(frozen=True)
class Usage:
    credential_id: str
    service: str
    host: str
    operation: str
    calls: int
    subjects: int
    keys: int


class Credentials:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def create_schema(self) -> None:
        async with self._engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def issue(self, service: str, host: str, grants: Iterable[Grant]) -> tuple[Credential, str]:
        """A new credential and its secret (``ddrk.<id>.<secret>``), shown this once."""
        chosen = sorted(set(grants))
        if not service or not host or not chosen or not set(chosen) <= set(GRANTS):
            raise ValueError(f"a credential names a service, a host and grants among {', '.join(GRANTS)}")
        credential_id = uuid.uuid4().hex
        secret = secrets.token_urlsafe(32)
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            await conn.execute(
                key_credentials.insert().values(
                    id=credential_id,
                    service=service,
                    host=host,
                    grants=",".join(chosen),
                    secret_sha256=_digest(secret),
                    created_at=now,
                )
            )
        credential = Credential(credential_id, service, host, frozenset(chosen), now)
        return credential, f"{PREFIX}.{credential_id}.{secret}"

    async def authenticate(self, presented: str) -> Credential | None:
        """The live credential ``presented`` stands for; None when unknown, wrong or revoked."""
        prefix, _, rest = presented.partition(".")
        credential_id, _, secret = rest.partition(".")
        if prefix != PREFIX or not credential_id or not secret or len(credential_id) > 32:
            return None
        async with self._engine.connect() as conn:
            row = (
                await conn.execute(select(key_credentials).where(key_credentials.c.id == credential_id))
            ).first()
        if row is None or not hmac.compare_digest(row.secret_sha256, _digest(secret)):
            return None
        credential = _credential(row)
        return credential if credential.revoked_at is None else None

    async def revoke(
        self,
        *,
        reason: str,
        credential_id: str | None = None,
        service: str | None = None,
        host: str | None = None,
    ) -> int:
        """Revoke every live credential matching all the given criteria (at least one); how many."""
        criteria = [
            column == value
            for column, value in (
                (key_credentials.c.id, credential_id),
                (key_credentials.c.service, service),
                (key_credentials.c.host, host),
            )
            if value is not None
        ]
        if not criteria:
            raise ValueError("name a credential, a service or a host to revoke")
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(key_credentials)
                .where(*criteria, key_credentials.c.revoked_at.is_(None))
                .values(revoked_at=datetime.now(UTC), revoked_reason=reason)
            )
        return int(result.rowcount)

    async def all(self) -> list[Credential]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(select(key_credentials).order_by(key_credentials.c.created_at))
            return [_credential(row) for row in rows]

    async def record(self, credential: Credential, operation: str, subjects: int, keys: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                key_usage.insert().values(
                    at=datetime.now(UTC),
                    credential_id=credential.id,
                    service=credential.service,
                    host=credential.host,
                    operation=operation,
                    subjects=subjects,
                    keys_given=keys,
                )
            )

    async def usage(self, since: datetime) -> list[Usage]:
        """Calls, subjects asked for and keys handed out per credential and operation since ``since``."""
        u = key_usage.c
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(
                    u.credential_id,
                    u.service,
                    u.host,
                    u.operation,
                    func.count(),
                    func.sum(u.subjects),
                    func.sum(u.keys_given),
                )
                .where(u.at >= since)
                .group_by(u.credential_id, u.service, u.host, u.operation)
                .order_by(u.service, u.host, u.operation)
            )
            return [Usage(r[0], r[1], r[2], r[3], int(r[4]), int(r[5] or 0), int(r[6] or 0)) for r in rows]


async def provision(
    credentials: Credentials,
    files: Mapping[str, Path],
    *,
    host: str,
    erasing: Iterable[str] = (),
    owner: int | None = None,
) -> dict[str, Path]:
    """A credential for each service in the file named for it (0600, owned by ``owner`` when given): one
    still live with the grants the service is to have is kept; a missing or revoked one, or one whose grants
    differ (a service given ``erase`` since), is issued again (create and unwrap, erase for ``erasing``)."""
    may_erase = set(erasing)
    written: dict[str, Path] = {}
    for service, path in files.items():
        grants: list[Grant] = ["create", "unwrap", *(("erase",) if service in may_erase else ())]
        live = await credentials.authenticate(path.read_text().strip()) if path.exists() else None
        if live is not None and live.grants == frozenset(grants):
            written[service] = path
            continue
        if live is not None:  # superseded: its grants were not the service's any more
            await credentials.revoke(reason="grants changed", credential_id=live.id)
        _, secret = await credentials.issue(service, host, grants)
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secret)
        if owner is not None:
            os.chown(path.parent, owner, owner)
            os.chown(path, owner, owner)
        written[service] = path
    return written


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _credential(row: object) -> Credential:
    revoked = row.revoked_at  # type: ignore[attr-defined]
    created = row.created_at  # type: ignore[attr-defined]
    return Credential(
        row.id,  # type: ignore[attr-defined]
        row.service,  # type: ignore[attr-defined]
        row.host,  # type: ignore[attr-defined]
        frozenset(row.grants.split(",")),  # type: ignore[attr-defined]
        created if created.tzinfo else created.replace(tzinfo=UTC),
        (revoked if revoked.tzinfo else revoked.replace(tzinfo=UTC)) if revoked is not None else None,
        row.revoked_reason,  # type: ignore[attr-defined]
    )
