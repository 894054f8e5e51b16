"""The idempotent consumer: effects and the record of what was consumed commit together.

A FastStream batch subscriber reads from the earliest offset (a new group replays history). For each batch
it opens one database transaction, records every event id in the inbox in one statement (a redelivered id is
skipped), runs the handler on the new events in order (a batch handler once, a per-event handler for each),
and commits; only then does it commit the Kafka offsets. So a crash anywhere leads to redelivery, never to
loss, and redelivery changes nothing. An event is decoded, and its personal fields opened, only when a
handler reads ``ReceivedEvent.event``: a projection that reads the envelope alone decrypts nothing.

When a batch fails, its events are retried one at a time with backoff, each in its own transaction. One
that still fails on a bad message (undecodable, unknown type, a rule it can never satisfy) is sent to
``<topic>.dlq`` with the reason and its original coordinates in headers, and the consumer moves on. A
failure of the infrastructure (database or broker unreachable) is not the message's fault: the batch is
rewound and read again later.

Every event a handler records in answer names the consumed event as its cause (``causationid``, with that
event's ``correlationid``) unless the handler names one itself (``ddr_runtime.eventstore.reaction``).

A read model whose rows are keyed by event id (a projection writing one row per event, ignoring one it has)
is idempotent by itself: it may take the envelopes as they are (``envelope_handler``: nothing decoded, no
personal field opened) and skip the inbox (``inbox=False``). A consumer can be started and stopped on a
running broker (``start``/``stop``: a read model rebuilt in a group of its own), tells how far behind it is
(``lag``), and says when it has stopped consuming (``problem``); ``ddr_runtime.messaging.supervision``
restarts it then.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from opentelemetry import trace
from pydantic import ValidationError
from sqlalchemy import text
from sqlalchemy.dialects import sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from ddr_contracts.envelope import EventEnvelope, chain_hash
from ddr_contracts.events import DomainEvent, UnknownEventType
from ddr_contracts.topics import dead_letter_topic
from ddr_contracts.wire import dead_letter_headers, declared_hash
from ddr_runtime import metrics, telemetry
from ddr_runtime.crypto.cipher import is_sealed, open_sealed
from ddr_runtime.db import is_postgres
from ddr_runtime.eventstore.reaction import reacting_to
from ddr_runtime.eventstore.schema import inbox
from ddr_runtime.eventstore.store import EventStore

log = logging.getLogger(__name__)


class ReceivedEvent:
    """A consumed event: the envelope as published, its domain event, where it came from.

    ``event`` is decoded (personal fields opened, upcast, validated) when a handler first reads it, not
    before: a handler that reads only the envelope decrypts nothing. ``event`` may be given decoded, or as
    what decodes it. An event that cannot be decoded raises :class:`PoisonMessage` when read (and is
    dead-lettered)."""

    __slots__ = ("_decode", "_event", "envelope", "offset", "partition", "topic")

    def __init__(
        self,
        envelope: EventEnvelope,
        event: DomainEvent | Callable[[EventEnvelope], DomainEvent],
        topic: str,
        partition: int,
        offset: int,
    ) -> None:
        self.envelope = envelope
        self.topic = topic
        self.partition = partition
        self.offset = offset
        self._event: DomainEvent | None = None
        self._decode: Callable[[EventEnvelope], DomainEvent] | None = None
        if isinstance(event, DomainEvent):
            self._event = event
        else:
            self._decode = event

    @property
    def event(self) -> DomainEvent:
        if self._event is None:
            assert self._decode is not None
            self._event = self._decode(self.envelope)
        return self._event

    def __repr__(self) -> str:
        return f"ReceivedEvent({self.envelope.type} {self.envelope.id} at {self.topic}[{self.partition}]@{self.offset})"


@dataclass(frozen=True)
class ReceivedEnvelope:
    """A consumed event as published: its envelope (personal fields still sealed), where it came from."""

    envelope: EventEnvelope
    topic: str
    partition: int
    offset: int


Handler = Callable[[AsyncConnection, ReceivedEvent], Awaitable[None]]
BatchHandler = Callable[[AsyncConnection, Sequence[ReceivedEvent]], Awaitable[None]]
"""Applies a whole batch at once (a projection writing many rows in one statement), in the batch's order."""
EnvelopeBatchHandler = Callable[[AsyncConnection, Sequence[ReceivedEnvelope]], Awaitable[None]]
"""Applies a whole batch of envelopes, undecoded (a projection that reads no personal field)."""

STALL_SECONDS = 60.0
"""A started consumer holding no partition for this long has stopped consuming (it never rejoined its group)."""


class PoisonMessage(Exception):
    """A message that no retry can ever process."""


def _is_infrastructure_failure(error: BaseException) -> bool:
    if isinstance(error, OperationalError | InterfaceError):
        return True
    return isinstance(error, DBAPIError) and error.connection_invalidated


@dataclass(frozen=True)
class _Parsed:
    record: ConsumerRecord[Any, Any]
    envelope: EventEnvelope


class IdempotentConsumer:
    """Consumes topics into a service's store, exactly once in effect.

    Give ``handler`` (called per event), ``batch_handler`` (called once per batch with the new events) or
    ``envelope_handler`` (once per batch, envelopes undecoded). ``event_names``: the event types (without
    version) wanted; others are recorded and skipped. ``inbox=False`` only for a handler whose effect is
    idempotent by event id of itself. ``name`` names it in metrics and logs (and the inbox); ``group_id``, the
    Kafka consumer group, is ``name`` unless given.
    """

    def __init__(
        self,
        *,
        name: str,
        store: EventStore,
        handler: Handler | None = None,
        batch_handler: BatchHandler | None = None,
        envelope_handler: EnvelopeBatchHandler | None = None,
        event_names: frozenset[str] | None = None,
        inbox: bool = True,
        group_id: str | None = None,
        attempts: int = 3,
        backoff_seconds: float = 0.2,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self.name = name
        self.group_id = group_id or name
        self._topics: tuple[str, ...] = ()
        self._store = store
        self._engine: AsyncEngine = store.engine
        if sum(h is not None for h in (handler, batch_handler, envelope_handler)) != 1:
            raise ValueError("give exactly one of handler, batch_handler and envelope_handler")
        self._handler = handler
        self._batch_handler = batch_handler
        self._envelope_handler = envelope_handler
        self._event_names = event_names
        self._inbox = inbox
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._broker: KafkaBroker | None = None
        self._subscriber: Any = None
        self._started: float | None = None  # when it was started; None while stopped on purpose
        self._unassigned_since: float | None = None
        self.handled: dict[TopicPartition, int] = {}  # next offset to read, per partition, once applied
        self.applied = 0  # messages applied (or skipped as duplicates) since it started
        self._tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("ddr.consumer")

    def subscribe(
        self, broker: KafkaBroker, *topics: str, max_records: int = 500, persistent: bool = True
    ) -> None:
        """Register the batch subscriber on ``broker`` (start the broker afterwards, in the app's lifespan)."""
        self._broker = broker
        self._topics = topics

        async def on_events(_bodies: list[bytes], message: KafkaMessage) -> None:
            await self.process(message)

        self._subscriber = broker.subscriber(
            *topics,
            group_id=self.group_id,
            auto_offset_reset="earliest",
            batch=True,
            max_records=max_records,
            batch_timeout_ms=100,
            ack_policy=AckPolicy.MANUAL,
            persistent=persistent,
            decoder=_values_as_they_are,
        )
        self._subscriber(on_events)
        self._started = time.monotonic()

    async def start(self, broker: KafkaBroker, *topics: str, max_records: int = 500) -> None:
        """Subscribe on a broker already running, and start consuming now."""
        self.subscribe(broker, *topics, max_records=max_records, persistent=False)
        await self._subscriber.start()

    async def stop(self) -> None:
        """Stop consuming (leaving the group); what was applied stays committed."""
        self._started = None
        if self._subscriber is not None:
            await self._subscriber.stop()

    async def restart(self) -> None:
        """Stop and start again with a new Kafka consumer, rejoining the group from its committed offsets."""
        log.warning("consumer %s: restarting (%s)", self.name, self.problem())
        if self._subscriber is None:
            return
        with contextlib.suppress(Exception):
            await self._subscriber.stop()
        await self._subscriber.start()
        self._started, self._unassigned_since = time.monotonic(), None

    @property
    def kafka(self) -> AIOKafkaConsumer | None:
        """The Kafka consumer under the subscriber (None until started)."""
        return getattr(self._subscriber, "consumer", None)

    def problem(self) -> str | None:
        """Why the consumer is not consuming, or None while it is (or was stopped on purpose)."""
        if self._started is None or self._subscriber is None:
            return None
        consumer = self.kafka
        tasks = getattr(self._subscriber, "tasks", [])
        if consumer is None or not self._subscriber.running or (tasks and all(t.done() for t in tasks)):
            return "its consume loop has stopped"
        now = time.monotonic()
        if consumer.assignment():
            self._unassigned_since = None
            return None
        self._unassigned_since = self._unassigned_since or now
        if now - max(self._unassigned_since, self._started) > STALL_SECONDS:
            return f"it has held no partition for more than {STALL_SECONDS:.0f} s"
        return None

    async def lag(self) -> int | None:
        """Messages on its partitions not yet applied (None while it holds none). Each message counts from
        the offset after the last one applied, or the group's committed offset before this process applied
        any: a batch fetched and still being written is still behind."""
        consumer = self.kafka
        assigned = sorted(consumer.assignment(), key=lambda tp: (tp.topic, tp.partition)) if consumer else []
        if consumer is None or not assigned:
            return None
        ends = await consumer.end_offsets(assigned)
        total = 0
        for partition in assigned:
            done = self.handled.get(partition)
            if done is None:
                done = await consumer.committed(partition) or 0
            behind = max(ends[partition] - done, 0)
            metrics.CONSUMER_LAG.labels(self.name, partition.topic, str(partition.partition)).set(behind)
            total += behind
        return total

    async def messages_on_topics(self) -> int:
        """Messages on every partition of its topics now (the sum of end offsets: topics keep all history)."""
        consumer = self.kafka
        if consumer is None:
            return 0
        partitions = [
            TopicPartition(topic, p)
            for topic in self._topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        return int(sum((await consumer.end_offsets(partitions)).values())) if partitions else 0

    async def process(self, message: Any) -> None:
        records: Sequence[ConsumerRecord[Any, Any]] = (
            message.raw_message if isinstance(message.raw_message, tuple) else (message.raw_message,)
        )
        try:
            await self.handle_records(records)
        except Exception:
            log.exception("consumer %s: batch rewound for redelivery", self.name)
            await message.nack()
            raise
        await message.ack()
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            self.handled[partition] = max(self.handled.get(partition, 0), record.offset + 1)
        self.applied += len(records)
        self._record_lag(getattr(message, "consumer", None), records)

    def _record_lag(self, consumer: Any, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Consumer lag per partition: how far the last record handled is behind the partition's end."""
        if consumer is None or not hasattr(consumer, "highwater"):
            return
        last: dict[tuple[str, int], int] = {}
        for record in records:
            last[(record.topic, record.partition)] = max(
                record.offset, last.get((record.topic, record.partition), -1)
            )
        for (topic, partition), offset in last.items():
            highwater = consumer.highwater(TopicPartition(topic, partition))
            if highwater is not None:
                metrics.CONSUMER_LAG.labels(self.name, topic, str(partition)).set(
                    max(highwater - offset - 1, 0)
                )

    async def handle_records(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        """Apply a batch; dead-letter what can never be applied. Raises only on infrastructure failure."""
        parsed: list[_Parsed] = []
        for record in records:
            try:
                parsed.append(_parse(record))
            except PoisonMessage as poison:
                await self._dead_letter(record, str(poison))
        if not parsed:
            return
        try:
            async with self._engine.begin() as conn:
                await self._apply(conn, await self._first_seen(conn, parsed))
            return
        except Exception as error:
            if _is_infrastructure_failure(error):
                raise
        for item in parsed:  # isolate the failing message
            await self._apply_alone(item)

    async def _apply_alone(self, item: _Parsed) -> None:
        try:
            async for attempt in AsyncRetrying(
                stop=stop_after_attempt(self._attempts),
                wait=wait_exponential(multiplier=self._backoff, max=5),
                retry=retry_if_exception(lambda e: not isinstance(e, PoisonMessage)),
                reraise=True,
            ):
                with attempt:
                    async with self._engine.begin() as conn:
                        await self._apply(conn, await self._first_seen(conn, [item]))
        except Exception as error:
            if _is_infrastructure_failure(error):
                raise
            await self._dead_letter(item.record, f"{type(error).__name__}: {error}")

    async def _first_seen(self, conn: AsyncConnection, items: list[_Parsed]) -> list[_Parsed]:
        """Record the ids in the inbox; return the items not consumed before, in their order (without an
        inbox: each id once)."""
        if not self._inbox:
            return _each_once(items, None)
        now = datetime.now(UTC)
        if is_postgres(self._engine):
            # One statement, four array parameters, whatever the batch's size: nothing compiled per row.
            result = await conn.execute(
                _INBOX_UNNEST,
                {
                    "consumer": self.name,
                    "at": now,
                    "ids": [i.envelope.id for i in items],
                    "topics": [i.record.topic for i in items],
                    "partitions": [i.record.partition for i in items],
                    "offsets": [i.record.offset for i in items],
                },
            )
        else:
            rows = [
                {
                    "consumer": self.name,
                    "event_id": i.envelope.id,
                    "topic": i.record.topic,
                    "partition": i.record.partition,
                    "offset": i.record.offset,
                    "processed_at": now,
                }
                for i in items
            ]
            statement = sqlite.insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
            result = await conn.execute(statement, rows)
        fresh = _each_once(items, set(result.scalars().all()))
        duplicates = len(items) - len(fresh)
        if duplicates:
            metrics.DUPLICATES.labels(self.name).inc(duplicates)
        return fresh

    async def _apply(self, conn: AsyncConnection, items: list[_Parsed]) -> None:
        wanted = [i for i in items if self._wants(i.envelope)]
        if not wanted:
            return
        if self._envelope_handler is not None:
            with reacting_to([i.envelope for i in wanted]):
                await self._envelope_handler(
                    conn,
                    [
                        ReceivedEnvelope(i.envelope, i.record.topic, i.record.partition, i.record.offset)
                        for i in wanted
                    ],
                )
            metrics.CONSUMED.labels(self.name).inc(len(wanted))
            return
        decode = await self._decoder([i.envelope for i in wanted])  # one key look-up for the whole batch
        received = [
            ReceivedEvent(i.envelope, decode, i.record.topic, i.record.partition, i.record.offset)
            for i in wanted
        ]
        if self._batch_handler is not None:
            contexts = [_span_context(i) for i in wanted]
            links = [trace.Link(context) for context in contexts if context.is_valid]
            with (
                self._tracer.start_as_current_span(
                    f"handle batch of {len(received)}", kind=trace.SpanKind.CONSUMER, links=links
                ),
                reacting_to([i.envelope for i in wanted]),
            ):
                await self._batch_handler(conn, received)
        else:
            assert self._handler is not None
            for item, event in zip(wanted, received, strict=True):
                parent = telemetry.extract_context(item.record.headers or ())
                if not trace.get_current_span(parent).get_span_context().is_valid:
                    with reacting_to([item.envelope]):  # published outside any trace: nothing to continue
                        await self._handler(conn, event)
                    continue
                with (
                    reacting_to([item.envelope]),
                    self._tracer.start_as_current_span(
                        f"handle {item.envelope.type}",
                        context=parent,
                        kind=trace.SpanKind.CONSUMER,
                        attributes={
                            "messaging.system": "kafka",
                            "messaging.consumer.group.name": self.name,
                            "messaging.message.id": item.envelope.id,
                        },
                    ),
                ):
                    await self._handler(conn, event)
        metrics.CONSUMED.labels(self.name).inc(len(received))

    async def _decoder(self, envelopes: Sequence[EventEnvelope]) -> Callable[[EventEnvelope], DomainEvent]:
        """What decodes an envelope of this batch when a handler reads its event: the keys of the subjects
        whose events carry sealed fields are fetched now, in one look-up; nothing is opened yet."""
        sealed = {e.subject for e in envelopes if any(is_sealed(v) for v in e.data.values())}
        keys = await self._store.cipher.keystore.keys_for_reading(sealed) if sealed else {}
        aeads: dict[str, AESGCM] = {}
        registry = self._store.registry

        def decode(envelope: EventEnvelope) -> DomainEvent:
            subject = envelope.subject
            aead = aeads.get(subject)
            if aead is None and (key := keys.get(subject)) is not None:
                aead = aeads[subject] = AESGCM(key)
            try:
                model, current = registry.upcast(envelope.type, open_sealed(subject, aead, envelope.data))
                return model.model_validate(current)
            except (UnknownEventType, ValidationError, ValueError) as error:
                raise PoisonMessage(f"cannot decode: {error}") from None

        return decode

    def _wants(self, envelope: EventEnvelope) -> bool:
        return self._event_names is None or envelope.type.rpartition(".v")[0] in self._event_names

    async def _dead_letter(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        if self._broker is None:
            raise RuntimeError("consumer not subscribed to a broker")
        target = dead_letter_topic(record.topic)
        headers = dead_letter_headers(
            reason=reason,
            consumer=self.name,
            topic=record.topic,
            partition=record.partition,
            offset=record.offset,
            at=datetime.now(UTC),
        )
        await self._broker.publish(record.value, target, key=record.key, headers=headers)
        metrics.DEAD_LETTERS.labels(self.name, record.topic).inc()
        log.warning(
            "consumer %s dead-lettered %s[%s]@%s: %s",
            self.name,
            record.topic,
            record.partition,
            record.offset,
            reason.split(":", 1)[0],
        )


_INBOX_UNNEST = text(
    f'INSERT INTO {inbox.name} (consumer, event_id, topic, partition, "offset", processed_at) '
    "SELECT CAST(:consumer AS text), e, t, p, o, CAST(:at AS timestamptz) FROM unnest("
    "CAST(:ids AS text[]), CAST(:topics AS text[]), CAST(:partitions AS integer[]), CAST(:offsets AS bigint[])"
    ") AS u(e, t, p, o) ON CONFLICT DO NOTHING RETURNING event_id"
)
"""The inbox rows of a batch on PostgreSQL (the ids not consumed before come back)."""


async def _values_as_they_are(message: StreamMessage[Any]) -> Any:
    """The batch's values undecoded: FastStream's own decoder parses every record again into a message of
    its own (a uuid4 and a content-type look-up each, more CPU than validating the envelope in the profile of
    docs/benchmarks.md), and ``process`` reads the records themselves."""
    return message.body


def _each_once(items: Sequence[_Parsed], new_ids: set[str] | None) -> list[_Parsed]:
    """``items`` in order, each event id once (and only the ids in ``new_ids``, when given)."""
    fresh: list[_Parsed] = []
    seen: set[str] = set()
    for item in items:
        event_id = item.envelope.id
        if event_id not in seen and (new_ids is None or event_id in new_ids):
            seen.add(event_id)
            fresh.append(item)
    return fresh


def _span_context(item: _Parsed) -> trace.SpanContext:
    return trace.get_current_span(telemetry.extract_context(item.record.headers or ())).get_span_context()


def _parse(record: ConsumerRecord[Any, Any]) -> _Parsed:
    value = record.value
    if not isinstance(value, bytes | bytearray):
        raise PoisonMessage("empty or non-binary message value")
    try:
        envelope = EventEnvelope.from_bytes(bytes(value))
    except ValidationError as error:
        raise PoisonMessage(f"not a valid event envelope: {error.error_count()} error(s)") from None
    declared = declared_hash(dict(record.headers or ()))
    if declared is not None and declared != chain_hash(bytes(value)):
        raise PoisonMessage("message bytes do not match their declared hash")
    return _Parsed(record, envelope)
