"""Composition root of the cvr service: the runtime, the unit of work and its projections, the read side,
the registration consumer's policy, the routers.

``uvicorn --factory ddr_cvr.bootstrap:create_app`` serves it with settings from the environment
(``DDR_*``, ``DDR_CVR_*``; the programme's caps, targets and programmes from ``DDR_CVR_POLICY_*``).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from decimal import Decimal

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection

import ddr_contracts.cvr
from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_cvr.adapters.projections import Projector
from ddr_cvr.adapters.queries import CvrQueries, participants_linked_to
from ddr_cvr.adapters.tables import READ_MODEL, create_read_model
from ddr_cvr.domain import events
from ddr_cvr.domain.policy import PROGRAMMES, CvrPolicy
from ddr_cvr.entrypoints.consumers import REGISTRATION_EVENTS, on_registration_events
from ddr_cvr.entrypoints.routers import ROUTERS
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.eventstore.rebuild import ReadModel, rebuild_read_model
from ddr_runtime.eventstore.store import EventStore
from ddr_runtime.eventstore.translation import EventMap
from ddr_runtime.eventstore.unit import Session, UnitOfWork
from ddr_runtime.service import build_runtime, create_service_app

SERVICE = "cvr"
log = logging.getLogger(__name__)


class PolicySettings(BaseSettings):
    """The programme's CVR rules as configuration (``DDR_CVR_POLICY_SINGLE_NGO_CAP_USD=100000`` ...;
    ``DDR_CVR_POLICY_PROGRAMMES='{"crp": "Community Rehabilitation Programme", ...}'``)."""

    model_config = SettingsConfigDict(env_prefix="DDR_CVR_POLICY_", extra="ignore")

    single_ngo_cap_usd: Decimal = Decimal(100_000)
    consortium_cap_usd: Decimal = Decimal(300_000)
    max_duration_months: int = 12
    ex_combatant_target_percent: Decimal = Decimal(60)
    women_target_percent: Decimal = Decimal(50)
    visit_due_after_days: int = 365
    programmes: dict[str, str] = dict(PROGRAMMES)

    def policy(self) -> CvrPolicy:
        return CvrPolicy(**self.model_dump())


def unit_of_work(store: EventStore, notify: Callable[[], None] = lambda: None) -> UnitOfWork:
    """CVR's unit of work: its store, the read model's projection, its events translated by name."""
    return UnitOfWork(
        store,
        projections=[Projector()],
        translation=EventMap.by_name(events, ddr_contracts.cvr),
        notify=notify,
    )


async def prepare_read_model(unit: UnitOfWork) -> None:
    """The read model's tables, rebuilt from the store when an older version of them was found."""
    if await create_read_model(unit.engine):
        log.warning("the CVR read model's tables had an older shape: rebuilding them from the store")
        await rebuild_read_model(unit, READ_MODEL)


def build_app(
    settings: Settings,
    registry: EventRegistry = REGISTRY,
    *,
    policy: CvrPolicy | None = None,
    tracer_provider: TracerProvider | None = None,
    token_verifier: TokenVerifier | None = None,
) -> FastAPI:
    runtime = build_runtime(SERVICE, registry, settings, tracer_provider=tracer_provider)
    policy = policy or PolicySettings().policy()
    unit = unit_of_work(runtime.store, notify=runtime.relay.notify)

    def session_on(conn: AsyncConnection) -> Session:
        return Session(unit, conn)

    runtime.consume(
        settings.events_topic("registration"),
        settings.events_topic("screening"),
        name="cvr-registration-policy",
        batch_handler=on_registration_events(
            session_on, participants_linked_to, runtime.store.cipher.keystore.erase
        ),
        event_names=REGISTRATION_EVENTS,
    )

    @asynccontextmanager
    async def read_model_tables(_app: FastAPI) -> AsyncIterator[None]:
        await prepare_read_model(unit)
        yield

    app = create_service_app(
        runtime,
        ROUTERS,
        token_verifier=token_verifier,
        lifespan_hooks=[read_model_tables],
        read_model=ReadModel(unit, READ_MODEL),
    )
    app.state.cvr_unit = unit
    app.state.cvr_reads = CvrQueries(runtime.store, policy)
    app.state.cvr_policy = policy
    app.state.runtime = runtime
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))
