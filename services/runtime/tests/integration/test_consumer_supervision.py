"""A consumer that stops consuming says so in ``/readyz`` and its metrics, and is restarted by itself, over a
real Kafka broker and PostgreSQL."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.topics import dead_letter_topic
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.store import Causation, NewEvent
from ddr_runtime.messaging.consumer import IdempotentConsumer, ReceivedEvent
from ddr_runtime.messaging.topics import TopicSpec, ensure_topics
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app
from ddr_testkit.samples import SAMPLES, SampleNoteAdded

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
async def running(
    request: pytest.FixtureRequest, fresh_postgres_database: str, kafka_bootstrap_servers: str, tmp_path: Path
) -> AsyncIterator[tuple[ServiceRuntime, IdempotentConsumer, list[str], httpx.AsyncClient]]:
    """A service with one consumer, running; ``request.param``: seconds between supervision rounds."""
    service = f"svc{uuid.uuid4().hex[:6]}"
    settings = Settings(
        service_name=service,
        database_url=fresh_postgres_database,
        var_dir=tmp_path,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        audit_checkpoint_seconds=0,
    )
    runtime = build_runtime(service, SAMPLES, settings)
    runtime.supervise_every = request.param
    ensure_topics(
        kafka_bootstrap_servers,
        [TopicSpec(runtime.store.topic, 3, {}), TopicSpec(dead_letter_topic(runtime.store.topic), 1, {})],
    )
    seen: list[str] = []

    async def on_note(_conn: AsyncConnection, received: ReceivedEvent) -> None:
        seen.append(received.envelope.subject)

    consumer = runtime.consume(runtime.store.topic, name=f"notes-{uuid.uuid4().hex[:6]}", handler=on_note)
    app = create_service_app(runtime, [])
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client,
    ):
        await until(lambda: consumer.kafka is not None and bool(consumer.kafka.assignment()), "assignment")
        yield runtime, consumer, seen, client


async def until(check: Callable[[], bool], what: str, seconds: float = 120.0) -> None:
    for _ in range(int(seconds * 10)):
        if check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not within {seconds:.0f} s: {what}")


async def note(runtime: ServiceRuntime, person: str) -> None:
    await runtime.store.append(
        person, 0, [NewEvent(SampleNoteAdded(person_id=person, sequence=1), person)], Causation("t")
    )
    runtime.relay.notify()


@pytest.mark.parametrize("running", [3600.0], indirect=True)  # no supervision round: it stays stopped
async def test_a_consumer_whose_loop_stopped_fails_readiness_and_shows_down(
    running: tuple[ServiceRuntime, IdempotentConsumer, list[str], httpx.AsyncClient],
) -> None:
    _runtime, consumer, _seen, client = running
    ready_before = await client.get("/readyz")
    assert consumer.kafka is not None
    await consumer.kafka.stop()  # its consume loop ends, as on an error it cannot survive

    await until(lambda: consumer.problem() is not None, "the stopped loop is seen")
    ready = await client.get("/readyz")

    assert ready_before.status_code == 200
    assert ready.status_code == 503
    assert ready.json()["checks"]["consumers"] == "failed"
    assert REGISTRY.get_sample_value("ddr_consumer_up", {"consumer": consumer.name}) == 0


@pytest.mark.parametrize("running", [0.2], indirect=True)
async def test_a_consumer_that_stopped_is_restarted_and_consumes_again(
    running: tuple[ServiceRuntime, IdempotentConsumer, list[str], httpx.AsyncClient],
) -> None:
    runtime, consumer, seen, client = running
    assert consumer.kafka is not None
    await consumer.kafka.stop()

    await note(runtime, "after-the-stop")

    await until(lambda: "after-the-stop" in seen, "the event published after the stop is consumed")
    assert (await client.get("/readyz")).status_code == 200
    assert REGISTRY.get_sample_value("ddr_consumer_up", {"consumer": consumer.name}) == 1
