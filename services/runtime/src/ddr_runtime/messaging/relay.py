"""The outbox relay: publishes committed events to Kafka, then forgets them.

At-least-once and ordered per subject. The relay reads outbox rows in commit-safe order and hands them, in that
order, to the idempotent producer with key = subject (``acks=all``); it deletes a row only after Kafka has
acknowledged it. Reading and sending overlap: while one batch waits for its acknowledgements, the next one is
read and sent (``in_flight`` batches at most), and an acknowledged batch is deleted in the background; every
read skips the rows still in flight or being deleted. Killed at any moment, the relay publishes again on
restart what it had not yet deleted: consumers drop the duplicates by event id. A stream's later events always
sit behind its earlier ones in the outbox (a later append starts only after the earlier one committed), and
one producer sends every batch in outbox order, so per-subject order holds. Run one relay per service store;
within a process, a drain and the relay's own loop take turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from opentelemetry import trace
from sqlalchemy import BigInteger, ColumnElement, all_, bindparam, delete, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_runtime import metrics, telemetry
from ddr_runtime.db import is_postgres
from ddr_runtime.eventstore.schema import events, outbox
from ddr_runtime.messaging.broker import BrokerSender, Outgoing, Sender

log = logging.getLogger(__name__)

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
HASH_HEADER = "ddr-hash"


@dataclass(frozen=True)
class OutboxRow:
    id: int
    topic: str
    event_id: str
    event_type: str
    subject: str
    payload: bytes
    hash: str
    traceparent: str | None


@dataclass(frozen=True)
class _Sent:
    """A batch handed to the producer: its outbox ids, and what completes once Kafka acknowledged it all."""

    ids: list[int]
    acknowledged: Awaitable[None]


class OutboxRelay:
    """``sender``: a :class:`~ddr_runtime.messaging.broker.Sender`, or a FastStream broker (its producer)."""

    def __init__(
        self,
        engine: AsyncEngine,
        sender: Sender | KafkaBroker,
        *,
        service: str,
        batch_size: int = 1000,
        in_flight: int = 2,
        idle_seconds: float = 0.05,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        if in_flight < 1:
            raise ValueError("in_flight: at least one batch")
        self._engine = engine
        self._sender: Sender = BrokerSender(sender) if isinstance(sender, KafkaBroker) else sender
        self._service = service
        self._batch_size = batch_size
        self._depth = in_flight
        self._idle_seconds = idle_seconds
        self._wake = asyncio.Event()
        # One caller at a time: a drain while the run loop publishes would read and send the same rows twice.
        self._batch = asyncio.Lock()
        self._in_flight: deque[_Sent] = deque()
        self._deleting: asyncio.Task[None] | None = None
        self._deleting_ids: list[int] = []
        self._postgres = is_postgres(engine)
        self._tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("ddr.relay")

    def notify(self) -> None:
        """Wake the relay at once (an append just committed in this process)."""
        self._wake.set()

    async def publish_pending(self) -> int:
        """Read and send the next batch of the outbox; return how many events it sent (0: none left).

        Up to ``in_flight`` batches wait for their acknowledgements at once: this waits for the oldest one only
        when that many are out, then deletes it in the background. With nothing left to read, it waits until
        every batch sent is acknowledged and deleted, and returns 0. No cursor: a row committed late, behind
        rows already published, is simply the oldest row left and goes out next. Callers take turns (the run
        loop and a drain never send the same rows at once).
        """
        async with self._batch:
            return await self._publish_batch()

    async def _publish_batch(self) -> int:
        await self._sender.start()
        rows = await self._next_batch()
        try:
            if rows:
                self._in_flight.append(_Sent([r.id for r in rows], await self._send_all(rows)))
            keep = self._depth - 1 if rows else 0  # nothing left to read: settle every batch sent
            while len(self._in_flight) > keep:
                await self._acknowledged(self._in_flight[0])
                self._in_flight.popleft()
        except Exception:
            await self._abandon_in_flight()
            raise
        if not rows:
            await self._finish_delete()
        return len(rows)

    async def _acknowledged(self, sent: _Sent) -> None:
        """Wait for ``sent``'s acknowledgements, then delete its rows in the background (one delete at once)."""
        await sent.acknowledged
        metrics.RELAY_PUBLISHED.labels(self._service).inc(len(sent.ids))
        await self._finish_delete()
        self._deleting_ids = sent.ids
        self._deleting = asyncio.create_task(self._delete(sent.ids))

    async def _abandon_in_flight(self) -> None:
        """After a failure: let what is in flight settle, and delete none of it (it is published again)."""
        batches, self._in_flight = list(self._in_flight), deque()
        for sent in batches:
            with contextlib.suppress(Exception):
                await sent.acknowledged

    async def drain(self) -> int:
        """Publish until the outbox is empty; return how many events were published (all acknowledged)."""
        total = 0
        while published := await self.publish_pending():
            total += published
        return total

    async def _delete(self, ids: list[int]) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(delete(outbox).where(outbox.c.id.in_(ids)))

    async def _finish_delete(self) -> None:
        """Wait for the previous batch's delete; if it failed, its rows are published again (at-least-once)."""
        task, self._deleting, self._deleting_ids = self._deleting, None, []
        if task is not None:
            await task

    async def run(self, stop: asyncio.Event) -> None:
        """Publish continuously until ``stop`` is set; a failure is logged and retried after a pause."""
        backoff = self._idle_seconds
        while not stop.is_set():
            try:
                published = await self.publish_pending()
                backoff = self._idle_seconds
            except Exception:
                log.exception("outbox relay failed; retrying", extra={"service": self._service})
                published = 0
                backoff = min(backoff * 2, 5.0)
            if not published:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), timeout=backoff)
        async with self._batch:
            await self._settle_in_flight()

    async def close(self) -> None:
        """Settle what is still in flight, then stop the sender (a drain afterwards starts it again)."""
        async with self._batch:
            try:
                await self._settle_in_flight()
            finally:
                await self._sender.stop()

    async def _settle_in_flight(self) -> None:
        """What is still in flight: acknowledged and deleted, or (on failure) left to be sent again later."""
        try:
            while self._in_flight:
                await self._acknowledged(self._in_flight[0])
                self._in_flight.popleft()
            await self._finish_delete()
        except Exception:
            await self._abandon_in_flight()
            log.exception("outbox relay: the last batches failed; those events will be published again")

    async def backlog(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(outbox))).scalar_one())

    def _skipping(self) -> ColumnElement[bool]:
        """Rows neither in flight nor being deleted (one array parameter on PostgreSQL)."""
        busy = [i for sent in self._in_flight for i in sent.ids] + self._deleting_ids
        if not busy:
            return true()
        if self._postgres:
            return outbox.c.id != all_(bindparam("busy", busy, type_=ARRAY(BigInteger)))
        return outbox.c.id.not_in(busy)

    async def _next_batch(self) -> list[OutboxRow]:
        query = (
            select(
                outbox.c.id,
                outbox.c.topic,
                events.c.event_id,
                events.c.event_type,
                events.c.subject,
                events.c.payload,
                events.c.hash,
                events.c.traceparent,
            )
            .join(events, events.c.event_id == outbox.c.event_id)
            .where(self._skipping())
            .order_by(outbox.c.id)
            .limit(self._batch_size)
        )
        async with self._engine.connect() as conn:
            return [OutboxRow(*row) for row in (await conn.execute(query)).all()]

    async def _send_all(self, rows: Sequence[OutboxRow]) -> Awaitable[None]:
        """Hand ``rows`` to the producer in order; what completes once every one is acknowledged."""
        return await self._sender.send_all([self._message(row) for row in rows])

    def _message(self, row: OutboxRow) -> Outgoing:
        headers = {
            "content-type": CONTENT_TYPE,
            "ce_id": row.event_id,
            "ce_type": row.event_type,
            HASH_HEADER: row.hash,
        }
        if row.traceparent is not None:  # continue the trace it was recorded in: a span per message
            with self._tracer.start_as_current_span(
                f"publish {row.topic}",
                context=telemetry.context_from_traceparent(row.traceparent),
                kind=trace.SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": row.topic,
                    "messaging.message.id": row.event_id,
                    "ddr.event.type": row.event_type,
                },
            ):
                headers.update((k, v.decode()) for k, v in telemetry.inject_headers())
        return Outgoing(row.topic, row.subject.encode(), row.payload, headers)
