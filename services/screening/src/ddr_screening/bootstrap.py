"""Composition root of the screening service: the runtime, its unit of work and read model, its registration
consumer, routers, the app.

``uvicorn --factory ddr_screening.bootstrap:create_app`` serves it with settings from the environment
(``DDR_*``; screening's own: ``DDR_SCREENING_HANDOVER_HOURS``, ``DDR_SCREENING_SUSPECT_DOCUMENT_DAYS``,
``DDR_SCREENING_MAX_RE_EXAMINATIONS``); tests call :func:`build_app` with their own settings.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from pydantic_settings import BaseSettings, SettingsConfigDict

import ddr_contracts.screening
from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.eventstore.rebuild import ReadModel, rebuild_if_outdated
from ddr_runtime.eventstore.translation import EventMap
from ddr_runtime.eventstore.unit import UnitOfWork
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app
from ddr_screening.adapters.persons import RegisteredPersons
from ddr_screening.adapters.projections import CaseProjection, ReferenceProjection
from ddr_screening.adapters.queries import StoredReads, StoredReference
from ddr_screening.adapters.tables import READ_MODEL, create_read_model
from ddr_screening.domain import events
from ddr_screening.domain.policy import ScreeningPolicy
from ddr_screening.entrypoints import cases_api, decisions_api, reference_api
from ddr_screening.entrypoints.consumers import REGISTRATION_EVENTS, on_registration_events
from ddr_screening.service_layer.alerts import watch_overdue_handovers
from ddr_screening.service_layer.reference import publish_default_rule_sets
from ddr_screening.service_layer.service import Screening

SERVICE = "screening"
TRANSLATION = EventMap.by_name(events, ddr_contracts.screening)


class ScreeningConfig(BaseSettings):
    """Screening's own configuration (``DDR_SCREENING_*``)."""

    model_config = SettingsConfigDict(env_prefix="DDR_SCREENING_", extra="ignore")

    handover_hours: int = 48
    suspect_document_days: int = 30
    max_re_examinations: int = 2
    overdue_check_seconds: float = 60.0

    def policy(self) -> ScreeningPolicy:
        return ScreeningPolicy(
            handover_hours=self.handover_hours,
            suspect_document_days=self.suspect_document_days,
            max_re_examinations=self.max_re_examinations,
        )


def build_screening(
    runtime: ServiceRuntime, config: ScreeningConfig | None = None
) -> tuple[Screening, UnitOfWork]:
    """The service layer on the runtime's store (and its unit of work), its registration consumer registered."""
    unit = UnitOfWork(
        runtime.store,
        projections=[CaseProjection(), ReferenceProjection()],
        translation=TRANSLATION,
        notify=runtime.relay.notify,
    )
    scr = Screening(
        unit=unit,
        reference=StoredReference(runtime.store),
        persons=RegisteredPersons(runtime.store.cipher),
        reads=StoredReads(runtime.engine, runtime.store),
        policy=(config or ScreeningConfig()).policy(),
    )
    runtime.consume(
        runtime.settings.events_topic("registration"),
        name=f"{runtime.settings.topic_namespace}screening-registration",
        batch_handler=on_registration_events(scr, unit),
        event_names=REGISTRATION_EVENTS,
    )
    return scr, unit


async def prepare(scr: Screening, unit: UnitOfWork) -> None:
    """Before the consumers start: the read model's tables (rebuilt from the history when an upgrade changed
    their shape) and the default rule sets (a first batch decides at once)."""
    await rebuild_if_outdated(ReadModel(unit, READ_MODEL))
    await create_read_model(unit.engine)
    await publish_default_rule_sets(scr)


def build_app(
    settings: Settings,
    registry: EventRegistry = REGISTRY,
    *,
    tracer_provider: TracerProvider | None = None,
    token_verifier: TokenVerifier | None = None,
    config: ScreeningConfig | None = None,
) -> FastAPI:
    config = config or ScreeningConfig()
    runtime = build_runtime(SERVICE, registry, settings, tracer_provider=tracer_provider)
    scr, unit = build_screening(runtime, config)

    @asynccontextmanager
    async def watching(_app: FastAPI) -> AsyncIterator[None]:
        watcher = asyncio.create_task(watch_overdue_handovers(scr.reads, config.overdue_check_seconds))
        try:
            yield
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    app = create_service_app(
        runtime,
        [cases_api.router, decisions_api.router, reference_api.router],
        token_verifier=token_verifier,
        preparations=[lambda: prepare(scr, unit)],
        lifespan_hooks=[watching],
        read_model=ReadModel(unit, READ_MODEL),
    )
    app.state.screening = scr
    app.state.runtime = runtime
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))
