"""Composition root of the reinsertion service: the runtime, its consumers and routers, the app.

``uvicorn --factory ddr_reinsertion.bootstrap:create_app`` serves it with settings from the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_reinsertion.adapters.tables import create_read_model
from ddr_reinsertion.entrypoints.api import reinsertion_router
from ddr_reinsertion.entrypoints.errors import install_error_mapping
from ddr_reinsertion.service_layer.policies import INTEGRATION_EVENTS, SCREENING_EVENTS, Policies
from ddr_reinsertion.service_layer.unit import Reinsertion
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.service import build_runtime, create_service_app

SERVICE = "reinsertion"


def build_app(
    settings: Settings,
    registry: EventRegistry = REGISTRY,
    *,
    tracer_provider: TracerProvider | None = None,
    token_verifier: TokenVerifier | None = None,
) -> FastAPI:
    runtime = build_runtime(SERVICE, registry, settings, tracer_provider=tracer_provider)
    unit = Reinsertion(store=runtime.store, notify=runtime.relay.notify)
    policies = Policies(unit)
    runtime.consume(
        settings.events_topic("screening"),
        name="reinsertion-screening",
        batch_handler=policies.on_screening_batch,
        event_names=SCREENING_EVENTS,
    )
    runtime.consume(
        settings.events_topic("integration"),
        name="reinsertion-integration",
        handler=policies.on_integration,
        event_names=INTEGRATION_EVENTS,
    )
    app = create_service_app(runtime, [reinsertion_router(unit)], token_verifier=token_verifier)
    install_error_mapping(app)
    app.state.runtime = runtime
    app.state.reinsertion = unit

    runtime_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        # The read model must exist before the consumers (started by the runtime) write to it.
        await runtime.store.create_schema()
        await create_read_model(runtime.engine)
        async with runtime_lifespan(served):
            yield

    app.router.lifespan_context = lifespan
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))
