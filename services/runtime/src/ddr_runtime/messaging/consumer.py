"""The idempotent consumer: effects and the record of what was consumed commit together.

A FastStream batch subscriber reads from the earliest offset (a new group replays history). For each batch
it opens one database transaction, records every event id in the inbox (a redelivered id is skipped), runs
the handler for each new event in order, and commits; only then does it commit the Kafka offsets. So a
crash anywhere leads to redelivery, never to loss, and redelivery changes nothing.

When a batch fails, its events are retried one at a time with backoff, each in its own transaction. One
that still fails on a bad message (undecodable, unknown type, a rule it can never satisfy) is sent to
``<topic>.dlq`` with the reason and its original coordinates in headers, and the consumer moves on. A
failure of the infrastructure (database or broker unreachable) is not the message's fault: the batch is
rewound and read again later.

Every event a handler records in answer names the consumed event as its cause (``causationid``, with that
event's ``correlationid``) unless the handler names one itself (``ddr_runtime.eventstore.reaction``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiokafka import ConsumerRecord, TopicPartition
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from opentelemetry import trace
from pydantic import ValidationError
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_exponential

from ddr_contracts.envelope import EventEnvelope, chain_hash
from ddr_contracts.events import DomainEvent, UnknownEventType
from ddr_contracts.topics import dead_letter_topic
from ddr_contracts.wire import dead_letter_headers, declared_hash
from ddr_runtime import metrics, telemetry
from ddr_runtime.db import is_postgres
from ddr_runtime.eventstore.reaction import reacting_to
from ddr_runtime.eventstore.schema import inbox
from ddr_runtime.eventstore.store import EventStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReceivedEvent:
    """A consumed event: the envelope as published, its decoded domain event, where it came from."""

    envelope: EventEnvelope
    event: DomainEvent
    topic: str
    partition: int
    offset: int


Handler = Callable[[AsyncConnection, ReceivedEvent], Awaitable[None]]
BatchHandler = Callable[[AsyncConnection, Sequence[ReceivedEvent]], Awaitable[None]]
"""Applies a whole batch at once (a projection writing many rows in one statement), in the batch's order."""


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

    Give ``handler`` (called per event) or ``batch_handler`` (called once per batch with the new events).
    ``event_names``: the event types (without version) wanted; others are recorded and skipped.
    """

    def __init__(
        self,
        *,
        name: str,
        store: EventStore,
        handler: Handler | None = None,
        batch_handler: BatchHandler | None = None,
        event_names: frozenset[str] | None = None,
        attempts: int = 3,
        backoff_seconds: float = 0.2,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self.name = name
        self._store = store
        self._engine: AsyncEngine = store.engine
        if (handler is None) == (batch_handler is None):
            raise ValueError("give exactly one of handler and batch_handler")
        self._handler = handler
        self._batch_handler = batch_handler
        self._event_names = event_names
        self._attempts = attempts
        self._backoff = backoff_seconds
        self._broker: KafkaBroker | None = None
        self._tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("ddr.consumer")

    def subscribe(self, broker: KafkaBroker, *topics: str, max_records: int = 500) -> None:
        """Register the batch subscriber on ``broker`` (start the broker afterwards, in the app's lifespan)."""
        self._broker = broker

        async def on_events(_bodies: list[bytes], message: KafkaMessage) -> None:
            await self.process(message)

        broker.subscriber(
            *topics,
            group_id=self.name,
            auto_offset_reset="earliest",
            batch=True,
            max_records=max_records,
            batch_timeout_ms=100,
            ack_policy=AckPolicy.MANUAL,
        )(on_events)

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
        """Record the ids in the inbox; return the items not consumed before, in their order."""
        now = datetime.now(UTC)
        dialect_insert = postgresql.insert if is_postgres(self._engine) else sqlite.insert
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
        statement = dialect_insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
        # Rows as parameters: the statement compiles once and SQLAlchemy batches it (insertmanyvalues).
        result = await conn.execute(statement, rows)
        new_ids = set(result.scalars().all())
        fresh: list[_Parsed] = []
        seen: set[str] = set()
        for item in items:
            if item.envelope.id in new_ids and item.envelope.id not in seen:
                seen.add(item.envelope.id)
                fresh.append(item)
        duplicates = len(items) - len(fresh)
        if duplicates:
            metrics.DUPLICATES.labels(self.name).inc(duplicates)
        return fresh

    async def _apply(self, conn: AsyncConnection, items: list[_Parsed]) -> None:
        wanted = [i for i in items if self._wants(i.envelope)]
        if not wanted:
            return
        try:  # one key look-up for the whole batch
            decoded = await self._store.decode([i.envelope for i in wanted])
        except (UnknownEventType, ValidationError, ValueError) as error:
            raise PoisonMessage(f"cannot decode: {error}") from None
        received = [
            ReceivedEvent(i.envelope, d.event, i.record.topic, i.record.partition, i.record.offset)
            for i, d in zip(wanted, decoded, strict=True)
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
