"""The key store: one data key per subject, wrapped at rest by a key-encryption key (KEK).

In production only the key service (``ddr_runtime.keyservice``, its own process) opens this store and holds
the KEK; services reach it with their own credentials through :class:`ddr_runtime.crypto.keyclient.
KeyServiceClient`. In development and tests a service may open it in process. Both are :class:`SubjectKeys`.
Erasing a subject destroys its key: every copy of its personal fields, in any store, topic or backup,
becomes unreadable, while the ciphertext (and so every hash over it) stays as it was.

Each wrapped key records which KEK wrapped it (``kek_id``, a fingerprint, never the key): a new KEK is put
in front of the ring, :meth:`KeyStore.rewrap` wraps every key again under it, and the old KEK can then be
dropped. Events are never re-encrypted: their data keys do not change.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from collections.abc import Iterable, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

from cachetools import TTLCache
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import Column, DateTime, LargeBinary, MetaData, String, Table, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_runtime.db import is_postgres

metadata = MetaData()
subject_keys = Table(
    "subject_keys",
    metadata,
    Column("subject", String(200), primary_key=True),
    Column("wrapped_key", LargeBinary, nullable=True),  # NULL once erased
    # Fingerprint of the KEK that wrapped it (NULL: written before KEKs were fingerprinted).
    Column("kek_id", String(16), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("erased_at", DateTime(timezone=True), nullable=True),
)

KEY_BYTES = 32
NONCE_BYTES = 12


held_keys: ContextVar[dict[str, bytes] | None] = ContextVar("ddr_held_subject_keys", default=None)
"""Subject keys fetched once for the command this task runs (``PersonalDataCipher.holding``)."""


def forget_held(subject: str) -> None:
    """The subject's key was erased: the command holding it does not use it again."""
    held = held_keys.get()
    if held is not None:
        held.pop(subject, None)


class SubjectErased(Exception):
    """The subject's key was destroyed: its personal data can no longer be read (nor new data written)."""


class SubjectKeys(Protocol):
    """Where a process gets subject keys: the key service's client, or (development) the store itself."""

    async def create_schema(self) -> None: ...

    async def keys_for_writing(self, subjects: Iterable[str]) -> dict[str, bytes]: ...

    async def keys_for_reading(self, subjects: Iterable[str]) -> dict[str, bytes]: ...

    async def erased(self, subjects: Iterable[str]) -> set[str]: ...

    async def erase(self, subject: str) -> None: ...

    async def dispose(self) -> None: ...


class KekMissing(LookupError):
    """A stored key was wrapped by a KEK that is not in the ring (a rotation finished too early?)."""


def kek_id(key: bytes) -> str:
    """A KEK's fingerprint: names it in the store and the logs without revealing it."""
    return hashlib.sha256(b"ddr-kek-id\x00" + key).hexdigest()[:16]


class KeyRing:
    """The current KEK, which wraps every new key, and the previous ones still able to unwrap."""

    def __init__(self, current: bytes, previous: Sequence[bytes] = ()) -> None:
        for key in (current, *previous):
            if len(key) != KEY_BYTES:
                raise ValueError("a key-encryption key must be 32 bytes")
        self.current_id = kek_id(current)
        self._keks = {kek_id(key): AESGCM(key) for key in (*previous, current)}
        self._current = AESGCM(current)

    @property
    def ids(self) -> list[str]:
        return list(self._keks)

    def wrap(self, subject: str, key: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._current.encrypt(nonce, key, subject.encode())

    def unwrap(self, subject: str, wrapped: bytes, wrapped_by: str | None) -> bytes:
        """The key, opened with the KEK ``wrapped_by`` names (every KEK in turn when it names none)."""
        if wrapped_by is not None and wrapped_by not in self._keks:
            raise KekMissing(f"the KEK {wrapped_by} that wrapped a key is not in the ring")
        candidates = [self._keks[wrapped_by]] if wrapped_by is not None else list(self._keks.values())
        for kek in candidates:
            try:
                return kek.decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], subject.encode())
            except InvalidTag:
                continue
        raise KekMissing("no KEK in the ring opens a stored key")


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
        master_key: bytes | KeyRing,
        *,
        cache_seconds: float = 30.0,
        cache_size: int = 200_000,
    ) -> None:
        if isinstance(master_key, bytes) and len(master_key) != KEY_BYTES:
            raise ValueError("the master key must be 32 bytes")
        self._engine = engine
        self.ring = master_key if isinstance(master_key, KeyRing) else KeyRing(master_key)
        # Bounded in size and age: a long-running service keeps only recent subjects' keys in memory.
        self._cache: TTLCache[str, bytes] = TTLCache(
            maxsize=cache_size, ttl=cache_seconds, timer=time.monotonic
        )

    @property
    def engine(self) -> AsyncEngine:
        return self._engine

    async def create_schema(self) -> None:
        async with self._engine.begin() as conn:
            await conn.run_sync(metadata.create_all)

    async def dispose(self) -> None:
        await self._engine.dispose()

    def forget_cached(self) -> None:
        """Drop every unwrapped key this process holds (after a revocation or a KEK rotation)."""
        self._cache.clear()

    async def rewrap(self, batch: int = 1000) -> int:
        """Wrap again, under the current KEK, every key another KEK wrapped; the number re-wrapped.

        Subject keys do not change, so every event sealed under them opens as before. Each batch commits
        on its own: an interrupted rotation resumes where it stopped.
        """
        current = self.ring.current_id
        done = 0
        while True:
            async with self._engine.begin() as conn:
                rows = (
                    await conn.execute(
                        select(subject_keys.c.subject, subject_keys.c.wrapped_key, subject_keys.c.kek_id)
                        .where(
                            subject_keys.c.wrapped_key.is_not(None),
                            or_(subject_keys.c.kek_id.is_(None), subject_keys.c.kek_id != current),
                        )
                        .limit(batch)
                    )
                ).all()
                for subject, wrapped, wrapped_by in rows:
                    key = self.ring.unwrap(subject, wrapped, wrapped_by)
                    await conn.execute(
                        update(subject_keys)
                        .where(subject_keys.c.subject == subject, subject_keys.c.wrapped_key == wrapped)
                        .values(wrapped_key=self.ring.wrap(subject, key), kek_id=current)
                    )
            done += len(rows)
            if len(rows) < batch:
                return done

    async def kek_usage(self) -> dict[str, int]:
        """How many live keys each KEK wraps (fingerprint, or "unknown" for unfingerprinted rows)."""

        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(subject_keys.c.kek_id, func.count())
                .where(subject_keys.c.wrapped_key.is_not(None))
                .group_by(subject_keys.c.kek_id)
            )
            return {kek or "unknown": int(count) for kek, count in rows}

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

    async def erased(self, subjects: Iterable[str]) -> set[str]:
        """Which of the subjects were erased (their key destroyed), in one look-up per 500, creating nothing: a
        subject never given a key is not erased. For reads, which must never make a key."""
        wanted = sorted(set(subjects))
        found: set[str] = set()
        async with self._engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                result = await conn.execute(
                    select(subject_keys.c.subject).where(
                        subject_keys.c.subject.in_(chunk), subject_keys.c.wrapped_key.is_(None)
                    )
                )
                found.update(result.scalars())
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
        forget_held(subject)

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
        rows = [
            {
                "subject": s,
                "wrapped_key": self.ring.wrap(s, k),
                "kek_id": self.ring.current_id,
                "created_at": now,
            }
            for s, k in fresh.items()
        ]
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
                    select(subject_keys.c.subject, subject_keys.c.wrapped_key, subject_keys.c.kek_id).where(
                        subject_keys.c.subject.in_(chunk), subject_keys.c.wrapped_key.is_not(None)
                    )
                )
                for subject, wrapped, wrapped_by in result:
                    loaded[subject] = self.ring.unwrap(subject, wrapped, wrapped_by)
        self._cache.update(loaded)
        return loaded
