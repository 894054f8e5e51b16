"""Blue-green read models: the live generation serves while a new one is rebuilt from offset zero.

Each generation has its own tables and its own consumer group. A rebuild creates generation N+1 with a new
group (so Kafka hands it every topic from the first offset), projects into its tables while the API keeps
reading generation N, and, once it has caught up (no lag on any partition), makes it live in one committed
update; then it carries on as the live consumer (live catch-up) and the old generation's consumer stops.
Its tables are kept until the next rebuild, so a request that began on them still finishes.
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

import orjson
from aiokafka import ConsumerRecord, TopicPartition
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_pathway.adapters.kafka_source import TopicReader, hash_mismatch
from ddr_pathway.adapters.tables import (
    DEFAULT_PREFIX,
    facts_table,
    generations_table,
    live_generation,
    switch_live,
)
from ddr_pathway.domain.facts import Fact
from ddr_pathway.service_layer.projector import Projector
from ddr_runtime import metrics

log = logging.getLogger(__name__)

BATCH = 5000
POLL_MS = 200
LAG_EVERY_SECONDS = 0.5
LIVE_CACHE_SECONDS = 1.0
PROGRESS_LOG_SECONDS = 10.0


class Poison(ValueError):
    """A message no retry can project: not an envelope, or not the bytes its hash declares."""


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
    """Projects every topic into one generation until stopped."""

    def __init__(
        self, projector: Projector, reader: TopicReader, progress: Progress, *, batch: int = BATCH
    ) -> None:
        self.projector = projector
        self.reader = reader
        self.progress = progress
        self.batch = batch
        self.caught_up = asyncio.Event()
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"pathway-g{self.progress.generation}")

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception:
                log.exception("pathway generation %s stopped on a failure", self.progress.generation)

    async def _run(self) -> None:
        """Poll, parse, write; the write of one batch overlaps the fetch and parse of the next (the
        database works in its own process meanwhile). Offsets are committed per batch, after its rows."""
        await self.reader.start()
        pending: tuple[asyncio.Task[None], dict[TopicPartition, int], int] | None = None
        try:
            self.progress.target = await self.reader.end_total()
            last_lag = last_log = 0.0
            while not self._stop.is_set():
                records = await self.reader.poll(self.batch, POLL_MS)
                facts = await self._facts(records) if records else []
                if pending is not None:
                    await self._settle(pending)
                    pending = None
                if records:
                    pending = (asyncio.create_task(self._write(facts)), _next_offsets(records), len(records))
                    if time.monotonic() - last_lag < LAG_EVERY_SECONDS:
                        continue
                last_lag = time.monotonic()
                self.progress.lag = await self.reader.lag()
                if not self.caught_up.is_set() and last_lag - last_log >= PROGRESS_LOG_SECONDS:
                    last_log = last_lag
                    log.info(
                        "pathway generation %s building: %s",
                        self.progress.generation,
                        self.progress.as_json(),
                    )
                # Caught up only once everything fetched is written: never switch to half a batch.
                if self.progress.lag == 0 and pending is None and not self.caught_up.is_set():
                    self.progress.caught_up_after = time.monotonic() - self.progress.started
                    self.caught_up.set()
                    log.info(
                        "pathway generation %s caught up: %s",
                        self.progress.generation,
                        self.progress.as_json(),
                    )
            if pending is not None:
                await self._settle(pending)
        finally:
            if pending is not None and not pending[0].done():
                pending[0].cancel()
            await self.reader.stop()

    async def _settle(self, pending: tuple[asyncio.Task[None], dict[TopicPartition, int], int]) -> None:
        task, offsets, count = pending
        await task
        await self.reader.commit(offsets)
        self.progress.applied += count
        metrics.CONSUMED.labels(self.reader.label).inc(count)

    async def _facts(self, records: Sequence[ConsumerRecord[Any, Any]]) -> list[Fact]:
        facts: list[Fact] = []
        for record in records:
            try:
                fact = self.projector.fact_from_envelope(_envelope(record))
            except ValueError as poison:
                await self.reader.dead_letter(record, str(poison))
                self.progress.dead_lettered += 1
                continue
            if fact is not None:
                facts.append(fact)
        return facts

    async def _write(self, facts: Sequence[Fact]) -> None:
        while True:
            try:
                async with self.projector.engine.begin() as conn:
                    await self.projector.apply_facts(conn, facts)
                return
            except Exception:
                self.progress.failures += 1
                log.exception("pathway generation %s: batch failed, retrying", self.progress.generation)
                if self._stop.is_set():
                    raise
                await asyncio.sleep(1.0)


def _next_offsets(records: Sequence[ConsumerRecord[Any, Any]]) -> dict[TopicPartition, int]:
    """The offsets to commit once ``records`` are written: one past the last of each partition."""
    offsets: dict[TopicPartition, int] = {}
    for record in records:
        partition = TopicPartition(record.topic, record.partition)
        offsets[partition] = max(offsets.get(partition, 0), record.offset + 1)
    return offsets


def _envelope(record: ConsumerRecord[Any, Any]) -> dict[str, Any]:
    value = record.value
    if not isinstance(value, bytes | bytearray):
        raise Poison("empty or non-binary message value")
    if hash_mismatch(record):
        raise Poison("message bytes do not match their declared hash")
    try:
        document = orjson.loads(value)
    except orjson.JSONDecodeError as error:
        raise Poison(f"not JSON: {error}") from None
    if not isinstance(document, dict):
        raise Poison("not an event envelope")
    return document


class ReadModels:
    """Every generation of the pathway read model in one database, and the consumers that feed them."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        bootstrap_servers: str,
        topics: Sequence[str],
        namespace: str = "",
        prefix: str = DEFAULT_PREFIX,
        batch: int = BATCH,
    ) -> None:
        self.engine = engine
        self.bootstrap_servers = bootstrap_servers
        self.topics = list(topics)
        self.namespace = namespace
        self.prefix = prefix
        self.batch = batch
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
        await asyncio.gather(*(c.stop() for c in self.consumers.values()))
        self.consumers.clear()

    async def _rows(self) -> list[Any]:
        async with self.engine.connect() as conn:
            return list(
                (await conn.execute(select(self.generations).order_by(self.generations.c.generation))).all()
            )

    async def _run(self, generation: int, group_id: str) -> GenerationConsumer:
        projector = self.projector(generation, group_id)
        await projector.create_schema()
        reader = TopicReader(self.bootstrap_servers, self.topics, group_id, label=f"pathway-g{generation}")
        consumer = GenerationConsumer(projector, reader, Progress(generation, group_id), batch=self.batch)
        self.consumers[generation] = consumer
        consumer.start()
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
            await self.consumers.pop(previous).stop()
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
