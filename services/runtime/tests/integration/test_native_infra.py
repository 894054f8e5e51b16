"""The test infrastructure itself: the session's Kafka and PostgreSQL answer, and databases are private."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.admin import NewTopic
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from ddr_testkit.infra import asyncpg_url


@pytest.mark.kafka
def test_kafka_creates_a_topic_and_round_trips_a_record(kafka_bootstrap_servers: str) -> None:
    topic = f"test.infra.{uuid.uuid4().hex[:10]}"
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap_servers, client_id="test-infra")
    try:
        admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
        # The broker lists a new topic once its metadata has caught up: at once when idle, later when loaded.
        deadline = time.monotonic() + 30
        while topic not in admin.list_topics() and time.monotonic() < deadline:
            time.sleep(0.5)
        assert topic in admin.list_topics()
    finally:
        admin.close()

    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap_servers, acks="all")
    try:
        metadata = producer.send(topic, key=b"person-1", value=b"hello").get(timeout=30)
    finally:
        producer.close()

    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap_servers,
        group_id=f"test-infra-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=20_000,
    )
    try:
        record = next(iter(consumer))
    finally:
        consumer.close()

    assert (record.key, record.value) == (b"person-1", b"hello")
    assert (record.partition, record.offset) == (metadata.partition, metadata.offset)


@pytest.mark.postgres
async def test_postgres_answers(postgres_url: str) -> None:
    engine = create_async_engine(asyncpg_url(postgres_url))
    try:
        async with engine.connect() as connection:
            assert (await connection.execute(text("select 1"))).scalar_one() == 1
    finally:
        await engine.dispose()


_seen_databases: list[str] = []
USER_TABLES = "select count(*) from pg_tables where schemaname not in ('pg_catalog', 'information_schema')"


@pytest.mark.postgres
@pytest.mark.parametrize("run", [1, 2])
async def test_fresh_postgres_database_is_empty_and_private(
    run: int, fresh_postgres_database: str, postgres_url: str
) -> None:
    name = make_url(fresh_postgres_database).database
    assert name is not None
    assert name != make_url(postgres_url).database
    assert name not in _seen_databases
    dropped = list(_seen_databases)
    _seen_databases.append(name)

    engine = create_async_engine(fresh_postgres_database)
    try:
        async with engine.begin() as connection:
            assert (await connection.execute(text("select current_database()"))).scalar_one() == name
            user_tables = await connection.execute(text(USER_TABLES))
            assert user_tables.scalar_one() == 0
            # The previous run's database was dropped when that test ended.
            for old in dropped:
                exists = await connection.execute(
                    text("select 1 from pg_database where datname = :n"), {"n": old}
                )
                assert exists.first() is None
            # Leave something behind: the next run must not see it.
            await connection.execute(text(f"create table left_by_run_{run} (id int)"))
    finally:
        await engine.dispose()


@pytest.mark.postgres
async def test_make_postgres_database_gives_distinct_databases(
    make_postgres_database: Callable[[], Coroutine[Any, Any, str]],
) -> None:
    first, second = await make_postgres_database(), await make_postgres_database()
    assert make_url(first).database != make_url(second).database
    for url in (first, second):
        engine = create_async_engine(url)
        try:
            async with engine.connect() as connection:
                assert (await connection.execute(text("select 1"))).scalar_one() == 1
        finally:
            await engine.dispose()
