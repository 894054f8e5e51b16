"""Composition root of the integration service: the runtime, its consumers and routers, the app.

``uvicorn --factory ddr_integration.bootstrap:create_app`` serves it with settings from the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_integration.adapters.tables import create_read_model
from ddr_integration.domain.thirds import SIGNATORY_COALITIONS
from ddr_integration.entrypoints.errors import install_error_mapping
from ddr_integration.entrypoints.routers import integration_routers
from ddr_integration.service_layer import policies
from ddr_integration.service_layer.unit import Integration
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app

SERVICE = "integration"


def build_integration(
    runtime: ServiceRuntime, coalitions: Sequence[str] = SIGNATORY_COALITIONS
) -> Integration:
    integ = Integration(store=runtime.store, notify=runtime.relay.notify, coalitions=tuple(coalitions))
    settings = runtime.settings
    runtime.consume(
        settings.events_topic("screening"),
        name=f"{SERVICE}.screening",
        batch_handler=policies.on_screening(integ),
        event_names=policies.SCREENING_EVENTS,
    )
    runtime.consume(
        settings.events_topic("reinsertion"),
        name=f"{SERVICE}.reinsertion",
        handler=policies.on_reinsertion(integ),
        event_names=policies.REINSERTION_EVENTS,
    )
    runtime.consume(
        settings.events_topic("registration"),
        name=f"{SERVICE}.registration",
        handler=policies.on_registration,
        event_names=policies.REGISTRATION_EVENTS,
    )
    return integ


def build_app(
    settings: Settings,
    registry: EventRegistry = REGISTRY,
    *,
    tracer_provider: TracerProvider | None = None,
    token_verifier: TokenVerifier | None = None,
    coalitions: Sequence[str] = SIGNATORY_COALITIONS,
) -> FastAPI:
    runtime = build_runtime(SERVICE, registry, settings, tracer_provider=tracer_provider)
    integ = build_integration(runtime, coalitions)
    app = create_service_app(runtime, integration_routers(integ), token_verifier=token_verifier)
    install_error_mapping(app)
    app.state.runtime = runtime
    app.state.integration = integ

    runtime_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        # The read model exists before the consumers start: their first batch writes to it.
        await runtime.store.create_schema()
        await create_read_model(runtime.engine)
        async with runtime_lifespan(served):
            yield

    app.router.lifespan_context = lifespan
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))
