"""Regression (the resilience issue): pathway's consumer never came back after the broker was killed and
restarted, while ``/readyz`` kept answering 200. On a private broker of the test's own (never the shared one),
killed with SIGKILL under a live pathway consumer and started again on the same ports and data: ``/readyz``
says so while it is down, and events published after the restart reach the read model without any restart of
pathway."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.config import Settings
from ddr_runtime.stack.native import NativeKafka, free_ports
from ddr_testkit.upstream import UpstreamService, create_namespace_topics, new_namespace

from .conftest import eventually, running_pathway

pytestmark = [pytest.mark.kafka]

OUTAGE_RECOVERY = 180.0  # seconds allowed for the consumer to rejoin after the broker answers again


@pytest.fixture
def private_kafka() -> Iterator[NativeKafka]:
    """A Kafka broker of this test's own, on free ports, with its data in a folder of its own."""
    home = Path(tempfile.mkdtemp(prefix="ddr-pathway-kafka-"))
    port, controller_port = free_ports(2)
    kafka = NativeKafka(port, controller_port, home)
    kafka.start()
    try:
        yield kafka
    finally:
        try:
            kafka.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


def kill(kafka: NativeKafka) -> None:
    """SIGKILL the broker this test started (its pid file names it), as a crash would."""
    pid = int((kafka.home_dir / "kafka.pid").read_text().strip())
    os.kill(pid, signal.SIGKILL)


async def publish_person(settings: Settings, events: Any) -> str:
    person: str = events.person()
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(person, events.pre_registered(person))
    return person


async def test_the_pathway_consumer_comes_back_by_itself_after_its_broker_is_killed_and_restarted(
    private_kafka: NativeKafka, tmp_path: Path, issuer: DevelopmentTokenIssuer, events: Any
) -> None:
    namespace = new_namespace()
    create_namespace_topics(private_kafka.bootstrap_servers, namespace)
    settings = Settings(
        service_name="pathway",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'pathway.sqlite'}",
        var_dir=tmp_path,
        kafka_bootstrap_servers=private_kafka.bootstrap_servers,
        topic_namespace=namespace,
        audit_checkpoint_seconds=0,
    )
    async with running_pathway(settings, issuer) as (_app, callers):

        async def has_path(person: str) -> bool:
            return bool((await callers.auditor.get(f"/paths/{person}")).status_code == 200)

        async def ready() -> int:
            return int((await callers.client.get("/readyz")).status_code)

        before = await publish_person(settings, events)
        await eventually(lambda: has_path(before), "a path read before the outage")

        kill(private_kafka)
        await eventually(lambda: _is(ready(), 503), "/readyz says the broker is gone")
        await asyncio.to_thread(private_kafka.start)
        after = await publish_person(settings, events)

        await eventually(lambda: has_path(after), "a path published after the restart", OUTAGE_RECOVERY)
        await eventually(lambda: _is(ready(), 200), "/readyz ready again")


async def _is(status: Any, expected: int) -> bool:
    return bool(await status == expected)
