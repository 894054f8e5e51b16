"""Append to and read from a service's own event store.

An append takes the stream's expected version: if anyone appended since, it raises
:class:`ConcurrencyConflict` and writes nothing. Each event is stored as the canonical bytes of its envelope
(personal fields already sealed) and chained to its predecessor by hash; its outbox row commits in the same
transaction, so an event is published if and only if it is stored.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, func, insert, literal_column, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_contracts.envelope import (
    GENESIS_HASH,
    EventEnvelope,
    canonical_bytes,
    chain_hash,
    schema_ref,
    to_jsonable,
)
from ddr_contracts.events import DomainEvent, EventRegistry
from ddr_contracts.topics import source_of
from ddr_runtime import telemetry
from ddr_runtime.crypto.cipher import PersonalDataCipher
from ddr_runtime.db import is_postgres
from ddr_runtime.eventstore import pgwrite
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.pgwrite import EVENT_COLUMNS as EVENT_COLUMNS  # re-exported: its former home
from ddr_runtime.eventstore.ports import Causation as Causation  # re-exported: its former home
from ddr_runtime.eventstore.reaction import cause_of
from ddr_runtime.eventstore.schema import create_store_schema, events, outbox


@dataclass(frozen=True)
class NewEvent:
    """A fact a handler decided, not yet stored."""

    event: DomainEvent
    subject: str
    occurred_at: datetime | None = None  # business time; defaults to the moment of recording


class StoredEvent:
    """An event as stored: its envelope (personal fields sealed), the exact bytes and their hash.

    An event just appended keeps the document its bytes were made from and builds its envelope only when
    asked: most appends never look at it, and building a pydantic model per event costs more than the rest
    of the append."""

    __slots__ = ("_envelope", "_parts", "hash", "payload", "position")

    def __init__(self, position: int, envelope: EventEnvelope, payload: bytes, hash: str) -> None:
        self.position = position
        self.payload = payload
        self.hash = hash
        self._envelope: EventEnvelope | None = envelope
        self._parts: tuple[dict[str, Any], datetime, datetime] | None = None

    @classmethod
    def appended(
        cls, document: dict[str, Any], recorded_at: datetime, occurred_at: datetime, payload: bytes, hash: str
    ) -> StoredEvent:
        """An event this process just wrote: ``document`` is what ``payload`` encodes (times as text)."""
        stored = cls.__new__(cls)
        stored.position = 0
        stored.payload = payload
        stored.hash = hash
        stored._envelope = None
        stored._parts = (document, recorded_at, occurred_at)
        return stored

    @property
    def envelope(self) -> EventEnvelope:
        if self._envelope is None:
            assert self._parts is not None
            document, recorded_at, occurred_at = self._parts
            self._envelope = EventEnvelope.model_construct(
                **{**document, "time": recorded_at, "recordedat": recorded_at, "occurredat": occurred_at}
            )
        return self._envelope

    @property
    def document(self) -> dict[str, Any]:
        """The envelope as the JSON document its stored bytes encode."""
        return self._parts[0] if self._parts is not None else self.envelope.document()

    @property
    def event_id(self) -> str:
        return self._parts[0]["id"] if self._parts is not None else self.envelope.id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, StoredEvent):
            return NotImplemented
        return (self.position, self.payload, self.hash) == (other.position, other.payload, other.hash)

    def __hash__(self) -> int:
        return hash((self.position, self.hash))

    def __repr__(self) -> str:
        return f"StoredEvent(position={self.position}, hash={self.hash!r}, payload={self.payload!r})"


@dataclass(frozen=True)
class RecordedEvent:
    """A stored event decoded for the domain: personal fields opened (``None`` once erased), upcast."""

    envelope: EventEnvelope
    event: DomainEvent

    @property
    def version(self) -> int:
        return self.envelope.streamversion


GlobalCursor = tuple[int, int]
"""Where a reader of the global order stands: (transaction id, position) of the last event it read."""
START: GlobalCursor = (-1, 0)


class EventStore:
    def __init__(
        self,
        engine: AsyncEngine,
        cipher: PersonalDataCipher,
        registry: EventRegistry,
        *,
        service: str,
        topic: str,
    ) -> None:
        self.engine = engine
        self.cipher = cipher
        self.registry = registry
        self.service = service
        self.topic = topic
        self._source = source_of(service)
        # The last version and hash this store wrote to each recent stream (see _append_postgres).
        self._tails_written: dict[str, tuple[int, str]] = {}

    async def create_schema(self) -> None:
        await create_store_schema(self.engine)

    @asynccontextmanager
    async def transaction(self, conn: AsyncConnection | None = None) -> AsyncIterator[AsyncConnection]:
        """Join the caller's transaction, or run in a new one."""
        if conn is not None:
            yield conn
            return
        async with self.engine.begin() as new_conn:
            yield new_conn

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        new_events: Sequence[NewEvent],
        causation: Causation,
        *,
        conn: AsyncConnection | None = None,
    ) -> list[StoredEvent]:
        """Store ``new_events`` after version ``expected_version`` of the stream (0: a new stream)."""
        if not new_events:
            return []
        sealed = await self._seal(new_events)
        recorded_at = datetime.now(UTC)
        traceparent = telemetry.current_traceparent()
        if not is_postgres(self.engine):
            async with self.transaction(conn) as tx:
                version, previous = await self._tail(tx, stream_id)
                if version != expected_version:
                    raise ConcurrencyConflict(stream_id, expected_version, version)
                stored = self._chain(
                    stream_id, version, previous, new_events, sealed, causation, recorded_at, traceparent
                )
                await self._insert_or_conflict(tx, stored, recorded_at, stream_id, expected_version)
            return stored
        async with pgwrite.writer(self.engine, conn) as writer:
            return await self._append_postgres(
                writer, stream_id, expected_version, new_events, sealed, causation, recorded_at, traceparent
            )

    async def _append_postgres(
        self,
        writer: pgwrite.Writer,
        stream_id: str,
        expected: int,
        new_events: Sequence[NewEvent],
        sealed: Sequence[dict[str, Any]],
        causation: Causation,
        recorded_at: datetime,
        traceparent: str | None,
    ) -> list[StoredEvent]:
        """One guarded statement writes the events and their outbox rows (see :mod:`.pgwrite`).

        The guard is the hash of the stream's event at ``expected``: the tail this store last wrote, when
        it last left the stream at ``expected`` (no look-up), else the tail read first. If the guard does
        not hold (the transaction that wrote the remembered tail rolled back), the tail is read and the
        append decided again on it; the unique (stream, version) key refuses a version written since.
        """
        remembered = self._tails_written.get(stream_id)
        known = expected == 0 or (remembered is not None and remembered[0] == expected)
        previous = GENESIS_HASH if expected == 0 else remembered[1] if remembered is not None else ""
        for looked_up in (False, True):
            if looked_up or not known:
                version, previous = await self._tail_of(writer, stream_id)
                if version != expected:
                    raise ConcurrencyConflict(stream_id, expected, version)
            stored = self._chain(
                stream_id, expected, previous, new_events, sealed, causation, recorded_at, traceparent
            )
            guard = (expected, stream_id, previous) if expected > 0 else pgwrite.NO_GUARD
            try:
                written = await writer.write(
                    pgwrite.parameters(stored, recorded_at, traceparent, self.topic, guard)
                )
            except pgwrite.Refused:
                # Outside a transaction the tail can still be read, for the message.
                actual = (await self._tail_of(writer, stream_id))[0] if writer.own else None
                raise ConcurrencyConflict(stream_id, expected, actual) from None
            if written:
                self._remember_tail(stream_id, expected + len(stored), stored[-1].hash)
                return stored
            self._tails_written.pop(stream_id, None)
        raise ConcurrencyConflict(stream_id, expected)

    @staticmethod
    async def _tail_of(writer: pgwrite.Writer, stream_id: str) -> tuple[int, str]:
        return await writer.tail(stream_id) or (0, GENESIS_HASH)

    def _remember_tail(self, stream_id: str, version: int, hash: str) -> None:
        tails = self._tails_written
        tails.pop(stream_id, None)
        tails[stream_id] = (version, hash)
        if len(tails) > TAILS_REMEMBERED:
            del tails[next(iter(tails))]

    async def append_new_streams(
        self,
        streams: Sequence[tuple[str, Sequence[NewEvent]]],
        causation: Causation,
        *,
        conn: AsyncConnection | None = None,
    ) -> list[list[StoredEvent]]:
        """Start many new streams at once, as a bulk import does: every stream's expected version is 0.

        One sealing call and one insert for all of them, and no tail look-up: the unique (stream,
        version) key refuses, with :class:`ConcurrencyConflict`, a stream that already exists.
        """
        streams = [(stream_id, events) for stream_id, events in streams if events]
        if not streams:
            return []
        flat = [e for _, events in streams for e in events]
        sealed = iter(await self._seal(flat))
        recorded_at = datetime.now(UTC)
        traceparent = telemetry.current_traceparent()
        chains = [
            self._chain(
                stream_id,
                0,
                GENESIS_HASH,
                events,
                [next(sealed) for _ in events],
                causation,
                recorded_at,
                traceparent,
            )
            for stream_id, events in streams
        ]
        label = streams[0][0] if len(streams) == 1 else f"one of {len(streams)} new streams"
        flat_stored = [s for chain in chains for s in chain]
        if is_postgres(self.engine):
            async with pgwrite.writer(self.engine, conn) as writer:
                try:
                    await writer.write(
                        pgwrite.parameters(
                            flat_stored, recorded_at, traceparent, self.topic, pgwrite.NO_GUARD
                        )
                    )
                except pgwrite.Refused:
                    raise ConcurrencyConflict(label, 0) from None
        else:
            async with self.transaction(conn) as tx:
                await self._insert_or_conflict(tx, flat_stored, recorded_at, label, 0)
        for (stream_id, _), chain in zip(streams, chains, strict=True):
            self._remember_tail(stream_id, len(chain), chain[-1].hash)
        return chains

    async def append_many(
        self,
        streams: Sequence[tuple[str, int, Sequence[NewEvent]]],
        causation: Causation,
        *,
        conn: AsyncConnection | None = None,
    ) -> list[list[StoredEvent]]:
        """Append to many streams, new or existing, each after its expected version, in one statement.

        One sealing call, one look-up of every stream's tail and one insert, whatever the number of
        streams: a batch of decisions on many people costs one round trip, not one per stream. Any stale
        expected version raises :class:`ConcurrencyConflict` and nothing is written.
        """
        streams = [(stream_id, expected, events) for stream_id, expected, events in streams if events]
        if not streams:
            return []
        if len({stream_id for stream_id, _, _ in streams}) != len(streams):
            raise ValueError("append_many takes each stream once")
        flat = [e for _, _, events in streams for e in events]
        sealed = iter(await self._seal(flat))
        recorded_at = datetime.now(UTC)
        traceparent = telemetry.current_traceparent()
        async with self.transaction(conn) as tx:
            tails = await self._tails(tx, [stream_id for stream_id, expected, _ in streams if expected > 0])
            chains: list[list[StoredEvent]] = []
            for stream_id, expected, events in streams:
                version, previous = tails.get(stream_id, (0, GENESIS_HASH))
                if version != expected:
                    raise ConcurrencyConflict(stream_id, expected, version)
                chains.append(
                    self._chain(
                        stream_id,
                        version,
                        previous,
                        events,
                        [next(sealed) for _ in events],
                        causation,
                        recorded_at,
                        traceparent,
                    )
                )
            label = streams[0][0] if len(streams) == 1 else f"one of {len(streams)} streams"
            await self._insert_or_conflict(tx, [s for chain in chains for s in chain], recorded_at, label, -1)
        return chains

    @staticmethod
    async def _tails(conn: AsyncConnection, stream_ids: Sequence[str]) -> dict[str, tuple[int, str]]:
        """Each named stream's last version and hash (absent streams are left out)."""
        found: dict[str, tuple[int, str]] = {}
        for start in range(0, len(stream_ids), TAIL_PAGE):
            page = list(stream_ids[start : start + TAIL_PAGE])
            last = (
                select(events.c.stream_id, func.max(events.c.stream_version).label("version"))
                .where(events.c.stream_id.in_(page))
                .group_by(events.c.stream_id)
                .subquery()
            )
            rows = await conn.execute(
                select(events.c.stream_id, events.c.stream_version, events.c.hash).join(
                    last,
                    and_(
                        events.c.stream_id == last.c.stream_id,
                        events.c.stream_version == last.c.version,
                    ),
                )
            )
            found.update({row.stream_id: (row.stream_version, row.hash) for row in rows})
        return found

    async def _seal(self, new_events: Sequence[NewEvent]) -> list[dict[str, Any]]:
        """Each event's data with its personal fields encrypted under its subject's key."""
        return await self.cipher.encrypt_many(
            [
                (e.subject, e.event.model_dump(mode="json"), type(e.event).personal_fields())
                for e in new_events
            ]
        )

    def _chain(
        self,
        stream_id: str,
        version: int,
        previous: str,
        new_events: Sequence[NewEvent],
        sealed: Sequence[dict[str, Any]],
        causation: Causation,
        recorded_at: datetime,
        traceparent: str | None,
    ) -> list[StoredEvent]:
        """Envelopes for ``new_events`` after ``version``, each chained to its predecessor's hash."""
        stored: list[StoredEvent] = []
        recorded = to_jsonable(recorded_at)  # the text pydantic gives the envelope's times
        for new, data, event_id in zip(new_events, sealed, new_event_ids(len(new_events)), strict=True):
            version += 1
            document, occurred_at = self._document(
                new,
                data,
                event_id,
                stream_id,
                version,
                causation,
                recorded_at,
                recorded,
                traceparent,
                previous,
            )
            payload = canonical_bytes(document)
            previous = chain_hash(payload)
            stored.append(StoredEvent.appended(document, recorded_at, occurred_at, payload, previous))
        return stored

    async def _insert_or_conflict(
        self,
        tx: AsyncConnection,
        stored: list[StoredEvent],
        recorded_at: datetime,
        stream: str,
        expected: int,
    ) -> None:
        try:
            await self._insert(tx, stored, recorded_at)
        except IntegrityError:
            raise ConcurrencyConflict(stream, expected) from None

    def _document(
        self,
        new: NewEvent,
        data: dict[str, Any],
        event_id: str,
        stream_id: str,
        version: int,
        causation: Causation,
        recorded_at: datetime,
        recorded: str,
        traceparent: str | None,
        previous: str,
    ) -> tuple[dict[str, Any], datetime]:
        """The event's envelope as the document its stored bytes encode, exactly what
        ``EventEnvelope.document()`` gives for the same envelope (built here from typed parts, so it is
        not validated again), and its business time."""
        type_name, dataschema = _type_of(type(new.event))
        occurred_at = new.occurred_at or recorded_at
        late = causation.back_recording if recorded_at - occurred_at > causation.window else None
        correlation_id, causation_id = causation.correlation_id, causation.causation_id
        answered = cause_of(new.subject) if causation_id is None else None
        if answered is not None:  # recorded by a consumer's handler: it answers the event consumed
            correlation_id, causation_id = answered.correlationid, answered.id
        document: dict[str, Any] = {
            "specversion": "1.0",
            "id": event_id,
            "source": self._source,
            "type": type_name,
            "subject": new.subject,
            "time": recorded,
            "datacontenttype": "application/json",
            "dataschema": dataschema,
            "streamid": stream_id,
            "streamversion": version,
            "correlationid": correlation_id,
            "causationid": causation_id,
            "actor": causation.actor,
            "occurredat": recorded if new.occurred_at is None else to_jsonable(occurred_at),
            "recordedat": recorded,
            "traceparent": traceparent,
            "tracestate": None,
            "prevhash": previous,
            "data": data,
        }
        if late is not None:  # OPTIONAL_WHEN_ABSENT: only late events carry them
            if late.role is not None:
                document["backrecordrole"] = late.role
            if late.reason is not None:
                document["backrecordreason"] = late.reason
        return document, occurred_at

    async def _insert(self, tx: AsyncConnection, stored: list[StoredEvent], recorded_at: datetime) -> None:
        if is_postgres(self.engine):
            traceparent = stored[0].document["traceparent"] if stored else None  # one per call
            await tx.exec_driver_sql(
                pgwrite.APPEND_STATEMENT,
                pgwrite.parameters(stored, recorded_at, traceparent, self.topic, pgwrite.NO_GUARD),
            )
            return
        await tx.execute(insert(events), [_row(s, recorded_at) for s in stored])
        await tx.execute(insert(outbox), [{"event_id": s.event_id, "topic": self.topic} for s in stored])

    async def stream_version(self, stream_id: str, *, conn: AsyncConnection | None = None) -> int:
        async with self._reader(conn) as tx:
            return (await self._tail(tx, stream_id))[0]

    async def stream_versions(
        self, stream_ids: Sequence[str], *, conn: AsyncConnection | None = None
    ) -> dict[str, int]:
        """Each named stream's last version, in one query per thousand streams (absent streams left out)."""
        async with self._reader(conn) as tx:
            tails = await self._tails(tx, list(dict.fromkeys(stream_ids)))
        return {stream_id: version for stream_id, (version, _) in tails.items()}

    async def read_stream(
        self, stream_id: str, *, after: int = 0, conn: AsyncConnection | None = None
    ) -> list[RecordedEvent]:
        """The stream's events after version ``after`` in order, decoded; empty when there are none."""
        async with self._reader(conn) as tx:
            rows = (
                await tx.execute(
                    select(events.c.payload)
                    .where(events.c.stream_id == stream_id, events.c.stream_version > after)
                    .order_by(events.c.stream_version)
                )
            ).all()
        envelopes = [EventEnvelope.from_bytes(row.payload) for row in rows]
        return await self.decode(envelopes)

    async def decode(self, envelopes: Sequence[EventEnvelope]) -> list[RecordedEvent]:
        """Open personal fields (``None`` for erased subjects) and upcast to the current event models."""
        opened = await self.cipher.decrypt_many([(e.subject, e.data) for e in envelopes])
        decoded: list[RecordedEvent] = []
        for envelope, data in zip(envelopes, opened, strict=True):
            model, current = self.registry.upcast(envelope.type, data)
            decoded.append(RecordedEvent(envelope, model.model_validate(current)))
        return decoded

    async def read_streams(
        self, stream_ids: Sequence[str], *, conn: AsyncConnection | None = None
    ) -> dict[str, list[RecordedEvent]]:
        """Several streams' events in order, decoded, in one query per thousand streams (absent: empty)."""
        found: dict[str, list[EventEnvelope]] = {stream_id: [] for stream_id in stream_ids}
        async with self._reader(conn) as tx:
            for start in range(0, len(stream_ids), TAIL_PAGE):
                page = list(stream_ids[start : start + TAIL_PAGE])
                rows = await tx.execute(
                    select(events.c.stream_id, events.c.payload)
                    .where(events.c.stream_id.in_(page))
                    .order_by(events.c.stream_id, events.c.stream_version)
                )
                for row in rows:
                    found[row.stream_id].append(EventEnvelope.from_bytes(row.payload))
        flat = [envelope for envelopes in found.values() for envelope in envelopes]
        decoded = iter(await self.decode(flat))
        return {stream_id: [next(decoded) for _ in envelopes] for stream_id, envelopes in found.items()}

    async def read_all(
        self,
        after: GlobalCursor = START,
        limit: int = 1000,
        *,
        settled: bool = False,
        conn: AsyncConnection | None = None,
    ) -> list[tuple[GlobalCursor, StoredEvent]]:
        """The next committed events in the store's global order, never skipping one committed late.

        PostgreSQL assigns positions when rows are inserted, not when they commit, so a reader that takes
        "position greater than the last seen" loses rows of a transaction still in flight. The global
        order here is (writing transaction id, position), read only below the oldest transaction still
        running: every row in that range is final, and no later commit can land behind the cursor.
        SQLite commits one writer at a time, in position order. ``settled``: the caller holds a lock that
        keeps writers out (a read-model swap), so every committed row is final and no horizon is needed.
        """
        query = in_global_order(
            select(events.c.tx_id, events.c.position, events.c.payload, events.c.hash),
            after,
            limit,
            postgres=is_postgres(self.engine),
            settled=settled,
        )
        async with self._reader(conn) as reader:
            rows = (await reader.execute(query)).all()
        return [
            (
                (row.tx_id, row.position),
                StoredEvent(row.position, EventEnvelope.from_bytes(row.payload), row.payload, row.hash),
            )
            for row in rows
        ]

    @asynccontextmanager
    async def _reader(self, conn: AsyncConnection | None) -> AsyncIterator[AsyncConnection]:
        if conn is not None:
            yield conn
            return
        async with self.engine.connect() as new_conn:
            yield new_conn

    @staticmethod
    async def _tail(conn: AsyncConnection, stream_id: str) -> tuple[int, str]:
        row = (
            await conn.execute(
                select(events.c.stream_version, events.c.hash)
                .where(events.c.stream_id == stream_id)
                .order_by(events.c.stream_version.desc())
                .limit(1)
            )
        ).first()
        return (0, GENESIS_HASH) if row is None else (row.stream_version, row.hash)


def in_global_order(
    query: Select[Any], after: GlobalCursor, limit: int, *, postgres: bool, settled: bool = False
) -> Select[Any]:
    """``query`` over the events table, limited to the ``limit`` events after ``after`` in the store's global
    order that are final (see :meth:`EventStore.read_all`), in that order."""
    query = query.order_by(events.c.tx_id, events.c.position).limit(limit)
    if not postgres:
        return query.where(events.c.position > after[1])
    if settled:
        return query.where(tuple_(events.c.tx_id, events.c.position) > after)
    horizon: ColumnElement[int] = literal_column("(pg_snapshot_xmin(pg_current_snapshot())::text::bigint)")
    return query.where(and_(tuple_(events.c.tx_id, events.c.position) > after, events.c.tx_id < horizon))


TAIL_PAGE = 1_000
TAILS_REMEMBERED = 100_000


def _type_of(model: type[DomainEvent]) -> tuple[str, str]:
    """An event class's type name and schema reference, worked out once per class."""
    known = _TYPES.get(model)
    if known is None:
        type_name = model.type_name()
        known = _TYPES[model] = (type_name, schema_ref(type_name))
    return known


_TYPES: dict[type[DomainEvent], tuple[str, str]] = {}


def new_event_ids(count: int) -> list[str]:
    """``count`` random (version 4) UUIDs as text, from one read of the system's random source."""
    raw = os.urandom(16 * count)
    ids: list[str] = []
    for start in range(0, 16 * count, 16):
        value = int.from_bytes(raw[start : start + 16]) & _UUID_CLEAR | _UUID_V4
        text = f"{value:032x}"
        ids.append(f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}")
    return ids


_UUID_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))  # the version and variant bits
_UUID_V4 = (4 << 76) | (0x8000 << 48)  # version 4, RFC 4122 variant


def _row(stored: StoredEvent, recorded_at: datetime) -> dict[str, Any]:
    document = stored.document
    return {
        "event_id": document["id"],
        "stream_id": document["streamid"],
        "stream_version": document["streamversion"],
        "event_type": document["type"],
        "subject": document["subject"],
        "recorded_at": recorded_at,
        "payload": stored.payload,
        "hash": stored.hash,
        "traceparent": document["traceparent"],
    }
