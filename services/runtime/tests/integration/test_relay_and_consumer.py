"""Outbox relay and idempotent consumer against a real Kafka broker and real PostgreSQL."""

from __future__ import annotations

import asyncio
import random
import signal
import sys
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from typing import Any

import pytest
from kafka import KafkaConsumer
from prometheus_client import REGISTRY
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_contracts.topics import dead_letter_topic
from ddr_runtime.crypto.cipher import PersonalDataCipher
from ddr_runtime.crypto.keystore import KeyStore
from ddr_runtime.db import create_engine
from ddr_runtime.eventstore.schema import outbox
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent
from ddr_runtime.messaging.broker import make_broker
from ddr_runtime.messaging.consumer import IdempotentConsumer, ReceivedEvent
from ddr_runtime.messaging.relay import OutboxRelay
from ddr_runtime.messaging.topics import TopicSpec, ensure_topics
from ddr_testkit.samples import SAMPLES, SampleNoteAdded

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

applied_metadata = MetaData()
applied = Table(
    "applied",
    applied_metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("event_id", String(36), nullable=False),
    Column("stream_id", String(200), nullable=False),
    Column("version", Integer, nullable=False),
)


@pytest.fixture
def topic(kafka_bootstrap_servers: str) -> str:
    name = f"test.{uuid.uuid4().hex[:10]}.events"
    ensure_topics(
        kafka_bootstrap_servers,
        [
            TopicSpec(name, 3, {"retention.ms": "-1"}),
            TopicSpec(dead_letter_topic(name), 1, {"retention.ms": "-1"}),
        ],
    )
    return name


@pytest.fixture
async def writer_store(
    fresh_postgres_database: str, keystore: KeyStore, topic: str
) -> AsyncIterator[EventStore]:
    engine = create_engine(fresh_postgres_database, pool_size=12)
    store = EventStore(engine, PersonalDataCipher(keystore), SAMPLES, service="writer", topic=topic)
    await store.create_schema()
    yield store
    await engine.dispose()


@pytest.fixture
async def reader_store(
    make_postgres_database: Callable[[], Coroutine[Any, Any, str]], keystore: KeyStore
) -> AsyncIterator[EventStore]:
    engine = create_engine(await make_postgres_database())
    store = EventStore(engine, PersonalDataCipher(keystore), SAMPLES, service="reader", topic="unused")
    await store.create_schema()
    async with engine.begin() as conn:
        await conn.run_sync(applied_metadata.create_all)
    yield store
    await engine.dispose()


async def record_applied(conn: AsyncConnection, received: ReceivedEvent) -> None:
    await conn.execute(
        insert(applied).values(
            event_id=received.envelope.id,
            stream_id=received.envelope.streamid,
            version=received.envelope.streamversion,
        )
    )


async def count(engine: AsyncEngine, table: Table) -> int:
    async with engine.connect() as conn:
        return int((await conn.execute(select(func.count()).select_from(table))).scalar_one())


async def wait_until(predicate: Callable[[], Coroutine[Any, Any, bool]], seconds: float) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {seconds}s")
        await asyncio.sleep(0.2)


def topic_records(bootstrap: str, topic: str) -> list[tuple[int, str, bytes]]:
    """Every record of ``topic`` from offset zero: (partition, key, value)."""
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=3000,
    )
    try:
        return [(r.partition, r.key.decode(), r.value) for r in consumer]
    finally:
        consumer.close()


async def test_relay_killed_at_random_loses_nothing_and_consumer_applies_each_event_once(
    writer_store: EventStore,
    reader_store: EventStore,
    kafka_bootstrap_servers: str,
    topic: str,
    fresh_postgres_database: str,
) -> None:
    streams, total = 100, 10_000
    cause = Causation(actor="chaos-test")
    versions: dict[str, int] = defaultdict(int)

    async def writer(streams_of_writer: list[str]) -> None:
        written = 0
        rng = random.Random(streams_of_writer[0])
        while written < total // 10:
            stream = rng.choice(streams_of_writer)
            size = min(rng.randint(1, 20), total // 10 - written)
            batch = [
                NewEvent(SampleNoteAdded(person_id=stream, sequence=versions[stream] + i + 1), stream)
                for i in range(size)
            ]
            await writer_store.append(stream, versions[stream], batch, cause)
            versions[stream] += size
            written += size
            await asyncio.sleep(0.05)  # spread the writing over seconds, so relay kills land mid-stream

    all_streams = [f"s{i:03d}" for i in range(streams)]
    writing = asyncio.gather(*(writer(all_streams[i::10]) for i in range(10)))

    kills = 0
    relay_cmd = [
        sys.executable,
        "-m",
        "ddr_testkit.relay_process",
        fresh_postgres_database,
        kafka_bootstrap_servers,
        "writer",
    ]
    while not writing.done() or await count(writer_store.engine, outbox) > 0:
        process = await asyncio.create_subprocess_exec(*relay_cmd)
        await asyncio.sleep(random.uniform(0.5, 2.0))
        process.send_signal(signal.SIGKILL)
        await process.wait()
        kills += 1
        if kills > 60:
            break
    await writing
    drain = await asyncio.create_subprocess_exec(*relay_cmd, "--drain")
    assert await asyncio.wait_for(drain.wait(), timeout=300) == 0

    consumer = IdempotentConsumer(name=new_group(), store=reader_store, handler=record_applied)
    # settle: let any straggling redelivery arrive
    await consume(consumer, reader_store, kafka_bootstrap_servers, topic, until=total, settle=1.0, within=180)

    records = topic_records(kafka_bootstrap_servers, topic)
    published = {_event_id(value) for _, _, value in records}
    async with reader_store.engine.connect() as conn:
        rows = (await conn.execute(select(applied).order_by(applied.c.seq))).all()

    assert kills >= 2
    assert sum(versions.values()) == total
    assert len(published) == total, "appended = published distinct"
    assert len(rows) == total, "published = applied"
    assert len({r.event_id for r in rows}) == total, "each applied once"
    per_stream: dict[str, list[int]] = defaultdict(list)
    for row in rows:
        per_stream[row.stream_id].append(row.version)
    for stream, seen in per_stream.items():
        assert seen == list(range(1, versions[stream] + 1)), f"{stream} applied out of order"


async def _at_least(engine: AsyncEngine, expected: int) -> bool:
    return await count(engine, applied) >= expected


def _event_id(value: bytes) -> str:
    import json

    return str(json.loads(value)["id"])


async def relay_outbox(store: EventStore, bootstrap: str, *, twice: bool = False) -> int:
    """Drain ``store``'s outbox to Kafka; ``twice`` first publishes it without deleting, as a relay killed
    before its delete would. Returns how many events the final drain published."""
    broker = make_broker(bootstrap, client_id="test-relay")
    await broker.connect()
    try:
        relay = OutboxRelay(store.engine, broker, service="writer")
        if twice:
            await (await relay._send_all(await relay._next_batch()))
        return await relay.drain()
    finally:
        await broker.stop()


async def consume(
    consumer: IdempotentConsumer,
    store: EventStore,
    bootstrap: str,
    topic: str,
    *,
    until: int,
    settle: float,
    within: float = 60,
) -> None:
    """Run ``consumer`` on ``topic`` until ``until`` rows are applied, then ``settle`` seconds more."""
    broker = make_broker(bootstrap, client_id="test-consumer")
    consumer.subscribe(broker, topic)
    await broker.start()
    try:
        await wait_until(lambda: _at_least(store.engine, until), seconds=within)
        await asyncio.sleep(settle)
    finally:
        await broker.stop()


def dead_letters(bootstrap: str, topic: str) -> list[Any]:
    reader = KafkaConsumer(
        dead_letter_topic(topic),
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=5000,
    )
    try:
        return list(reader)
    finally:
        reader.close()


async def applied_versions(store: EventStore) -> list[int]:
    async with store.engine.connect() as conn:
        return [r.version for r in await conn.execute(select(applied).order_by(applied.c.seq))]


def new_group() -> str:
    return f"group-{uuid.uuid4().hex[:8]}"


async def test_redelivered_events_change_nothing(
    writer_store: EventStore, reader_store: EventStore, kafka_bootstrap_servers: str, topic: str
) -> None:
    cause = Causation(actor="test")
    await writer_store.append("s1", 0, [NewEvent(SampleNoteAdded(person_id="s1", sequence=1), "s1")], cause)
    assert await relay_outbox(writer_store, kafka_bootstrap_servers, twice=True) == 1
    assert len(topic_records(kafka_bootstrap_servers, topic)) == 2

    consumer = IdempotentConsumer(name=new_group(), store=reader_store, handler=record_applied)
    await consume(consumer, reader_store, kafka_bootstrap_servers, topic, until=1, settle=2.0)

    assert await count(reader_store.engine, applied) == 1
    lags = [
        REGISTRY.get_sample_value(
            "ddr_consumer_lag_messages", {"consumer": consumer.name, "topic": topic, "partition": str(p)}
        )
        for p in range(3)
    ]
    assert [lag for lag in lags if lag is not None] == [0.0], "consumer lag is reported, and caught up"


async def test_two_drains_of_one_relay_at_once_publish_each_event_once(
    writer_store: EventStore, kafka_bootstrap_servers: str, topic: str
) -> None:
    """A drain while the relay's own loop publishes (as a service's shutdown does) sends nothing twice."""
    cause = Causation(actor="test")
    for person in ("s1", "s2", "s3"):
        await writer_store.append(
            person, 0, [NewEvent(SampleNoteAdded(person_id=person, sequence=1), person)], cause
        )
    broker = make_broker(kafka_bootstrap_servers, client_id="test-relay-twice")
    await broker.connect()
    try:
        relay = OutboxRelay(writer_store.engine, broker, service="writer")
        published = await asyncio.gather(relay.drain(), relay.drain())
    finally:
        await broker.stop()

    assert sum(published) == 3
    assert sorted(key for _, key, _ in topic_records(kafka_bootstrap_servers, topic)) == ["s1", "s2", "s3"]


async def test_a_poison_message_is_dead_lettered_with_its_reason_and_the_next_is_processed(
    writer_store: EventStore, reader_store: EventStore, kafka_bootstrap_servers: str, topic: str
) -> None:
    broker = make_broker(kafka_bootstrap_servers, client_id="test-poison")
    await broker.connect()
    try:
        await broker.publish(b"{not json", topic, key=b"s1")
    finally:
        await broker.stop()
    await writer_store.append(
        "s1", 0, [NewEvent(SampleNoteAdded(person_id="s1", sequence=1), "s1")], Causation(actor="test")
    )
    await relay_outbox(writer_store, kafka_bootstrap_servers)

    consumer = IdempotentConsumer(name=new_group(), store=reader_store, handler=record_applied)
    await consume(consumer, reader_store, kafka_bootstrap_servers, topic, until=1, settle=0.0)

    letters = dead_letters(kafka_bootstrap_servers, topic)
    assert len(letters) == 1
    headers = {k: v.decode() for k, v in letters[0].headers}
    assert letters[0].value == b"{not json"
    assert "not a valid event envelope" in headers["ddr-dlq-reason"]
    assert (headers["ddr-dlq-topic"], headers["ddr-dlq-offset"]) == (topic, "0")
    assert await count(reader_store.engine, applied) == 1


async def test_a_handler_that_always_fails_on_one_event_dead_letters_it_and_moves_on(
    writer_store: EventStore, reader_store: EventStore, kafka_bootstrap_servers: str, topic: str
) -> None:
    cause = Causation(actor="test")
    for sequence in (1, 2, 3):
        await writer_store.append(
            "s1", sequence - 1, [NewEvent(SampleNoteAdded(person_id="s1", sequence=sequence), "s1")], cause
        )
    await relay_outbox(writer_store, kafka_bootstrap_servers)

    async def refuse_the_second(conn: AsyncConnection, received: ReceivedEvent) -> None:
        assert isinstance(received.event, SampleNoteAdded)
        await record_applied(conn, received)
        if received.event.sequence == 2:
            raise ValueError("sequence 2 breaks a rule")

    consumer = IdempotentConsumer(
        name=new_group(), store=reader_store, handler=refuse_the_second, backoff_seconds=0.01
    )
    await consume(consumer, reader_store, kafka_bootstrap_servers, topic, until=2, settle=1.0)

    assert await applied_versions(reader_store) == [1, 3]
    letters = dead_letters(kafka_bootstrap_servers, topic)
    assert [dict(m.headers)["ddr-dlq-reason"].decode() for m in letters] == [
        "ValueError: sequence 2 breaks a rule"
    ]


async def test_a_batch_handler_gets_each_new_event_once_in_order(
    writer_store: EventStore, reader_store: EventStore, kafka_bootstrap_servers: str, topic: str
) -> None:
    cause = Causation(actor="test")
    await writer_store.append(
        "s1", 0, [NewEvent(SampleNoteAdded(person_id="s1", sequence=n), "s1") for n in range(1, 51)], cause
    )
    await relay_outbox(writer_store, kafka_bootstrap_servers, twice=True)

    async def apply_all(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        await conn.execute(
            insert(applied),
            [
                {
                    "event_id": r.envelope.id,
                    "stream_id": r.envelope.streamid,
                    "version": r.envelope.streamversion,
                }
                for r in batch
            ],
        )

    consumer = IdempotentConsumer(name=new_group(), store=reader_store, batch_handler=apply_all)
    await consume(consumer, reader_store, kafka_bootstrap_servers, topic, until=50, settle=1.0)

    assert await applied_versions(reader_store) == list(range(1, 51))


async def test_events_a_batch_handler_records_in_answer_name_the_event_about_their_subject_as_cause(
    writer_store: EventStore, reader_store: EventStore, kafka_bootstrap_servers: str, topic: str
) -> None:
    asked = {}
    for person in ("p1", "p2", "p3"):
        cause = Causation(actor="officer", correlation_id=f"request-{person}")
        stored = await writer_store.append(
            person, 0, [NewEvent(SampleNoteAdded(person_id=person, sequence=1), person)], cause
        )
        asked[person] = stored[0].envelope
    await relay_outbox(writer_store, kafka_bootstrap_servers)

    async def answer_all(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        # A policy that names no cause, and records its answers for the whole batch at once.
        await reader_store.append_new_streams(
            [
                (f"answer-{r.envelope.subject}", [NewEvent(SampleNoteAdded(person_id=r.envelope.subject, sequence=1), r.envelope.subject)])
                for r in batch
            ],
            Causation(actor="policy"),
            conn=conn,
        )  # fmt: skip
        await conn.execute(
            insert(applied), [{"event_id": r.envelope.id, "stream_id": "-", "version": 1} for r in batch]
        )

    consumer = IdempotentConsumer(name=new_group(), store=reader_store, batch_handler=answer_all)
    await consume(consumer, reader_store, kafka_bootstrap_servers, topic, until=3, settle=0.5)

    for person, consumed in asked.items():
        (answer,) = await reader_store.read_stream(f"answer-{person}")
        assert (answer.envelope.causationid, answer.envelope.correlationid) == (
            consumed.id,
            f"request-{person}",
        )


async def test_a_drain_while_the_relay_runs_publishes_each_event_once(
    writer_store: EventStore, kafka_bootstrap_servers: str, topic: str
) -> None:
    streams = [f"s{i}" for i in range(20)]
    for stream in streams:
        await writer_store.append(
            stream, 0, [NewEvent(SampleNoteAdded(person_id=stream, sequence=1), stream)], Causation("t")
        )
    broker = make_broker(kafka_bootstrap_servers, client_id="test-relay")
    await broker.connect()
    relay = OutboxRelay(writer_store.engine, broker, service="writer", idle_seconds=0.001)
    stop = asyncio.Event()
    running = asyncio.create_task(relay.run(stop))
    try:
        # The running relay and three drains (as a command or a test would call one) all see the same rows.
        await asyncio.gather(relay.drain(), relay.drain(), relay.drain())
        await wait_until(lambda: _outbox_empty(writer_store.engine), seconds=30)
    finally:
        stop.set()
        await running
        await broker.stop()

    published = [_event_id(value) for _, _, value in topic_records(kafka_bootstrap_servers, topic)]
    assert len(published) == len(streams)
    assert len(set(published)) == len(streams)


async def _outbox_empty(engine: AsyncEngine) -> bool:
    return await count(engine, outbox) == 0


async def test_an_event_is_decoded_only_when_a_handler_reads_it(
    writer_store: EventStore, reader_store: EventStore, kafka_bootstrap_servers: str, topic: str
) -> None:
    """An event of a type no one knows passes a projection that reads envelopes alone; a handler that reads
    the event gets a poison message, dead-lettered, and the other events are applied."""
    import json

    await writer_store.append(
        "s1", 0, [NewEvent(SampleNoteAdded(person_id="s1", sequence=1), "s1")], Causation(actor="test")
    )
    await relay_outbox(writer_store, kafka_bootstrap_servers)
    ((_, _, value),) = topic_records(kafka_bootstrap_servers, topic)
    unknown = {**json.loads(value), "id": str(uuid.uuid4()), "type": "ddr.sample.NoSuchEvent.v1"}
    broker = make_broker(kafka_bootstrap_servers, client_id="test-unknown")
    await broker.connect()
    try:
        await broker.publish(json.dumps(unknown).encode(), topic, key=b"s1")
    finally:
        await broker.stop()

    async def envelopes_only(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        for received in batch:
            await record_applied(conn, received)

    reader = IdempotentConsumer(name=new_group(), store=reader_store, batch_handler=envelopes_only)
    await consume(reader, reader_store, kafka_bootstrap_servers, topic, until=2, settle=0.0)
    assert await count(reader_store.engine, applied) == 2
    assert dead_letters(kafka_bootstrap_servers, topic) == []

    async def events_read(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        for received in batch:
            assert isinstance(received.event, SampleNoteAdded)
            await record_applied(conn, received)

    decoder = IdempotentConsumer(name=new_group(), store=reader_store, batch_handler=events_read)
    await consume(decoder, reader_store, kafka_bootstrap_servers, topic, until=3, settle=1.0)
    assert await count(reader_store.engine, applied) == 3
    (letter,) = dead_letters(kafka_bootstrap_servers, topic)
    assert dict(letter.headers)["ddr-dlq-reason"].decode().startswith("PoisonMessage: cannot decode")
