"""Each service signs its own store's history and publishes it: the store checkpointer.

A service process takes a signed RFC 9162 checkpoint of its own event store periodically (``Settings.
audit_checkpoint_seconds``, the first at start) and on demand (``POST /audit/checkpoints``, an operator), and
publishes it on the checkpoints topic as a ``StoreCheckpointSigned`` envelope. Nobody else opens the store.

Incremental: the tree's frontier (one hash per perfect subtree, ``ddr_runtime.audit.merkle``) and the position
of its last leaf in the store's global order are kept with each checkpoint, in the ``audit_checkpoints`` table of
the same store, so the next checkpoint reads only the events appended since. Leaves follow the store's global
order (PostgreSQL: writing transaction id then position, read only below the oldest running transaction, so a
leaf is final when it is read; SQLite: position).

The checkpoints of one store form a hash chain of their own (each envelope's ``prevhash`` is the previous one's
hash, its ``streamversion`` the checkpoint's sequence number), so a checkpoint removed from the topic is seen.
Publishing is an outbox: a checkpoint row commits first and is published after, again until acknowledged.
Several processes of one service may run: a sequence number is taken by one of them only, the others take the
next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends
from faststream.kafka import KafkaBroker
from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_contracts.audit import StoreCheckpointSigned, checkpoint_stream, checkpoint_subject
from ddr_contracts.envelope import GENESIS_HASH, EventEnvelope, chain_hash, schema_ref
from ddr_contracts.topics import source_of
from ddr_contracts.wire import event_headers
from ddr_runtime import metrics
from ddr_runtime.audit.commitment import event_leaf
from ddr_runtime.audit.merkle import TreeAccumulator
from ddr_runtime.audit.signing import (
    CHECKPOINT_FORMAT,
    CheckpointBody,
    SignedCheckpoint,
    TreeHead,
    issued_at_text,
)
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Role
from ddr_runtime.db import is_postgres
from ddr_runtime.eventstore.schema import events
from ddr_runtime.eventstore.store import in_global_order

log = logging.getLogger(__name__)

READ_BATCH = 5000

checkpoint_metadata = MetaData()
checkpoints = Table(
    "audit_checkpoints",
    checkpoint_metadata,
    Column("sequence", Integer, primary_key=True, autoincrement=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("root", String(64), nullable=False),
    Column("frontier", Text, nullable=False),  # JSON [[subtree size, hash hex], ...], largest first
    Column("cursor_tx", BigInteger, nullable=False),  # the last leaf's place in the global order
    Column("cursor_position", BigInteger, nullable=False),
    Column("payload", LargeBinary, nullable=False),  # the envelope as published
    Column("hash", String(64), nullable=False),
    Column("published", Boolean, nullable=False, default=False),
)


@dataclass(frozen=True)
class TakenCheckpoint:
    sequence: int
    checkpoint: SignedCheckpoint
    envelope: EventEnvelope

    @property
    def head(self) -> TreeHead:
        return self.checkpoint.body.trees[0]

    def as_json(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "event_id": self.envelope.id, **self.checkpoint.as_json()}


@dataclass(frozen=True)
class _Tail:
    sequence: int
    tree: TreeAccumulator
    cursor: tuple[int, int]
    hash: str


class StoreCheckpointer:
    """Signs the tree head of one service's store and publishes it on the checkpoints topic."""

    def __init__(
        self,
        engine: AsyncEngine,
        broker: KafkaBroker,
        *,
        service: str,
        topic: str,
        key: Callable[[], Ed25519PrivateKey],
    ) -> None:
        """``key`` gives the signing key; it is asked once, when the schema is created at start (production
        refuses to start without one)."""
        self.engine = engine
        self.broker = broker
        self.service = service
        self.topic = topic
        self._key_source = key
        self._key: Ed25519PrivateKey | None = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def create_schema(self) -> None:
        self._key = self._key or self._key_source()
        async with self.engine.begin() as conn:
            await conn.run_sync(checkpoint_metadata.create_all)

    @property
    def key(self) -> Ed25519PrivateKey:
        if self._key is None:
            self._key = self._key_source()
        return self._key

    # -- taking ---------------------------------------------------------------------------------------------

    async def take(self) -> TakenCheckpoint:
        """Sign the store's tree head now (reading only what was appended since the last checkpoint), keep it,
        and publish every checkpoint not yet acknowledged."""
        async with self._lock:
            for _ in range(5):
                taken = await self._take_once()
                if taken is not None:
                    break
            else:
                raise RuntimeError(f"{self.service}: another process keeps taking the checkpoint sequence")
            await self.publish_pending()
        metrics.CHECKPOINT_SIZE.labels(self.service).set(taken.head.size)
        metrics.CHECKPOINT_TIME.labels(self.service).set(datetime.now(UTC).timestamp())
        log.info("%s store checkpoint %s: %s events", self.service, taken.sequence, taken.head.size)
        return taken

    async def _take_once(self) -> TakenCheckpoint | None:
        tail = await self._tail()
        tree, cursor = tail.tree, tail.cursor
        async for rows in self._events_after(cursor):
            for tx_id, position, payload in rows:
                tree.append(event_leaf(payload))
                cursor = (tx_id, position)
        issued = datetime.now(UTC)
        head = TreeHead(self.service, tree.size, tree.root().hex())
        signed = SignedCheckpoint.sign(CheckpointBody(issued_at_text(issued), (head,)), self.key)
        sequence = tail.sequence + 1
        envelope = self._envelope(signed, sequence, issued, tail.hash)
        payload = envelope.canonical_bytes()
        try:
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(checkpoints).values(
                        sequence=sequence,
                        issued_at=issued,
                        size=head.size,
                        root=head.root,
                        frontier=orjson.dumps([[s, h.hex()] for s, h in tree.frontier()]).decode(),
                        cursor_tx=cursor[0],
                        cursor_position=cursor[1],
                        payload=payload,
                        hash=chain_hash(payload),
                        published=False,
                    )
                )
        except IntegrityError:
            return None  # another process of this service took this sequence number: take the next
        return TakenCheckpoint(sequence, signed, envelope)

    async def _tail(self) -> _Tail:
        query = select(checkpoints).order_by(checkpoints.c.sequence.desc()).limit(1)
        async with self.engine.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return _Tail(0, TreeAccumulator(), (-1, 0), GENESIS_HASH)
        frontier = [(int(size), bytes.fromhex(digest)) for size, digest in orjson.loads(row.frontier)]
        return _Tail(row.sequence, TreeAccumulator(frontier), (row.cursor_tx, row.cursor_position), row.hash)

    async def _events_after(self, cursor: tuple[int, int]) -> AsyncIterator[list[Any]]:
        """Stored bytes after ``cursor`` in the store's global order, never one still in flight."""
        postgres = is_postgres(self.engine)
        while True:
            query = select(events.c.tx_id, events.c.position, events.c.payload)
            async with self.engine.connect() as conn:
                rows = list(
                    (await conn.execute(in_global_order(query, cursor, READ_BATCH, postgres=postgres))).all()
                )
            if not rows:
                return
            yield rows
            cursor = (rows[-1].tx_id, rows[-1].position)

    def _envelope(
        self, signed: SignedCheckpoint, sequence: int, issued: datetime, previous: str
    ) -> EventEnvelope:
        head = signed.body.trees[0]
        event = StoreCheckpointSigned(
            service=self.service,
            size=head.size,
            root=head.root,
            checkpoint_format=CHECKPOINT_FORMAT,
            issued_at=datetime.fromisoformat(signed.body.issued_at),
            digest=signed.body.digest,
            key_id=signed.key_id,
            public_key=signed.public_key,
            signature=signed.signature,
        )
        type_name = StoreCheckpointSigned.type_name()
        return EventEnvelope(
            id=str(uuid.uuid4()),
            source=source_of(self.service),
            type=type_name,
            subject=checkpoint_subject(self.service),
            time=issued,
            dataschema=schema_ref(type_name),
            streamid=checkpoint_stream(self.service),
            streamversion=sequence,
            correlationid=str(uuid.uuid4()),
            actor=f"service:{self.service}",
            occurredat=issued,
            recordedat=issued,
            prevhash=previous,
            data=event.model_dump(mode="json"),
        )

    # -- publishing -----------------------------------------------------------------------------------------

    async def publish_pending(self) -> int:
        """Publish every kept checkpoint not yet acknowledged, in sequence order (at least once)."""
        query = select(checkpoints.c.sequence, checkpoints.c.payload, checkpoints.c.hash).where(
            checkpoints.c.published.is_(False)
        )
        async with self.engine.connect() as conn:
            rows = list((await conn.execute(query.order_by(checkpoints.c.sequence))).all())
        for row in rows:
            envelope = EventEnvelope.from_bytes(row.payload)
            await self.broker.publish(
                row.payload,
                self.topic,
                key=envelope.subject.encode(),
                headers=event_headers(envelope.id, envelope.type, row.hash),
            )
            async with self.engine.begin() as conn:
                await conn.execute(
                    update(checkpoints).where(checkpoints.c.sequence == row.sequence).values(published=True)
                )
        return len(rows)

    # -- the periodic loop ----------------------------------------------------------------------------------

    def start(self, every_seconds: float) -> None:
        """Take a checkpoint now and then every ``every_seconds`` until :meth:`stop`."""
        self._stop.clear()
        self._task = asyncio.create_task(self._loop(every_seconds), name=f"{self.service}-checkpoints")

    async def stop(self) -> None:
        """Stop the loop at once: a checkpoint cut short is either not kept (its transaction rolls back) or
        kept and published at the next start."""
        self._stop.set()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _loop(self, every_seconds: float) -> None:
        while not self._stop.is_set():
            try:
                await self.take()
            except Exception:
                log.exception("%s store checkpoint failed; trying again at the next interval", self.service)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=every_seconds)


def checkpoint_router(checkpointer: StoreCheckpointer) -> APIRouter:
    """``POST /audit/checkpoints``: an operator (or auditor) has the service sign its store's tree head now."""
    router = APIRouter(tags=["audit"])

    @router.post(
        "/audit/checkpoints",
        status_code=201,
        dependencies=[Depends(require_roles(Role.OPERATOR, Role.AUDITOR))],
    )
    async def take_checkpoint() -> dict[str, Any]:
        return (await checkpointer.take()).as_json()

    return router
