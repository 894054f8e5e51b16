"""The test publisher of another service's events, and topic namespaces: what a consuming service's tests
stand on. Events go through a real store and relay to a real broker, under the run's own namespace only, and
a consumer sharing the key store opens their personal fields."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import pytest
from kafka import KafkaConsumer
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.envelope import EventEnvelope
from ddr_contracts.registration import PersonPreRegistered
from ddr_runtime.config import Settings
from ddr_runtime.messaging.consumer import ReceivedEvent
from ddr_runtime.service import build_runtime
from ddr_testkit.upstream import UpstreamService, create_namespace_topics, new_namespace

pytestmark = [pytest.mark.kafka]


def pre_registered(person_id: str) -> PersonPreRegistered:
    return PersonPreRegistered(
        person_id=person_id,
        list_id="list-1",
        list_version=1,
        movement="MNLA",
        movement_ref="M-1",
        category="combatant",
        sex="M",
        birth_kind="exact",
        region="Gao",
        cercle="Gao",
        rank="soldier",
        armed=True,
        birth_year=1990,
        full_name="Mohamed Ag Intalla",
        full_name_arabic=None,
        birth_date=date(1990, 5, 1),
        commune="Gao",
        father_name=None,
        mother_name=None,
        birth_place=None,
    )


def drain(bootstrap: str, topic: str, expected: int) -> list[bytes]:
    consumer = KafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", consumer_timeout_ms=5000
    )
    try:
        values: list[bytes] = []
        for record in consumer:
            values.append(record.value)
            if len(values) >= expected:
                break
        return values
    finally:
        consumer.close()


async def test_upstream_events_reach_only_their_namespace_and_open_for_a_consumer(
    kafka_bootstrap_servers: str, tmp_path: Path
) -> None:
    mine, other = new_namespace(), new_namespace()
    create_namespace_topics(kafka_bootstrap_servers, mine)
    create_namespace_topics(kafka_bootstrap_servers, other)
    settings = Settings(
        service_name="screening",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'screening.sqlite'}",
        var_dir=tmp_path,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_namespace=mine,
    )
    person = str(uuid.uuid4())
    async with UpstreamService("registration", settings) as registration:
        assert registration.topic == f"{mine}ddr.registration.events"
        stored = await registration.emit(person, pre_registered(person))
    assert stored[0].envelope.subject == person

    published = await asyncio.to_thread(drain, kafka_bootstrap_servers, registration.topic, 1)
    assert len(published) == 1
    assert b"Mohamed" not in published[0]  # the name travels encrypted
    assert await asyncio.to_thread(drain, kafka_bootstrap_servers, f"{other}ddr.registration.events", 1) == []

    # The consuming service (its own store, the same key store) opens what was published.
    received: list[ReceivedEvent] = []
    arrived = asyncio.Event()

    async def handle(_conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        received.extend(batch)
        arrived.set()

    consumer_runtime = build_runtime("screening", REGISTRY, settings)
    consumer_runtime.consume(
        settings.events_topic("registration"),
        name=f"screening-test-{uuid.uuid4().hex[:6]}",
        batch_handler=handle,
    )
    relay_task = await consumer_runtime.start()
    try:
        await asyncio.wait_for(arrived.wait(), timeout=30)
    finally:
        await consumer_runtime.stop(relay_task)
    event = received[0].event
    assert isinstance(event, PersonPreRegistered)
    assert event.full_name == "Mohamed Ag Intalla"
    assert EventEnvelope.model_validate_json(published[0]).id == received[0].envelope.id
