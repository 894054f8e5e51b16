"""The key store: one data key per subject, wrapped at rest by a key-encryption key.

Every service reaches the same key store through the runtime (an SQLite file under ``var/`` or a
PostgreSQL database; a KMS or Vault can take its place in production behind :class:`KeyStore`'s methods).
Erasing a subject destroys its key: every copy of its personal fields, in any store, topic or backup,
becomes unreadable, while the ciphertext (and so every hash over it) stays as it was.
"""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from cachetools import TTLCache
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_runtime.db import is_postgres

metadata = MetaData()
subject_keys = Table(
    "subject_keys",
    metadata,
    Column("subject", String(200), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=True),  # NULL once erased
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)

KEY_BYTES = 32
NONCE_BYTES = 12


class SubjectErased(Exception):
    """The subject's key was destroyed: its personal data can no longer be read (nor new data written)."""


def load_or_create_master_key(path: Path) -> bytes:
    """Development key-encryption key kept in ``var/secrets`` (production passes ``DDR_MASTER_KEY``)."""
    if path.exists():
        return base64.b64decode(path.read_bytes())
    path.parent.mkdir(parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=256)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(base64.b64encode(key))
    return key


class KeyStore:
    """Subject keys in a database, unwrapped keys cached briefly in memory.

    ``cache_seconds`` bounds how long another process may still decrypt after an erasure made elsewhere;
    an erasure made through this instance takes effect here at once.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        master_key: bytes,
        *,
        cache_seconds: float = 30.0,
        cache_size: int = 200_000,
    ) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError("the master key must be 32 bytes")
        self._engine = engine
        self._kek = AESGCM(master_key)
        # Bounded in size and age: a long-running service keeps only recent subjects' keys in memory.
        self._cache: TTLCache[str, bytes] = TTLCache(
            maxsize=cache_size, ttl=cache_seconds, timer=time.monotonic
        )

    async def create_schema(self) -> None:
        async with self._engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def keys_for_writing(self, subjects: Iterable[str]) -> dict[str, bytes]:
        """The key of each subject, created when it has none. An erased subject raises :class:`SubjectErased`."""
        wanted = set(subjects)
        found = self._cached(wanted)
        missing = wanted - found.keys()
        if missing:
            created = await self._create_missing(missing)
            loaded = created | (
                await self._load(missing - created.keys()) if missing - created.keys() else {}
            )
            erased = missing - loaded.keys()
            if erased:
                raise SubjectErased(f"{len(erased)} subject(s) erased")
            found.update(loaded)
        return found

    async def keys_for_reading(self, subjects: Iterable[str]) -> dict[str, bytes]:
        """Keys of the subjects that still have one; erased or unknown subjects are absent."""
        wanted = set(subjects)
        found = self._cached(wanted)
        missing = wanted - found.keys()
        if missing:
            found.update(await self._load(missing))
        return found

    async def erase(self, subject: str) -> None:
        """Destroy the subject's key for good (crypto-shredding). Idempotent."""
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                update(subject_keys)
                .where(subject_keys.c.subject == subject, subject_keys.c.wrapped_key.is_not(None))
                .values(wrapped_key=None, erased_at=now)
            )
            if result.rowcount == 0:
                # Unknown subject: record the erasure so no key can ever be created for it.
                await conn.execute(
                    self._insert()
                    .values(subject=subject, wrapped_key=None, created_at=now, erased_at=now)
                    .on_conflict_do_nothing()
                )
        self._cache.pop(subject, None)

    def _cached(self, subjects: set[str]) -> dict[str, bytes]:
        found: dict[str, bytes] = {}
        for subject in subjects:
            key = self._cache.get(subject)
            if key is not None:
                found[subject] = key
        return found

    def _insert(self) -> postgresql.Insert | sqlite.Insert:
        return postgresql.insert(subject_keys) if is_postgres(self._engine) else sqlite.insert(subject_keys)

    async def _create_missing(self, subjects: set[str]) -> dict[str, bytes]:
        """Create keys for subjects that have none, in one statement; return the keys this call created
        (a subject that already had a key, or was erased, is left alone and not returned)."""
        now = datetime.now(UTC)
        fresh = {s: AESGCM.generate_key(256) for s in sorted(subjects)}
        rows = [{"subject": s, "wrapped_key": self._wrap(s, k), "created_at": now} for s, k in fresh.items()]
        statement = self._insert().on_conflict_do_nothing().returning(subject_keys.c.subject)
        async with self._engine.begin() as conn:
            created = set((await conn.execute(statement, rows)).scalars())
        for subject in created:
            self._cache[subject] = fresh[subject]
        return {subject: fresh[subject] for subject in created}

    async def _load(self, subjects: set[str]) -> dict[str, bytes]:
        loaded: dict[str, bytes] = {}
        ordered = sorted(subjects)
        async with self._engine.connect() as conn:
            for start in range(0, len(ordered), 500):
                chunk = ordered[start : start + 500]
                result = await conn.execute(
                    select(subject_keys.c.subject, subject_keys.c.wrapped_key).where(
                        subject_keys.c.subject.in_(chunk), subject_keys.c.wrapped_key.is_not(None)
                    )
                )
                for subject, wrapped in result:
                    loaded[subject] = self._unwrap(subject, wrapped)
        self._cache.update(loaded)
        return loaded

    def _wrap(self, subject: str, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._kek.encrypt(nonce, key, subject.encode())

    def _unwrap(self, subject: str, wrapped: bytes) -> bytes:
        return self._kek.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], subject.encode())
