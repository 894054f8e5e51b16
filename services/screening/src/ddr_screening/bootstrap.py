"""Composition root of the screening service: the runtime, its registration consumer, routers, the app.

``uvicorn --factory ddr_screening.bootstrap:create_app`` serves it with settings from the environment
(``DDR_*``; screening's own: ``DDR_SCREENING_HANDOVER_HOURS``, ``DDR_SCREENING_SUSPECT_DOCUMENT_DAYS``,
``DDR_SCREENING_MAX_RE_EXAMINATIONS``); tests call :func:`build_app` with their own settings.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.messaging.consumer import ReceivedEvent
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app
from ddr_screening.domain.policy import ScreeningPolicy
from ddr_screening.entrypoints.http_support import install_error_mapping
from ddr_screening.entrypoints.routers import screening_routers
from ddr_screening.service_layer.intake import REGISTRATION_EVENTS, on_registration_events
from ddr_screening.service_layer.startup import prepare, watch_overdue_handovers
from ddr_screening.service_layer.unit import Screening

SERVICE = "screening"


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


def build_screening(runtime: ServiceRuntime, config: ScreeningConfig | None = None) -> Screening:
    """The service layer on the runtime's store, with its registration consumer registered."""
    scr = Screening(
        store=runtime.store, policy=(config or ScreeningConfig()).policy(), notify=runtime.relay.notify
    )

    async def on_batch(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        await on_registration_events(scr, conn, batch)

    runtime.consume(
        runtime.settings.events_topic("registration"),
        name=f"{runtime.settings.topic_namespace}screening-registration",
        batch_handler=on_batch,
        event_names=REGISTRATION_EVENTS,
    )
    return scr


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
    scr = build_screening(runtime, config)
    app = create_service_app(runtime, screening_routers(scr), token_verifier=token_verifier)
    install_error_mapping(app)
    app.state.screening = scr
    app.state.runtime = runtime

    runtime_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        await prepare(scr)  # read model before the consumers start
        async with runtime_lifespan(served):
            watcher = asyncio.create_task(watch_overdue_handovers(scr, config.overdue_check_seconds))
            try:
                yield
            finally:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    app.router.lifespan_context = lifespan
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))
