"""Blue-green read models: the live generation serves while a new one is rebuilt from offset zero.

Each generation has its own tables and its own consumer group, consumed by the runtime's idempotent consumer
(``IdempotentConsumer``: envelopes undecoded, personal fields never opened, poison to ``<topic>.dlq``; no inbox,
since a fact's event-id key makes every write idempotent; supervised, so one that stops consuming is shown down in
``/readyz`` and restarted). A rebuild creates generation N+1 with a new group (so Kafka hands it every topic from
the first offset), projects into its tables while the API keeps reading generation N, and, once it has caught up
(no lag on any partition), makes it live in one committed update; then it carries on as the live consumer (live
catch-up) and the old generation's consumer stops. Its tables are kept until the next rebuild, so a request that
began on them still finishes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from aiokafka.errors import KafkaError
from faststream.kafka import KafkaBroker
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_pathway.adapters.tables import (
    DEFAULT_PREFIX,
    facts_table,
    generations_table,
    live_generation,
    switch_live,
)
from ddr_pathway.service_layer.projector import Projector
from ddr_runtime.eventstore.store import EventStore
from ddr_runtime.messaging.consumer import IdempotentConsumer, ReceivedEnvelope

log = logging.getLogger(__name__)

BATCH = 5000
LAG_EVERY_SECONDS = 0.5
LIVE_CACHE_SECONDS = 1.0
PROGRESS_LOG_SECONDS = 10.0


class RebuildInProgress(Exception):
    """A rebuild is already running: one at a time."""


@dataclass
class Progress:
    """How far one generation's consumer has come (shown by the API, the CLI and the log)."""

    generation: int
    group_id: str
    started: float = field(default_factory=time.monotonic)
    applied: int = 0
    target: int | None = None  # messages on the topics when the rebuild began
    lag: int | None = None
    caught_up_after: float | None = None
    dead_lettered: int = 0
    failures: int = 0

    def as_json(self) -> dict[str, Any]:
        elapsed = time.monotonic() - self.started
        until = self.caught_up_after if self.caught_up_after is not None else elapsed
        return {
            "generation": self.generation,
            "group_id": self.group_id,
            "events_applied": self.applied,
            "events_on_topics_at_start": self.target,
            "percent": round(100 * min(self.applied, self.target) / self.target, 1) if self.target else None,
            "lag": self.lag,
            "caught_up": self.caught_up_after is not None,
            "seconds": round(until, 2),
            "events_per_second": round(self.applied / until, 1) if until > 0 else None,
            "dead_lettered": self.dead_lettered,
            "failures": self.failures,
        }


class GenerationConsumer:
    """Projects every topic into one generation until stopped, through the runtime's consumer."""

    def __init__(
        self,
        projector: Projector,
        store: EventStore,
        progress: Progress,
        *,
        label: str,
    ) -> None:
        self.projector = projector
        self.progress = progress
        self.caught_up = asyncio.Event()
        self.consumer = IdempotentConsumer(
            name=label, group_id=progress.group_id, store=store, envelope_handler=self._apply, inbox=False
        )
        self.label = label
        self._watch: asyncio.Task[None] | None = None

    async def _apply(self, conn: AsyncConnection, batch: Sequence[ReceivedEnvelope]) -> None:
        facts = [f for f in (self.projector.fact_of_envelope(r.envelope) for r in batch) if f is not None]
        await self.projector.apply_facts(conn, facts)

    async def start(self, broker: KafkaBroker, topics: Sequence[str], batch: int) -> None:
        await self.consumer.start(broker, *topics, max_records=batch)
        self.progress.target = await self.consumer.messages_on_topics()
        self._watch = asyncio.create_task(self._follow(), name=f"{self.label}-progress")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
        await self.consumer.stop()

    async def _follow(self) -> None:
        """Keep the progress current; mark the generation caught up once nothing is left to apply."""
        last_log = 0.0
        while True:
            await asyncio.sleep(LAG_EVERY_SECONDS)
            try:
                self.progress.lag = await self.consumer.lag()
            except KafkaError:  # the broker is away: the consumer's supervisor deals with it
                self.progress.failures += 1
                continue
            self.progress.applied = self.consumer.applied
            now = time.monotonic()
            if not self.caught_up.is_set() and now - last_log >= PROGRESS_LOG_SECONDS:
                last_log = now
                log.info(
                    "pathway generation %s building: %s", self.progress.generation, self.progress.as_json()
                )
            # Applied offsets only count once their rows committed: caught up means every fetched row is in.
            if self.progress.lag == 0 and not self.caught_up.is_set():
                self.progress.caught_up_after = now - self.progress.started
                self.caught_up.set()
                log.info(
                    "pathway generation %s caught up: %s", self.progress.generation, self.progress.as_json()
                )


class ReadModels:
    """Every generation of the pathway read model in one database, and the consumers that feed them.

    ``supervised``: the list of consumers the runtime supervises (its ``consumers``); each generation's consumer
    joins it while it runs, so ``/readyz`` says when it has stopped and the supervisor restarts it."""

    def __init__(
        self,
        store: EventStore,
        broker: KafkaBroker,
        *,
        topics: Sequence[str],
        namespace: str = "",
        prefix: str = DEFAULT_PREFIX,
        batch: int = BATCH,
        supervised: list[IdempotentConsumer] | None = None,
    ) -> None:
        self.store = store
        self.engine = store.engine
        self.broker = broker
        self.topics = list(topics)
        self.namespace = namespace
        self.prefix = prefix
        self.batch = batch
        self.supervised = supervised if supervised is not None else []
        self.generations = generations_table(prefix)
        self.consumers: dict[int, GenerationConsumer] = {}
        self._switcher: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._live: tuple[float, int] | None = None  # (when read, generation)

    def projector(self, generation: int, group_id: str | None = None) -> Projector:
        return Projector(self.engine, generation=generation, prefix=self.prefix, group_id=group_id)

    def _group(self, generation: int) -> str:
        return f"{self.namespace}pathway-g{generation}-{uuid.uuid4().hex[:8]}"

    async def start(self) -> None:
        """Create the first generation if there is none; run the live one, resume a rebuild cut short."""
        async with self.engine.begin() as conn:
            await conn.run_sync(self.generations.metadata.create_all)
        rows = await self._rows()
        if not rows:
            projector = self.projector(1, self._group(1))
            await projector.create_schema()
            rows = await self._rows()
        for row in rows:
            if row.status == "live":
                await self._run(row.generation, row.group_id)
            elif row.status == "building":
                await self._run(row.generation, row.group_id)
                self._switcher = asyncio.create_task(self._switch_when_caught_up(row.generation))

    async def stop(self) -> None:
        if self._switcher is not None:
            self._switcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._switcher
        await asyncio.gather(*(self._stop(g) for g in list(self.consumers)))

    async def _stop(self, generation: int) -> None:
        consumer = self.consumers.pop(generation)
        with contextlib.suppress(ValueError):
            self.supervised.remove(consumer.consumer)
        await consumer.stop()

    async def _rows(self) -> list[Any]:
        async with self.engine.connect() as conn:
            return list(
                (await conn.execute(select(self.generations).order_by(self.generations.c.generation))).all()
            )

    async def _run(self, generation: int, group_id: str) -> GenerationConsumer:
        projector = self.projector(generation, group_id)
        await projector.create_schema()
        label = f"pathway-g{generation}"
        consumer = GenerationConsumer(projector, self.store, Progress(generation, group_id), label=label)
        self.consumers[generation] = consumer
        await consumer.start(self.broker, self.topics, self.batch)
        self.supervised.append(consumer.consumer)
        return consumer

    async def live(self) -> int | None:
        async with self.engine.connect() as conn:
            return await live_generation(conn, self.prefix)

    async def serving(self) -> int | None:
        """The live generation for a request: remembered for a second (a switch made by this process is seen
        at once; one made by another process within a second). Old tables outlive a switch, so a request
        that starts on the previous generation still finishes on it."""
        now = time.monotonic()
        if self._live is not None and now - self._live[0] < LIVE_CACHE_SECONDS:
            return self._live[1]
        generation = await self.live()
        if generation is not None:
            self._live = (now, generation)
        return generation

    async def rebuild(self) -> int:
        """Start building a new generation from offset zero; the live one serves until it has caught up."""
        async with self._lock:
            rows = await self._rows()
            if any(r.status == "building" for r in rows):
                raise RebuildInProgress("a rebuild is already running")
            generation = max((r.generation for r in rows), default=0) + 1
            group_id = self._group(generation)
            async with self.engine.begin() as conn:
                await conn.execute(
                    insert(self.generations).values(
                        generation=generation,
                        status="building",
                        group_id=group_id,
                        created_at=datetime.now(UTC),
                    )
                )
            await self._run(generation, group_id)
            self._switcher = asyncio.create_task(self._switch_when_caught_up(generation))
            log.info("pathway rebuild started: generation %s, group %s", generation, group_id)
            return generation

    async def _switch_when_caught_up(self, generation: int) -> None:
        consumer = self.consumers[generation]
        await consumer.caught_up.wait()
        previous = await self.live()
        async with self.engine.begin() as conn:
            await switch_live(conn, self.prefix, generation, datetime.now(UTC))
        self._live = (time.monotonic(), generation)
        log.info(
            "pathway generation %s is live (was %s): %s", generation, previous, consumer.progress.as_json()
        )
        if previous is not None and previous in self.consumers:
            await self._stop(previous)
        await self._drop_older_than(previous)

    async def _drop_older_than(self, keep: int | None) -> None:
        """Drop the tables of retired generations before ``keep`` (the one just retired is kept)."""
        if keep is None:
            return
        for row in await self._rows():
            if row.status == "retired" and row.generation < keep:
                table = facts_table(self.prefix, row.generation)
                async with self.engine.begin() as conn:
                    await conn.run_sync(table.metadata.drop_all)

    async def status(self) -> dict[str, Any]:
        rows = await self._rows()
        return {
            "live": next((r.generation for r in rows if r.status == "live"), None),
            "generations": [
                {
                    "generation": r.generation,
                    "status": r.status,
                    "created_at": r.created_at,
                    "switched_at": r.switched_at,
                    "progress": self.consumers[r.generation].progress.as_json()
                    if r.generation in self.consumers
                    else None,
                }
                for r in rows
            ],
        }
