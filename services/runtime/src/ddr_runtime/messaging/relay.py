"""The outbox relay: publishes committed events to Kafka, then forgets them.

At-least-once and ordered per subject. The relay reads outbox rows in commit-safe order, publishes them with
key = subject through the idempotent producer, waits for every acknowledgement (``acks=all``), and only
then deletes the rows. Killed at any moment, it publishes again on restart what it had not yet deleted:
consumers drop the duplicates by event id. Within one process, publishing is serialised: a :meth:`drain` called
while :meth:`run` is active waits for the batch in flight instead of sending the same rows a second time. A stream's later events always sit behind its earlier ones in
the outbox (a later append starts only after the earlier one committed), so per-subject order holds.
Run one relay per service store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from faststream.kafka import KafkaBroker
from opentelemetry import trace
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_contracts.wire import event_headers
from ddr_runtime import metrics, telemetry
from ddr_runtime.eventstore.schema import events, outbox

log = logging.getLogger(__name__)


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


class OutboxRelay:
    def __init__(
        self,
        engine: AsyncEngine,
        broker: KafkaBroker,
        *,
        service: str,
        batch_size: int = 1000,
        idle_seconds: float = 0.05,
        tracer_provider: trace.TracerProvider | None = None,
    ) -> None:
        self._engine = engine
        self._broker = broker
        self._service = service
        self._batch_size = batch_size
        self._idle_seconds = idle_seconds
        self._wake = asyncio.Event()
        self._publishing = asyncio.Lock()  # one batch at a time: two readers of the outbox would both send it
        self._deleting: asyncio.Task[None] | None = None
        self._deleting_ids: list[int] = []
        self._tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer("ddr.relay")

    def notify(self) -> None:
        """Wake the relay at once (an append just committed in this process)."""
        self._wake.set()

    async def publish_pending(self) -> int:
        """Publish one batch of the outbox; return how many events it published.

        The acknowledged batch is deleted in the background while the next one is read and sent; the next
        read skips the rows still being deleted. No cursor: a row committed late, behind rows already
        published, is simply the oldest row left and goes out next.
        """
        async with self._publishing:
            return await self._publish_batch()

    async def _publish_batch(self) -> int:
        rows = await self._next_batch()
        if not rows:
            await self._finish_delete()
            return 0
        pending: list[Awaitable[object]] = []
        for row in rows:
            pending.append(await self._send(row))
        await asyncio.gather(*pending)
        await self._finish_delete()
        ids = [r.id for r in rows]
        self._deleting_ids = ids
        self._deleting = asyncio.create_task(self._delete(ids))
        metrics.RELAY_PUBLISHED.labels(self._service).inc(len(rows))
        return len(rows)

    async def drain(self) -> int:
        """Publish until the outbox is empty."""
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
        try:
            await self._finish_delete()
        except Exception:
            log.exception("outbox relay: last delete failed; those events will be published again")

    async def backlog(self) -> int:
        async with self._engine.connect() as conn:
            return int((await conn.execute(select(func.count()).select_from(outbox))).scalar_one())

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
            .where(outbox.c.id.not_in(self._deleting_ids))
            .order_by(outbox.c.id)
            .limit(self._batch_size)
        )
        async with self._engine.connect() as conn:
            return [OutboxRow(*row) for row in (await conn.execute(query)).all()]

    async def _send(self, row: OutboxRow) -> Awaitable[object]:
        headers = event_headers(row.event_id, row.event_type, row.hash)
        if row.traceparent is None:  # recorded outside any trace: nothing to continue
            return await self._publish(row, headers)
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
            return await self._publish(row, headers)

    async def _publish(self, row: OutboxRow, headers: dict[str, str]) -> Awaitable[object]:
        future: Awaitable[object] = await self._broker.publish(
            row.payload, row.topic, key=row.subject.encode(), headers=headers, no_confirm=True
        )
        return future
