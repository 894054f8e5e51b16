"""Foundation benchmarks: the shared runtime's event store, outbox relay and idempotent consumer.

1. Append throughput on PostgreSQL (1 KB events; batches of 1 and of 100; 16 concurrent writers, each on
   streams of its own) with expected-version check, hash chain, outbox row and per-subject encryption on,
   beside the ``eventsourcing`` library's ``PostgresApplicationRecorder`` writing ``StoredEvent`` objects of
   the same size, batches and concurrency (threads: it is synchronous) on the same server, other database;
   and beside raw ``COPY`` (asyncpg ``copy_records_to_table``) of the same stored rows into the same events
   table, in the same batches, transactions and concurrency: the physical ceiling of writing those rows.
2. Relay throughput: a pre-filled outbox drained to acknowledged on Kafka by ``OutboxRelay``, beside bare
   producers of both Python Kafka clients (aiokafka and confluent-kafka, that is librdkafka) sending the same
   payloads with the same keys (``acks=all``, idempotent).
3. Consumer-with-inbox throughput: ``IdempotentConsumer`` applying every event into PostgreSQL, beside bare
   consumers of both clients draining the same topic from the earliest offset; all in a new group.

The baseline of the relay and of the consumer is the **faster** of the two bare clients, measured in the same
run. Every figure is the median of ``env.runs`` runs, with min and max; each run starts from a fresh database or
a fresh topic or group. Targets are reported as met or missed against the medians.

``DDR_BENCH_FOUNDATION_PARTS=pipeline`` (or ``append``) runs only that part while iterating: the figures are
printed and written to ``var/bench/foundation.<part>.json``, and docs/benchmarks.md is left alone.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import asyncpg
import confluent_kafka
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord
from eventsourcing.persistence import StoredEvent as EsStoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from kafka import KafkaConsumer, TopicPartition
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_runtime.crypto.cipher import PersonalDataCipher
from ddr_runtime.crypto.keystore import KeyStore
from ddr_runtime.db import create_engine
from ddr_runtime.eventstore.pgwrite import EVENT_COLUMNS
from ddr_runtime.eventstore.schema import events, inbox, outbox
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent
from ddr_runtime.messaging.broker import ConfluentSender, confluent_producer_config, make_broker
from ddr_runtime.messaging.consumer import BatchHandler, Handler, IdempotentConsumer, ReceivedEvent
from ddr_runtime.messaging.relay import OutboxRelay
from ddr_runtime.messaging.topics import KEEP_FOREVER, TopicSpec, ensure_topics
from ddr_testkit.samples import SAMPLES, SamplePersonListed
from tests.bench import BenchEnv, Figure, machine_info, now_iso, package_versions

NAME = "foundation"
WRITERS = 16
STREAMS_PER_WRITER = 8
EVENT_BYTES = 1024  # target size of one stored event (the envelope's canonical bytes)
APPEND_EVENTS = {1: WRITERS * 200, 100: WRITERS * 20 * 100}  # events per timed run, by batch size
PIPELINE_EVENTS = 50_000  # events in the outbox the relay drains, then on the topic the consumers read
PARTITIONS = 6  # Settings.kafka_partitions' default
RELAY_CLIENT = "confluent"  # what the services' relay sends through (ddr_runtime.service.build_runtime)
OTHER_CLIENT = "aiokafka"
CONSUMER_MAX_RECORDS = 500  # IdempotentConsumer.subscribe's default, used for the bare consumer too
RUN_TIMEOUT = 300.0  # seconds one timed run may take before the benchmark fails
SERVICE = "bench"
CAUSE = Causation(actor="bench")
ES_TOPIC = "ddr.sample.PersonListed.v1"

MASTER_KEY = bytes(range(32))  # a throwaway key-encryption key for a throwaway key store


# -- helpers ----------------------------------------------------------------------------------------------


def sample_event(stream: str, padding: str) -> SamplePersonListed:
    return SamplePersonListed(
        person_id=stream,
        movement="FDLR",
        full_name="Jean-Baptiste Habimana",
        birth_year=1988,
        padding=padding,
    )


def scaled(env: BenchEnv, count: int, quantum: int) -> int:
    """``count`` times the scale, a multiple of ``quantum`` (at least one)."""
    return max(quantum, round(count * env.scale / quantum) * quantum)


def new_streams() -> list[list[str]]:
    """Streams of each writer: UUIDs, like person ids (so every stored event has the same size)."""
    return [[str(uuid.uuid4()) for _ in range(STREAMS_PER_WRITER)] for _ in range(WRITERS)]


async def scalar(engine: AsyncEngine, statement: Any) -> Any:
    async with engine.connect() as conn:
        return (await conn.execute(statement)).scalar_one()


async def count_rows(engine: AsyncEngine, table: Table) -> int:
    return int(await scalar(engine, select(func.count()).select_from(table)))


def create_topic(bootstrap: str, prefix: str) -> str:
    """A new topic with the platform's partition count, ready (every partition has a leader)."""
    name = f"bench.{prefix}.{uuid.uuid4().hex[:10]}"
    ensure_topics(bootstrap, [TopicSpec(name, PARTITIONS, dict(KEEP_FOREVER))])
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="bench-admin")
    try:
        deadline = time.monotonic() + 30
        while len(consumer.partitions_for_topic(name) or ()) < PARTITIONS:
            if time.monotonic() > deadline:
                raise RuntimeError(f"topic {name} has no leaders after 30 s")
            time.sleep(0.1)
    finally:
        consumer.close()
    return name


def topic_size(bootstrap: str, topic: str) -> int:
    """Messages on ``topic`` (sum of its partitions' end offsets)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, client_id="bench-admin")
    try:
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return int(sum(consumer.end_offsets(partitions).values()))
    finally:
        consumer.close()


async def timed(run: Callable[[], Awaitable[int]]) -> tuple[int, float]:
    """(what ``run`` returned, seconds it took), after a garbage collection."""
    gc.collect()
    began = time.perf_counter()
    result = await run()
    return result, time.perf_counter() - began


def check(condition: bool, message: str) -> None:
    if not condition:
        raise RuntimeError(f"benchmark invalid: {message}")


@dataclass
class Setup:
    """What every phase shares: the key store's engine, the padding that makes 1 KB events, a sample."""

    keys_engine: AsyncEngine
    padding: str
    sample_payload: bytes

    def keystore(self) -> KeyStore:
        """A key store with a cold cache, as a new process would have."""
        return KeyStore(self.keys_engine, MASTER_KEY)

    def cipher(self) -> PersonalDataCipher:
        return PersonalDataCipher(self.keystore())


async def new_store(
    env: BenchEnv, setup: Setup, prefix: str, *, topic: str = "ddr.bench.events"
) -> EventStore:
    name = await env.create_database(prefix)
    engine = create_engine(env.database_url(name), pool_size=WRITERS)
    store = EventStore(engine, setup.cipher(), SAMPLES, service=SERVICE, topic=topic)
    await store.create_schema()
    return store


async def calibrate(env: BenchEnv) -> Setup:
    """Create the key store and find the padding that makes a stored event ``EVENT_BYTES`` long."""
    keys_name = await env.create_database("keys")
    keys_engine = create_engine(env.database_url(keys_name), pool_size=WRITERS)
    await KeyStore(keys_engine, MASTER_KEY).create_schema()
    setup = Setup(keys_engine, "", b"")
    store = await new_store(env, setup, "calibrate")
    try:
        stream = str(uuid.uuid4())
        (bare,) = await store.append(stream, 0, [NewEvent(sample_event(stream, ""), stream)], CAUSE)
        padding = "x" * max(0, EVENT_BYTES - len(bare.payload))
        (full,) = await store.append(stream, 1, [NewEvent(sample_event(stream, padding), stream)], CAUSE)
    finally:
        await store.engine.dispose()
    return Setup(keys_engine, padding, full.payload)


# -- 1. append --------------------------------------------------------------------------------------------


async def append_ddr(env: BenchEnv, setup: Setup, batch: int, total: int) -> tuple[float, float]:
    """One run of EventStore.append: (events/s, mean stored event size in bytes)."""
    store = await new_store(env, setup, "append_ddr")
    try:
        streams = new_streams()
        batches = {
            stream: [NewEvent(sample_event(stream, setup.padding), stream)] * batch
            for own in streams
            for stream in own
        }
        appends_per_writer = total // WRITERS // batch

        async def warm_up(_writer: int) -> None:
            stream = str(uuid.uuid4())
            await store.append(stream, 0, [NewEvent(sample_event(stream, setup.padding), stream)], CAUSE)

        async def writer(own: list[str]) -> None:
            versions = dict.fromkeys(own, 0)
            for i in range(appends_per_writer):
                stream = own[i % len(own)]
                await store.append(stream, versions[stream], batches[stream], CAUSE)
                versions[stream] += batch

        async def write_all() -> int:
            await asyncio.gather(*(writer(own) for own in streams))
            return appends_per_writer * batch * WRITERS

        await asyncio.gather(*(warm_up(w) for w in range(WRITERS)))  # connections open, code paths warm
        written, seconds = await asyncio.wait_for(timed(write_all), RUN_TIMEOUT)
        stored = await count_rows(store.engine, events)
        check(stored == written + WRITERS, f"{stored} events stored, {written + WRITERS} appended")
        check(await count_rows(store.engine, outbox) == stored, "an outbox row for every event")
        size = float(await scalar(store.engine, select(func.avg(func.length(events.c.payload)))))
        return written / seconds, size
    finally:
        await store.engine.dispose()


def _es_datastore(env: BenchEnv, database: str) -> PostgresDatastore:
    url = make_url(env.postgres_url)
    if url.host is None or url.username is None or url.password is None:
        raise RuntimeError("the PostgreSQL URL must name host, user and password")
    return PostgresDatastore(
        database, url.host, url.port or 5432, url.username, url.password, pool_size=WRITERS
    )


def append_eventsourcing(env: BenchEnv, database: str, state: bytes, batch: int, total: int) -> float:
    """One run of PostgresApplicationRecorder.insert_events from WRITERS threads: events/s."""
    datastore = _es_datastore(env, database)
    try:
        recorder = PostgresApplicationRecorder(datastore)
        recorder.create_table()
        streams = [[uuid.uuid4() for _ in range(STREAMS_PER_WRITER)] for _ in range(WRITERS)]
        appends_per_writer = total // WRITERS // batch

        def warm_up(_writer: int) -> None:
            recorder.insert_events([EsStoredEvent(uuid.uuid4(), 1, ES_TOPIC, state)])

        def writer(own: list[uuid.UUID]) -> int:
            versions = dict.fromkeys(own, 0)
            for i in range(appends_per_writer):
                stream = own[i % len(own)]
                version = versions[stream]
                recorder.insert_events(
                    [EsStoredEvent(stream, version + k + 1, ES_TOPIC, state) for k in range(batch)]
                )
                versions[stream] = version + batch
            return appends_per_writer * batch

        with ThreadPoolExecutor(max_workers=WRITERS) as pool:
            list(pool.map(warm_up, range(WRITERS)))
            gc.collect()
            began = time.perf_counter()
            written = sum(pool.map(writer, streams))
            seconds = time.perf_counter() - began
        with datastore.transaction(commit=False) as cursor:
            cursor.execute("SELECT count(*) AS n FROM stored_events")
            row = cursor.fetchone()
        stored = int(row["n"]) if row is not None else -1
        check(stored == written + WRITERS, f"eventsourcing stored {stored}, {written + WRITERS} inserted")
        return written / seconds
    finally:
        datastore.close()


async def append_copy(env: BenchEnv, setup: Setup, batch: int, total: int) -> float:
    """One run of raw COPY of the same stored rows into the events table: events/s.

    The ceiling of writing these rows: a store's events table (same shape, keys and indexes), WRITERS
    asyncpg connections, each transaction one ``copy_records_to_table`` of ``batch`` rows prepared before the
    timing (no sealing, no hashing, no tail look-up, no outbox)."""
    store = await new_store(env, setup, "append_copy")
    await store.engine.dispose()
    pool = await asyncpg.create_pool(
        env.database_url(store.engine.url.database or "", driver=None), min_size=WRITERS, max_size=WRITERS
    )
    try:
        streams = new_streams()
        appends_per_writer = total // WRITERS // batch
        recorded_at = datetime.now(UTC)
        event_type = SamplePersonListed.type_name()
        digest = hashlib.sha256(setup.sample_payload).hexdigest()

        def rows(stream: str, first: int) -> list[tuple[Any, ...]]:
            return [
                (
                    str(uuid.uuid4()),
                    stream,
                    first + k,
                    event_type,
                    stream,
                    recorded_at,
                    setup.sample_payload,
                    digest,
                    None,
                )
                for k in range(batch)
            ]

        def plan(own: list[str]) -> list[list[tuple[Any, ...]]]:
            versions = dict.fromkeys(own, 0)
            planned = []
            for i in range(appends_per_writer):
                stream = own[i % len(own)]
                planned.append(rows(stream, versions[stream] + 1))
                versions[stream] += batch
            return planned

        plans = [plan(own) for own in streams]

        async def warm_up(_writer: int) -> None:
            async with pool.acquire() as conn, conn.transaction():
                await conn.copy_records_to_table(
                    "events", records=rows(str(uuid.uuid4()), 1)[:1], columns=EVENT_COLUMNS
                )

        async def writer(planned: list[list[tuple[Any, ...]]]) -> None:
            async with pool.acquire() as conn:
                for records in planned:
                    async with conn.transaction():
                        await conn.copy_records_to_table("events", records=records, columns=EVENT_COLUMNS)

        async def write_all() -> int:
            await asyncio.gather(*(writer(planned) for planned in plans))
            return appends_per_writer * batch * WRITERS

        await asyncio.gather(*(warm_up(w) for w in range(WRITERS)))
        written, seconds = await asyncio.wait_for(timed(write_all), RUN_TIMEOUT)
        stored = await pool.fetchval("SELECT count(*) FROM events")
        check(stored == written + WRITERS, f"COPY stored {stored}, {written + WRITERS} copied")
        return written / seconds
    finally:
        await pool.close()


async def bench_append(env: BenchEnv, setup: Setup) -> tuple[list[Figure], dict[str, Any]]:
    figures: list[Figure] = []
    sizes: list[float] = []
    counts: dict[str, int] = {}
    for batch, count in APPEND_EVENTS.items():
        total = scaled(env, count, WRITERS * batch)
        counts[f"batch_{batch}"] = total
        ours: list[float] = []
        theirs: list[float] = []
        ceiling: list[float] = []
        task = env.progress.add_task(f"append, batches of {batch} ({total:,} events)", total=3 * env.runs)
        for _ in range(env.runs):
            # Alternate the three, so drift on a shared machine spreads over all.
            ceiling.append(await append_copy(env, setup, batch, total))
            env.progress.advance(task)
            rate, size = await append_ddr(env, setup, batch, total)
            ours.append(rate)
            sizes.append(size)
            env.progress.advance(task)
            database = await env.create_database("append_es")
            theirs.append(
                await asyncio.wait_for(
                    asyncio.to_thread(
                        append_eventsourcing, env, database, setup.sample_payload, batch, total
                    ),
                    RUN_TIMEOUT,
                )
            )
            await env.drop_database(database)
            env.progress.advance(task)
        figures.append(
            Figure(
                f"append.batch{batch}.ddr", f"EventStore.append, batches of {batch}", "events/s", tuple(ours)
            )
        )
        figures.append(
            Figure(
                f"append.batch{batch}.eventsourcing",
                f"eventsourcing PostgresApplicationRecorder, batches of {batch}",
                "events/s",
                tuple(theirs),
            )
        )
        figures.append(
            Figure(
                f"append.batch{batch}.copy",
                f"raw COPY of the same rows into the events table, batches of {batch}",
                "events/s",
                tuple(ceiling),
            )
        )
    details = {
        "events_per_run": counts,
        "writers": WRITERS,
        "streams_per_writer": STREAMS_PER_WRITER,
        "mean_stored_event_bytes": round(sum(sizes) / len(sizes), 1),
        "eventsourcing_state_bytes": len(setup.sample_payload),
    }
    return figures, details


# -- 2. relay ---------------------------------------------------------------------------------------------


async def prefill(env: BenchEnv, setup: Setup, total: int) -> EventStore:
    """A store holding ``total`` events (batches of 100 from WRITERS writers), untimed."""
    store = await new_store(env, setup, "pipeline")
    streams = new_streams()
    batch = 100
    appends, extra = divmod(total // batch, WRITERS)
    task = env.progress.add_task(f"pre-filling the outbox ({total:,} events, untimed)", total=total)

    async def writer(own: list[str], count: int) -> None:
        versions = dict.fromkeys(own, 0)
        for i in range(count):
            stream = own[i % len(own)]
            new = [NewEvent(sample_event(stream, setup.padding), stream)] * batch
            await store.append(stream, versions[stream], new, CAUSE)
            versions[stream] += batch
            env.progress.advance(task, batch)

    await asyncio.gather(*(writer(own, appends + (w < extra)) for w, own in enumerate(streams)))
    return store


async def refill_outbox(env: BenchEnv, store: EventStore, topic: str) -> None:
    """Every stored event back in the outbox, addressed to ``topic``, in store order; then vacuumed."""
    async with store.engine.begin() as conn:
        await conn.execute(outbox.delete())
        await conn.execute(
            text(
                "INSERT INTO outbox (event_id, topic) SELECT event_id, :topic FROM events ORDER BY position"
            ),
            {"topic": topic},
        )
    database = make_url(store.engine.url).database
    await env.execute_autocommit("VACUUM ANALYZE outbox", database=database)


async def relay_run(env: BenchEnv, store: EventStore, total: int, client: str) -> tuple[float, str]:
    """One run of OutboxRelay.drain over a full outbox, sending through ``client`` ("aiokafka": the FastStream
    broker's producer; "confluent": a ConfluentSender): (events/s, the topic it filled)."""
    topic = await asyncio.to_thread(create_topic, env.kafka_bootstrap_servers, "relay")
    await refill_outbox(env, store, topic)
    broker = make_broker(env.kafka_bootstrap_servers, client_id="bench-relay")
    sender = ConfluentSender(env.kafka_bootstrap_servers, client_id="bench-relay")
    if client == "confluent":
        await sender.start()
        await asyncio.to_thread(sender.metadata, topic)  # as the aiokafka side's connect() does
        relay = OutboxRelay(store.engine, sender, service=SERVICE)
    else:
        await broker.connect()
        relay = OutboxRelay(store.engine, broker, service=SERVICE)
    try:
        published, seconds = await asyncio.wait_for(timed(relay.drain), RUN_TIMEOUT)
    finally:
        await sender.stop()
        await broker.stop()
    check(published == total, f"relay published {published} of {total}")
    on_topic = await asyncio.to_thread(topic_size, env.kafka_bootstrap_servers, topic)
    check(on_topic == total, f"{on_topic} messages on {topic}, {total} relayed")
    return total / seconds, topic


async def bare_producer_run(env: BenchEnv, records: Sequence[tuple[bytes, bytes]]) -> float:
    """The same payloads and keys through a bare aiokafka producer, the broker's settings: events/s."""
    topic = await asyncio.to_thread(create_topic, env.kafka_bootstrap_servers, "bare-producer")
    # The settings make_broker gives the relay's producer: only the relay itself differs.
    producer = AIOKafkaProducer(
        bootstrap_servers=env.kafka_bootstrap_servers,
        client_id="bench-bare-producer",
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=1024 * 1024,
        request_timeout_ms=30_000,
    )
    await producer.start()
    try:

        async def send_all() -> int:
            pending = [await producer.send(topic, value, key=key) for key, value in records]
            await asyncio.gather(*pending)
            return len(pending)

        sent, seconds = await asyncio.wait_for(timed(send_all), RUN_TIMEOUT)
    finally:
        await producer.stop()
    on_topic = await asyncio.to_thread(topic_size, env.kafka_bootstrap_servers, topic)
    check(on_topic == sent == len(records), f"{on_topic} messages on {topic}, {len(records)} sent")
    return sent / seconds


def confluent_send_all(
    bootstrap: str, topic: str, records: Sequence[tuple[bytes, bytes]]
) -> tuple[int, float]:
    """Produce ``records`` with confluent-kafka until every one is acknowledged: (acknowledged, seconds).

    Synchronous (librdkafka's own threads do the I/O): run in a thread. Metadata is fetched before the timing,
    as ``AIOKafkaProducer.start()`` does before the aiokafka side's timing."""
    producer = confluent_kafka.Producer(confluent_producer_config(bootstrap, "bench-bare-confluent-producer"))
    producer.list_topics(topic, timeout=30)
    acknowledged = 0
    errors: list[Any] = []

    def delivered(error: Any, _message: Any) -> None:
        nonlocal acknowledged
        if error is not None:
            errors.append(error)
        else:
            acknowledged += 1

    gc.collect()
    began = time.perf_counter()
    for i, (key, value) in enumerate(records):
        while True:
            try:
                producer.produce(topic, value, key, on_delivery=delivered)
                break
            except BufferError:  # the local queue is full: serve acknowledgements, then try again
                producer.poll(0.01)
        if i % 1000 == 999:
            producer.poll(0)
    remaining = producer.flush(RUN_TIMEOUT)
    seconds = time.perf_counter() - began
    check(remaining == 0 and not errors, f"confluent producer: {remaining} unsent, errors {errors[:3]}")
    return acknowledged, seconds


async def bare_confluent_producer_run(env: BenchEnv, records: Sequence[tuple[bytes, bytes]]) -> float:
    """The same payloads and keys through a bare confluent-kafka producer, the same settings: events/s."""
    topic = await asyncio.to_thread(create_topic, env.kafka_bootstrap_servers, "bare-confluent-producer")
    sent, seconds = await asyncio.wait_for(
        asyncio.to_thread(confluent_send_all, env.kafka_bootstrap_servers, topic, records), RUN_TIMEOUT
    )
    on_topic = await asyncio.to_thread(topic_size, env.kafka_bootstrap_servers, topic)
    check(on_topic == sent == len(records), f"{on_topic} messages on {topic}, {len(records)} sent")
    return sent / seconds


def faster(first: Figure, second: Figure, key: str, label: str) -> Figure:
    """The faster of two bare clients measured in the same run (by median), as the baseline figure."""
    best = first if first.median >= second.median else second
    return Figure(key, f"{label}: {best.label}", best.unit, best.values)


async def bench_relay(env: BenchEnv, store: EventStore, total: int) -> tuple[list[Figure], str]:
    async with store.engine.connect() as conn:
        rows = (
            await conn.execute(select(events.c.subject, events.c.payload).order_by(events.c.position))
        ).all()
    records = [(row.subject.encode(), bytes(row.payload)) for row in rows]
    check(len(records) == total, f"{len(records)} events pre-filled, {total} wanted")
    relayed: list[float] = []
    relayed_aiokafka: list[float] = []
    bare: list[float] = []
    bare_confluent: list[float] = []
    topic = ""
    task = env.progress.add_task(f"relay vs bare producers ({total:,} events)", total=4 * env.runs)
    for _ in range(env.runs):
        rate, topic = await relay_run(env, store, total, RELAY_CLIENT)
        relayed.append(rate)
        env.progress.advance(task)
        rate, _ = await relay_run(env, store, total, OTHER_CLIENT)
        relayed_aiokafka.append(rate)
        env.progress.advance(task)
        bare.append(await bare_producer_run(env, records))
        env.progress.advance(task)
        bare_confluent.append(await bare_confluent_producer_run(env, records))
        env.progress.advance(task)
    aiokafka_figure = Figure(
        "relay.bare_aiokafka", "bare AIOKafkaProducer, acks=all, idempotent", "events/s", tuple(bare)
    )
    confluent_figure = Figure(
        "relay.bare_confluent",
        "bare confluent_kafka.Producer, acks=all, idempotent",
        "events/s",
        tuple(bare_confluent),
    )
    return [
        Figure(
            "relay.ddr",
            f"OutboxRelay.drain, outbox to acknowledged, through {RELAY_CLIENT}",
            "events/s",
            tuple(relayed),
        ),
        Figure(
            f"relay.ddr_{OTHER_CLIENT}",
            f"OutboxRelay.drain through {OTHER_CLIENT}: diagnostic, no target",
            "events/s",
            tuple(relayed_aiokafka),
        ),
        aiokafka_figure,
        confluent_figure,
        faster(aiokafka_figure, confluent_figure, "relay.bare_fastest", "the faster bare producer"),
    ], topic


# -- 3. consumer ------------------------------------------------------------------------------------------

applied_metadata = MetaData()
applied = Table(
    "applied",
    applied_metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
)


APPLY = insert(applied)


async def record_applied(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
    """The projection under test: one row per event, one statement per batch, in the consumer's transaction."""
    await conn.execute(
        APPLY,
        [
            {"event_id": r.envelope.id, "stream_id": r.envelope.streamid, "version": r.envelope.streamversion}
            for r in batch
        ],
    )


async def record_applied_one_by_one(conn: AsyncConnection, received: ReceivedEvent) -> None:
    """The same projection written as a per-event handler: one round trip per event (diagnostic)."""
    await record_applied(conn, [received])


async def apply_nothing(_conn: AsyncConnection, _batch: Sequence[ReceivedEvent]) -> None:
    """A handler that does nothing: what the consumer itself costs (inbox, decoding, decryption)."""


class CountingConsumer(IdempotentConsumer):
    """An IdempotentConsumer that says when ``target`` events are applied (their transaction committed)."""

    def __init__(
        self, *, name: str, store: EventStore, handler: Handler | BatchHandler, per_event: bool, target: int
    ) -> None:
        if per_event:
            super().__init__(name=name, store=store, handler=cast(Handler, handler))
        else:
            super().__init__(name=name, store=store, batch_handler=cast(BatchHandler, handler))
        self.target = target
        self.counted: set[tuple[int, int]] = set()  # (partition, offset) of every record applied
        self.done = asyncio.Event()

    async def handle_records(self, records: Sequence[ConsumerRecord[Any, Any]]) -> None:
        await super().handle_records(records)
        # Distinct records: a batch redelivered after a rebalance is applied (as nothing) again.
        self.counted.update((r.partition, r.offset) for r in records)
        if len(self.counted) >= self.target:
            self.done.set()


async def consumer_run(
    env: BenchEnv,
    setup: Setup,
    topic: str,
    total: int,
    handler: Handler | BatchHandler,
    per_event: bool = False,
) -> float:
    """One run of IdempotentConsumer in a new group into a new database: events/s until all applied."""
    store = await new_store(env, setup, "consumer", topic="unused")
    try:
        async with store.engine.begin() as conn:
            await conn.run_sync(applied_metadata.create_all)
        broker = make_broker(env.kafka_bootstrap_servers, client_id="bench-consumer")
        consumer = CountingConsumer(
            name=f"bench-{uuid.uuid4().hex[:8]}",
            store=store,
            handler=handler,
            per_event=per_event,
            target=total,
        )
        consumer.subscribe(broker, topic)

        async def consume_all() -> int:
            await broker.start()
            await consumer.done.wait()
            return len(consumer.counted)

        try:
            consumed, seconds = await asyncio.wait_for(timed(consume_all), RUN_TIMEOUT)
        finally:
            await broker.stop()
        check(consumed == total, f"consumer applied {consumed} of {total}")
        if handler is not apply_nothing:
            check(await count_rows(store.engine, applied) == total, "an applied row for every event")
        check(await count_rows(store.engine, inbox) == total, "an inbox row for every event")
        return total / seconds
    finally:
        await store.engine.dispose()
        await env.drop_database(make_url(store.engine.url).database or "")


async def bare_consumer_run(env: BenchEnv, topic: str, total: int) -> float:
    """A bare aiokafka consumer in a new group draining ``topic`` from the earliest offset: events/s."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=env.kafka_bootstrap_servers,
        client_id="bench-bare-consumer",
        group_id=f"bench-bare-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
    )

    async def drain() -> int:
        await consumer.start()
        received = 0
        while received < total:
            batches = await consumer.getmany(timeout_ms=100, max_records=CONSUMER_MAX_RECORDS)
            received += sum(len(messages) for messages in batches.values())
        return received

    try:
        received, seconds = await asyncio.wait_for(timed(drain), RUN_TIMEOUT)
    finally:
        await consumer.stop()
    check(received == total, f"bare consumer received {received} of {total}")
    return total / seconds


def confluent_drain(bootstrap: str, topic: str, total: int) -> tuple[int, float]:
    """A bare confluent-kafka consumer in a new group reading ``topic`` from the earliest offset, in batches
    of ``CONSUMER_MAX_RECORDS``, until ``total`` are received: (received, seconds from its creation)."""
    gc.collect()
    began = time.perf_counter()
    consumer = confluent_kafka.Consumer(
        {
            "bootstrap.servers": bootstrap,
            "client.id": "bench-bare-confluent-consumer",
            "group.id": f"bench-bare-confluent-{uuid.uuid4().hex[:8]}",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        consumer.subscribe([topic])
        received = 0
        deadline = time.monotonic() + RUN_TIMEOUT
        while received < total and time.monotonic() < deadline:
            for message in consumer.consume(num_messages=CONSUMER_MAX_RECORDS, timeout=0.1):
                error = message.error()
                check(error is None, f"confluent consumer: {error}")
                received += 1
        seconds = time.perf_counter() - began
    finally:
        consumer.close()
    return received, seconds


async def bare_confluent_consumer_run(env: BenchEnv, topic: str, total: int) -> float:
    received, seconds = await asyncio.to_thread(confluent_drain, env.kafka_bootstrap_servers, topic, total)
    check(received == total, f"bare confluent consumer received {received} of {total}")
    return total / seconds


async def warm_up_kafka(env: BenchEnv) -> None:
    """Untimed: a first idempotent producer and a first consumer group on the fresh broker.

    The first group on a new broker waits for the offsets topic to be created, and the first idempotent
    producer for a producer-id block; neither belongs in the first timed run.
    """
    topic = await asyncio.to_thread(create_topic, env.kafka_bootstrap_servers, "warm-up")
    producer = AIOKafkaProducer(
        bootstrap_servers=env.kafka_bootstrap_servers, acks="all", enable_idempotence=True
    )
    await producer.start()
    try:
        for i in range(100):
            await producer.send(topic, b"warm-up", key=str(i).encode())
        await producer.flush()
    finally:
        await producer.stop()
    await bare_consumer_run(env, topic, 100)
    await bare_confluent_consumer_run(env, topic, 100)


async def bench_consumer(env: BenchEnv, setup: Setup, topic: str, total: int) -> list[Figure]:
    applying: list[float] = []
    idle: list[float] = []
    one_by_one: list[float] = []
    bare: list[float] = []
    bare_confluent: list[float] = []
    task = env.progress.add_task(f"consumer vs bare consumers ({total:,} events)", total=5 * env.runs)
    for _ in range(env.runs):
        applying.append(await consumer_run(env, setup, topic, total, record_applied))
        env.progress.advance(task)
        one_by_one.append(
            await consumer_run(env, setup, topic, total, record_applied_one_by_one, per_event=True)
        )
        env.progress.advance(task)
        bare.append(await bare_consumer_run(env, topic, total))
        env.progress.advance(task)
        bare_confluent.append(await bare_confluent_consumer_run(env, topic, total))
        env.progress.advance(task)
        idle.append(await consumer_run(env, setup, topic, total, apply_nothing))
        env.progress.advance(task)
    aiokafka_figure = Figure(
        "consumer.bare_aiokafka", "bare AIOKafkaConsumer, getmany", "events/s", tuple(bare)
    )
    confluent_figure = Figure(
        "consumer.bare_confluent", "bare confluent_kafka.Consumer, consume", "events/s", tuple(bare_confluent)
    )
    return [
        Figure(
            "consumer.ddr",
            "IdempotentConsumer, inbox + one-row-per-event projection in PostgreSQL (batch handler)",
            "events/s",
            tuple(applying),
        ),
        Figure(
            "consumer.ddr_per_event_handler",
            "IdempotentConsumer, same projection as a per-event handler: diagnostic, no target",
            "events/s",
            tuple(one_by_one),
        ),
        aiokafka_figure,
        confluent_figure,
        faster(aiokafka_figure, confluent_figure, "consumer.bare_fastest", "the faster bare consumer"),
        Figure(
            "consumer.ddr_noop_handler",
            "IdempotentConsumer, inbox only (handler does nothing): diagnostic, no target",
            "events/s",
            tuple(idle),
        ),
    ]


# -- targets and report -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    name: str
    wanted: str
    ours: Figure
    baseline: Figure | None
    ratio_needed: float | None = None  # ours / baseline at least this
    absolute_needed: float | None = None  # ours at least this

    @property
    def ratio(self) -> float | None:
        return None if self.baseline is None else self.ours.median / self.baseline.median

    @property
    def met(self) -> bool:
        if self.ratio_needed is not None and (self.ratio is None or self.ratio < self.ratio_needed):
            return False
        return self.absolute_needed is None or self.ours.median >= self.absolute_needed

    def as_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "target": self.wanted,
            "ours": self.ours.key,
            "baseline": None if self.baseline is None else self.baseline.key,
            "ours_median": round(self.ours.median, 1),
            "baseline_median": None if self.baseline is None else round(self.baseline.median, 1),
            "ratio": None if self.ratio is None else round(self.ratio, 3),
            "status": "met" if self.met else "missed",
        }


def targets(figures: dict[str, Figure]) -> list[Target]:
    """The targets whose figures were measured (all of them in a full run)."""

    def target(name: str, wanted: str, ours: str, baseline: str | None, **needed: float) -> Target | None:
        if ours not in figures or (baseline is not None and baseline not in figures):
            return None
        return Target(name, wanted, figures[ours], None if baseline is None else figures[baseline], **needed)

    every = [
        target(
            "Append, batches of 1",
            "≥ 3x the eventsourcing recorder",
            "append.batch1.ddr",
            "append.batch1.eventsourcing",
            ratio_needed=3.0,
        ),
        target(
            "Append, batches of 100",
            "≥ 3x the eventsourcing recorder",
            "append.batch100.ddr",
            "append.batch100.eventsourcing",
            ratio_needed=3.0,
        ),
        target(
            "Append, batches of 1, against raw COPY",
            "≥ 0.5x raw COPY of the same rows",
            "append.batch1.ddr",
            "append.batch1.copy",
            ratio_needed=0.5,
        ),
        target(
            "Append, batches of 100, against raw COPY",
            "≥ 0.5x raw COPY of the same rows",
            "append.batch100.ddr",
            "append.batch100.copy",
            ratio_needed=0.5,
        ),
        target(
            "Append, batches of 100 (absolute)",
            "≥ 20,000 events/s",
            "append.batch100.ddr",
            None,
            absolute_needed=20_000,
        ),
        target(
            "Relay, outbox to acknowledged",
            "≥ 0.5x the faster bare producer",
            "relay.ddr",
            "relay.bare_fastest",
            ratio_needed=0.5,
        ),
        target(
            "Consumer with inbox and a batch projection, until all applied",
            "≥ 1/3 of the faster bare consumer",
            "consumer.ddr",
            "consumer.bare_fastest",
            ratio_needed=1 / 3,
        ),
    ]
    return [goal for goal in every if goal is not None]


def render(document: dict[str, Any], goals: list[Target], figures: dict[str, Figure]) -> str:
    machine = document["machine"]
    versions = document["versions"]
    parameters = document["parameters"]
    lines = [
        "## Foundation: event store, outbox relay, idempotent consumer",
        "",
        f"Measured {document['date']} by `make bench` (module `tests/bench/foundation.py`); raw figures in "
        "`var/bench/foundation.json`. Each figure is the **median of "
        f"{document['runs']} run(s)** (min-max in brackets), in events per second.",
        "",
        "| Benchmark | DDR runtime | Baseline | Ratio | Target | Result |",
        "|---|---:|---:|---:|---|---|",
    ]
    for goal in goals:
        baseline = "—" if goal.baseline is None else goal.baseline.cell()
        ratio = "—" if goal.ratio is None else f"{goal.ratio:.2f}x"
        result = "**met**" if goal.met else "**missed**"
        lines.append(
            f"| {goal.name} | {goal.ours.cell()} | {baseline} | {ratio} | {goal.wanted} | {result} |"
        )
    lines += [
        "",
        "Baselines: append — `eventsourcing` "
        f"{versions.get('eventsourcing')} `PostgresApplicationRecorder`, and raw `COPY` of the same rows; "
        "relay and consumer — the faster of the two bare Python Kafka clients measured in the same run (by "
        "median):",
        "",
        "| Bare client | Producer | Consumer |",
        "|---|---:|---:|",
        f"| aiokafka {versions.get('aiokafka')} | {figures['relay.bare_aiokafka'].cell()} | "
        f"{figures['consumer.bare_aiokafka'].cell()} |",
        f"| confluent-kafka {versions.get('confluent-kafka')} (librdkafka) | "
        f"{figures['relay.bare_confluent'].cell()} | {figures['consumer.bare_confluent'].cell()} |",
        "",
        "Diagnostics (no target): `OutboxRelay` sending through the FastStream broker's aiokafka producer "
        f"instead of librdkafka, {figures[f'relay.ddr_{OTHER_CLIENT}'].cell()} events/s; `IdempotentConsumer` "
        f"with a handler that does nothing, {figures['consumer.ddr_noop_handler'].cell()} events/s — the "
        "consumer's own cost (inbox, envelope parsing, hash check, the batch's key look-up) without the "
        "projection's writes; the same projection written as a per-event handler (one round trip per event), "
        f"{figures['consumer.ddr_per_event_handler'].cell()} events/s.",
        "",
        "### Method",
        "",
        f"- **Append**: {parameters['writers']} concurrent writers, each appending round-robin to "
        f"{parameters['streams_per_writer']} streams of its own with the expected version; "
        f"{parameters['append_events_per_run']['batch_1']:,} events per run in batches of 1, "
        f"{parameters['append_events_per_run']['batch_100']:,} in batches of 100. Stored events average "
        f"{parameters['mean_stored_event_bytes']:.0f} bytes (`SamplePersonListed` with `padding`, two personal "
        "fields sealed with the subject's key, hash chained, an outbox row in the same transaction; subject "
        "keys in a PostgreSQL key store, created on a stream's first append). Ours: asyncio tasks over one "
        "SQLAlchemy/asyncpg engine (pool of 16). eventsourcing: the same number of threads over a psycopg "
        "pool of 16, inserting `StoredEvent`s whose `state` is one of our stored events "
        f"({parameters['eventsourcing_state_bytes']} bytes). Each run uses a new database on the same server; "
        "the two alternate run by run. One warm-up append per writer precedes the timing on both sides. "
        "Raw COPY: the same stored rows (one of our 1 KB events' bytes, its hash, new ids and versions), "
        "prepared before the timing, written by asyncpg `copy_records_to_table` into a store's events table "
        "(same shape, keys and indexes; no outbox), one transaction per batch over 16 connections, the same "
        "batches per writer: what writing these rows costs the server with nothing computed in Python. The "
        "three alternate run by run.",
        f"- **Relay**: an outbox of {parameters['pipeline_events']:,} stored events (re-filled before each run) "
        f"drained by `OutboxRelay.drain()` (batches of 1,000, two in flight) through `ConfluentSender` "
        "(librdkafka, as the services' relay; acks=all, idempotent, linger 5 ms, 1 MiB batches, topic metadata "
        "fetched before the timing) to a new topic of "
        f"{parameters['partitions']} partitions, timed until the last batch is acknowledged and deleted. Bare: "
        "the same payloads and keys (no headers) through `AIOKafkaProducer`, and through "
        "`confluent_kafka.Producer` (in a thread; `poll(0)` every 1,000 messages, then `flush()`), with the "
        "same producer settings, each to another new topic, timed until every send is acknowledged. Message "
        "counts on every topic are checked.",
        f"- **Consumer**: `IdempotentConsumer` (batches of up to {CONSUMER_MAX_RECORDS}, new group, earliest) "
        "reading the relay's topic into a new database — inbox rows in one statement per batch, the batch's "
        "subject keys looked up (cold key cache), and a batch handler inserting one row per event in one "
        "statement per batch; it reads only envelopes, so nothing is decrypted (decoding is lazy) — timed from "
        "`broker.start()` until all events are "
        "applied (their transaction committed). Bare: `AIOKafkaConsumer` in a new group, "
        f"`getmany(max_records={CONSUMER_MAX_RECORDS})` from the earliest offset, timed from `start()` until "
        "all are received; and `confluent_kafka.Consumer` in a new group (in a thread), "
        f"`consume(num_messages={CONSUMER_MAX_RECORDS})`, timed from its creation. Group join is inside every "
        "timing.",
        "",
        "### Machine",
        "",
        f"- {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB RAM, Linux "
        f"{machine['kernel']}; load average {machine['load_average_at_start']} at the start and "
        f"{machine['load_average_at_end']} at the end (other work on the machine shows here).",
        f"- Python {versions['python']}, Kafka {versions['kafka']} (single node, KRaft), PostgreSQL "
        f"{versions['postgresql']} (fsync and synchronous_commit on), both on the same machine as the "
        "benchmark.",
        "- Libraries: "
        + ", ".join(
            f"{name} {version}"
            for name, version in versions.items()
            if name not in {"python", "kafka", "postgresql"}
        )
        + ".",
    ]
    if parameters["scale"] != 1.0:
        lines += ["", f"**Scaled run (scale {parameters['scale']}): not comparable with full runs.**"]
    return "\n".join(lines)


# -- entry point ------------------------------------------------------------------------------------------


PARTS = ("append", "pipeline")


def parts_wanted() -> tuple[str, ...]:
    """The parts to run: ``DDR_BENCH_FOUNDATION_PARTS`` (comma-separated), else every part."""
    wanted = tuple(
        p.strip() for p in os.environ.get("DDR_BENCH_FOUNDATION_PARTS", "").split(",") if p.strip()
    )
    unknown = set(wanted) - set(PARTS)
    if unknown:
        raise ValueError(f"DDR_BENCH_FOUNDATION_PARTS: unknown part(s) {sorted(unknown)}; parts are {PARTS}")
    return wanted or PARTS


async def run(env: BenchEnv) -> None:
    started = now_iso()
    machine = machine_info()
    parts = parts_wanted()
    setup = await calibrate(env)
    append_figures: list[Figure] = []
    append_details: dict[str, Any] = {}
    relay_figures: list[Figure] = []
    consumer_figures: list[Figure] = []
    total = scaled(env, PIPELINE_EVENTS, 100)
    try:
        if "append" in parts:
            append_figures, append_details = await bench_append(env, setup)
        if "pipeline" in parts:
            await warm_up_kafka(env)
            store = await prefill(env, setup, total)
            try:
                relay_figures, topic = await bench_relay(env, store, total)
            finally:
                await store.engine.dispose()
            consumer_figures = await bench_consumer(env, setup, topic, total)
    finally:
        await setup.keys_engine.dispose()
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    figures = {f.key: f for f in (*append_figures, *relay_figures, *consumer_figures)}
    goals = targets(figures)
    if parts != PARTS:
        name = f"{NAME}.{'-'.join(parts)}"
        env.write_json(
            name,
            {
                "date": started,
                "machine": machine,
                "figures": [f.as_json() for f in figures.values()],
                "targets": [g.as_json() for g in goals],
            },
        )
        for figure in figures.values():
            env.console.print(f"{figure.key}: {figure.cell()} {figure.unit} ({figure.label})")
        for goal in goals:
            ratio = "" if goal.ratio is None else f", {goal.ratio:.3f}x"
            env.console.print(f"{goal.name}: {'met' if goal.met else 'missed'}{ratio}")
        env.console.print(
            f"load average {machine['load_average_at_start']} -> {machine['load_average_at_end']}"
        )
        env.console.log(f"part(s) {', '.join(parts)} only: docs/benchmarks.md left as it was")
        return
    document: dict[str, Any] = {
        "benchmark": NAME,
        "date": started,
        "finished": now_iso(),
        "runs": env.runs,
        "machine": machine,
        "versions": {**env.versions, **package_versions()},
        "parameters": {
            "writers": WRITERS,
            "streams_per_writer": STREAMS_PER_WRITER,
            "append_events_per_run": append_details["events_per_run"],
            "mean_stored_event_bytes": append_details["mean_stored_event_bytes"],
            "eventsourcing_state_bytes": append_details["eventsourcing_state_bytes"],
            "pipeline_events": total,
            "partitions": PARTITIONS,
            "scale": env.scale,
        },
        "figures": [f.as_json() for f in figures.values()],
        "targets": [g.as_json() for g in goals],
    }
    json_path = env.write_json(NAME, document)
    docs_path = env.write_section(NAME, render(document, goals, figures))
    for goal in goals:
        status = "[green]met[/]" if goal.met else "[red]missed[/]"
        versus = ""
        if goal.baseline is not None and goal.ratio is not None:
            versus = f", {goal.ratio:.2f}x the baseline's {goal.baseline.median:,.0f}"
        env.console.print(
            f"{goal.name}: {goal.ours.median:,.0f} events/s{versus}; target {goal.wanted}: {status}"
        )
    env.console.log(f"wrote {json_path} and the {NAME} section of {docs_path}")
