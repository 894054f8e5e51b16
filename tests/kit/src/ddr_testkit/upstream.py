"""Another service, as seen by a consumer under test: it publishes that service's contract events.

It is not a fake: it is the runtime's own event store (an SQLite file), outbox and relay, publishing the same
envelope bytes to the real Kafka broker that the real service would. It shares the consumer's key store (the
same ``var_dir``), as every service of one platform does, so personal fields decrypt on the other side.

Each test gives its run a topic namespace (``Settings.topic_namespace``) so that its events never meet another
test's on a shared broker::

    settings = Settings(service_name="screening", var_dir=tmp_path, topic_namespace=namespace, ...)
    create_namespace_topics(kafka_bootstrap_servers, namespace)
    async with UpstreamService("registration", settings) as registration:
        await registration.emit(person_id, PersonPreRegistered(...), PersonRegistered(...))
"""

from __future__ import annotations

import uuid
from datetime import datetime
from types import TracebackType

from kafka import KafkaAdminClient

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import DomainEvent
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.store import Causation, NewEvent, StoredEvent
from ddr_runtime.messaging.topics import ensure_topics, platform_topics
from ddr_runtime.service import ServiceRuntime, build_runtime

# The namespaces handed out since the last test ended: their topics are deleted when it ends (see ``plugin``).
NAMESPACES_IN_USE: list[str] = []


def new_namespace() -> str:
    """A topic namespace of one's own (``t<hex>.``), whose topics are deleted once the test ends."""
    name = f"t{uuid.uuid4().hex[:12]}."
    NAMESPACES_IN_USE.append(name)
    return name


def delete_namespace_topics(bootstrap_servers: str, namespaces: list[str]) -> None:
    """Delete every topic under ``namespaces``: a whole suite's topics would otherwise stay open in the broker
    (one file per partition, tens of thousands over a suite) until it runs out of file descriptors."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="ddr-test-cleanup")
    try:
        doomed = [t for t in admin.list_topics() if t.startswith(tuple(namespaces))]
        if doomed:
            admin.delete_topics(doomed)
    finally:
        admin.close()


def create_namespace_topics(bootstrap_servers: str, namespace: str, partitions: int = 3) -> None:
    """Every service's event and dead-letter topic under ``namespace``."""
    ensure_topics(bootstrap_servers, platform_topics(partitions, 1, namespace))


class UpstreamService:
    """Publishes ``service``'s events to ``<namespace>ddr.<service>.events`` through a real store and relay."""

    def __init__(self, service: str, consumer_settings: Settings) -> None:
        self.service = service
        database = consumer_settings.var_dir / f"upstream-{service}-{uuid.uuid4().hex[:8]}.sqlite"
        self.settings = consumer_settings.model_copy(
            update={"service_name": service, "database_url": f"sqlite+aiosqlite:///{database}"}
        )
        self.runtime: ServiceRuntime = build_runtime(service, REGISTRY, self.settings)

    @property
    def topic(self) -> str:
        return self.settings.events_topic(self.service)

    async def __aenter__(self) -> UpstreamService:
        self.settings.var_dir.mkdir(parents=True, exist_ok=True)
        await self.runtime.keystore.create_schema()
        await self.runtime.store.create_schema()
        await self.runtime.broker.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.runtime.relay.close()
        await self.runtime.broker.stop()
        await self.runtime.engine.dispose()
        await self.runtime.keys_engine.dispose()

    async def emit(
        self,
        stream_id: str,
        *events: DomainEvent,
        subject: str | None = None,
        occurred_at: datetime | None = None,
        actor: str = "upstream-test",
        publish: bool = True,
    ) -> list[StoredEvent]:
        """Append ``events`` to ``stream_id`` (subject: the stream id unless given) and publish them."""
        store = self.runtime.store
        version = await store.stream_version(stream_id)
        stored = await store.append(
            stream_id,
            version,
            [NewEvent(e, subject or stream_id, occurred_at) for e in events],
            Causation(actor),
        )
        if publish:
            await self.publish()
        return stored

    async def publish(self) -> int:
        """Relay everything appended so far to Kafka (acknowledged before this returns)."""
        return await self.runtime.relay.drain()
