"""What every service is made of, assembled once: store, key store, broker, relay, consumers, app.

A service's ``bootstrap.py`` calls :func:`build_runtime`, registers its consumers, and passes its routers
to :func:`create_service_app`. Nothing here does I/O until the app's lifespan starts.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta

from fastapi import APIRouter, Depends, FastAPI, Response
from faststream.kafka import KafkaBroker
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_contracts.events import EventRegistry
from ddr_runtime import metrics
from ddr_runtime.audit.checkpoints import StoreCheckpointer, checkpoint_router
from ddr_runtime.audit.reads import ReadLedger, reads_router
from ddr_runtime.audit.signing import signing_key
from ddr_runtime.auth.dependencies import public_route, require_roles
from ddr_runtime.auth.revocation import RevocationList, RevocationSource, RevocationStore
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.crypto.cipher import PersonalDataCipher
from ddr_runtime.crypto.keyclient import KeyServiceClient
from ddr_runtime.crypto.keystore import KeyStore, SubjectErased, SubjectKeys, load_or_create_master_key
from ddr_runtime.db import create_engine
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.rebuild import ReadModel, create_read_model
from ddr_runtime.eventstore.store import EventStore
from ddr_runtime.http.app import LifespanHook, create_app
from ddr_runtime.http.idempotency import IdempotencyStore
from ddr_runtime.http.problems import register_problem
from ddr_runtime.http.read_model import Rebuilder, read_model_router
from ddr_runtime.messaging.broker import ConfluentSender, make_broker
from ddr_runtime.messaging.consumer import BatchHandler, Handler, IdempotentConsumer
from ddr_runtime.messaging.relay import OutboxRelay
from ddr_runtime.messaging.supervision import problems, supervise
from ddr_runtime.telemetry import configure_logging, configure_telemetry

register_problem(ConcurrencyConflict, 409, "Conflict: the record changed since you read it")
register_problem(SubjectErased, 410, "Gone: this person's data was erased")


Preparation = Callable[[], Awaitable[None]]
"""Something a service does once its store exists and before its consumers start (its read model's tables,
the reference data its first events are decided by)."""


def master_key(settings: Settings) -> bytes:
    """The KEK of an in-process key store: development and tests only (production has the key service)."""
    if not settings.is_development:
        raise ValueError("no service holds the key-encryption key outside development: use the key service")
    if settings.master_key is not None:
        return base64.b64decode(settings.master_key.get_secret_value())
    return load_or_create_master_key(settings.var_dir / "secrets" / "master.key")


def subject_keys(settings: Settings) -> tuple[SubjectKeys, RevocationSource]:
    """Where this process gets subject keys and token revocations: the key service, with this service's own
    credential, when one is configured (always in production); else, in development and tests only, a key
    store opened in process (the shared ``keystore_url``, or var/stores/keys.sqlite)."""
    if settings.key_service_url:
        client = KeyServiceClient(
            settings.key_service_url,
            settings.key_credential(),
            ca_file=settings.key_service_ca_file,
            cache_seconds=settings.key_cache_seconds,
        )
        return client, client
    engine = create_engine(settings.keys_url(), pool_size=5)
    keystore = KeyStore(engine, master_key(settings), cache_seconds=settings.key_cache_seconds)
    return keystore, RevocationStore(engine)


@dataclass
class ServiceRuntime:
    """The wired parts of one service process."""

    settings: Settings
    engine: AsyncEngine
    keystore: SubjectKeys
    revocations: RevocationList
    revocation_source: RevocationSource
    store: EventStore
    broker: KafkaBroker
    relay: OutboxRelay
    tracer_provider: TracerProvider
    idempotency: IdempotencyStore
    checkpointer: StoreCheckpointer
    reads: ReadLedger
    consumers: list[IdempotentConsumer] = field(default_factory=list)
    supervise_every: float = 5.0  # seconds between checks that every consumer still consumes

    @property
    def keys_engine(self) -> SubjectKeys:
        """What to dispose of at the end for the keys (kept for callers written before the key service)."""
        return self.keystore

    def consume(
        self,
        *topics: str,
        name: str,
        handler: Handler | None = None,
        batch_handler: BatchHandler | None = None,
        event_names: frozenset[str] | None = None,
    ) -> IdempotentConsumer:
        """Register an idempotent consumer of ``topics`` whose effects land in this service's store."""
        consumer = IdempotentConsumer(
            name=name,
            store=self.store,
            handler=handler,
            batch_handler=batch_handler,
            event_names=event_names,
            tracer_provider=self.tracer_provider,
        )
        consumer.subscribe(self.broker, *topics)
        self.consumers.append(consumer)
        return consumer

    async def start(self, preparations: Sequence[Preparation] = ()) -> asyncio.Task[None]:
        """Create the stores' tables, run the service's ``preparations``, then start the broker (and with it
        the consumers) and the outbox relay."""
        await self.keystore.create_schema()
        if isinstance(self.revocation_source, RevocationStore):
            await self.revocation_source.create_schema()
        await self.store.create_schema()
        await self.idempotency.create_schema()
        await self.checkpointer.create_schema()
        await self.reads.create_schema()
        for prepare in preparations:
            await prepare()
        await self.broker.start()
        self._stop = asyncio.Event()
        if self.settings.audit_checkpoint_seconds > 0:
            self.checkpointer.start(self.settings.audit_checkpoint_seconds)
        self._supervisor = asyncio.create_task(
            supervise(self.consumers, self._stop, self.supervise_every), name="consumers"
        )
        return asyncio.create_task(self.relay.run(self._stop), name=f"{self.settings.service_name}-relay")

    async def stop(self, relay_task: asyncio.Task[None]) -> None:
        self._stop.set()
        await relay_task
        await self.relay.close()
        await self._supervisor
        await self.checkpointer.stop()
        await self.broker.stop()
        await self.engine.dispose()
        await self.keystore.dispose()

    async def check_store(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("select 1"))

    async def check_revocations(self) -> None:
        if not self.revocations.current:
            raise ConnectionError("the token revocation list is not current")

    async def check_kafka(self) -> None:
        if not await self.broker.ping(timeout=2.0):
            raise ConnectionError("Kafka does not answer")

    async def check_consumers(self) -> None:
        """Every consumer of the process is consuming (one that stopped is being restarted meanwhile)."""
        stopped = problems(self.consumers)
        if stopped:
            raise ConnectionError(f"stopped consuming: {', '.join(sorted(stopped))}")


def build_runtime(
    service: str,
    registry: EventRegistry,
    settings: Settings | None = None,
    *,
    tracer_provider: TracerProvider | None = None,
) -> ServiceRuntime:
    settings = settings or Settings(service_name=service)
    configure_logging(service)
    provider = tracer_provider or configure_telemetry(service, settings)
    engine = create_engine(settings.store_url())
    keystore, revocation_source = subject_keys(settings)
    revocations = RevocationList(
        revocation_source,
        refresh_seconds=settings.revocation_refresh_seconds,
        max_staleness_seconds=settings.revocation_max_staleness_seconds,
    )
    store = EventStore(
        engine, PersonalDataCipher(keystore), registry, service=service, topic=settings.events_topic(service)
    )
    broker = make_broker(settings.kafka_bootstrap_servers, client_id=f"ddr-{service}")
    # The relay sends through a librdkafka producer of its own: several times the events per second of the
    # broker's aiokafka producer for the same settings (docs/benchmarks.md, foundation).
    sender = ConfluentSender(settings.kafka_bootstrap_servers, client_id=f"ddr-{service}-relay")
    relay = OutboxRelay(engine, sender, service=service, tracer_provider=provider)
    idempotency = IdempotencyStore(engine, ttl=timedelta(hours=settings.idempotency_ttl_hours))
    checkpointer = StoreCheckpointer(
        engine, broker, service=service, topic=settings.checkpoints_topic(), key=lambda: signing_key(settings)
    )
    return ServiceRuntime(
        settings,
        engine,
        keystore,
        revocations,
        revocation_source,
        store,
        broker,
        relay,
        provider,
        idempotency,
        checkpointer,
        ReadLedger(engine),
    )


def create_service_app(
    runtime: ServiceRuntime,
    routers: Sequence[APIRouter] = (),
    *,
    token_verifier: TokenVerifier | None = None,
    lifespan_hooks: Sequence[LifespanHook] = (),
    read_model: ReadModel | None = None,
    preparations: Sequence[Preparation] = (),
) -> FastAPI:
    """The service's app: its routers, health and readiness (store, Kafka, every consumer consuming),
    metrics, the on-demand store checkpoint, the write protocol (``Idempotency-Key`` on every POST, domain
    refusals as problems), and a lifespan that creates the store's tables, then the read model's and runs the
    service's other ``preparations`` (reference data) before any consumer delivers, starts the broker with its
    subscribers, runs the outbox relay, supervises the consumers and signs the store's checkpoints, then the
    service's own hooks (its background tasks), which stop in reverse order. With ``read_model``, an operator
    can rebuild it from the service's own history while it serves (``/read-model/rebuild``)."""
    extra: list[APIRouter] = []
    if read_model is not None:
        extra.append(read_model_router(Rebuilder(runtime.settings.service_name, read_model)))

    @asynccontextmanager
    async def running(_app: FastAPI) -> AsyncIterator[None]:
        # The read model's tables first: a consumer's first batch may project into them.
        first = [lambda: create_read_model(read_model)] if read_model is not None else []
        relay_task = await runtime.start([*first, *preparations])
        try:
            async with runtime.revocations.kept_fresh():
                yield
        finally:
            await runtime.stop(relay_task)

    app = create_app(
        service_name=runtime.settings.service_name,
        settings=runtime.settings,
        routers=[
            *routers,
            *extra,
            _metrics_router(runtime),
            checkpoint_router(runtime.checkpointer),
            reads_router(),
        ],
        readiness_checks=[
            ("store", runtime.check_store),
            ("kafka", runtime.check_kafka),
            ("consumers", runtime.check_consumers),
            ("revocations", runtime.check_revocations),
        ],
        lifespan_hooks=[running, *lifespan_hooks],
        token_verifier=token_verifier,
        readiness_timeout=runtime.settings.readiness_timeout_seconds,
        tracer_provider=runtime.tracer_provider,
    )
    app.state.idempotency = runtime.idempotency
    app.state.revocations = runtime.revocations
    app.state.read_ledger = runtime.reads
    return app


def _metrics_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter()

    @router.get("/metrics", dependencies=[Depends(public_route)], include_in_schema=False)
    async def prometheus_metrics() -> Response:
        """Operational counts only (see ddr_runtime.metrics): safe for a scraper without a token."""
        metrics.OUTBOX_BACKLOG.labels(runtime.settings.service_name).set(await runtime.relay.backlog())
        return Response(generate_latest(metrics.OperationalMetrics()), media_type=CONTENT_TYPE_LATEST)

    @router.get("/metrics/all", dependencies=[Depends(require_roles(Role.OPERATOR))], include_in_schema=False)
    async def all_metrics() -> Response:
        """Every metric of the process, the service's own counts included: an operator's token only."""
        metrics.OUTBOX_BACKLOG.labels(runtime.settings.service_name).set(await runtime.relay.backlog())
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router
