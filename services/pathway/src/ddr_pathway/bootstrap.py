"""Composition root of the pathway service: the runtime, the read models and their consumers, the app.

``uvicorn --factory ddr_pathway.bootstrap:create_app`` serves it with settings from the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_pathway.entrypoints.api import router as pathway_router
from ddr_pathway.service_layer.replay import ReadModels
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app

SERVICE = "pathway"
CONSUMED_SERVICES = ("registration", "screening", "integration", "reinsertion", "cvr")


def build_read_models(runtime: ServiceRuntime) -> ReadModels:
    settings = runtime.settings
    return ReadModels(
        runtime.store,
        runtime.broker,
        topics=[settings.events_topic(s) for s in CONSUMED_SERVICES],
        namespace=settings.topic_namespace,
        supervised=runtime.consumers,
    )


def build_app(
    settings: Settings,
    registry: EventRegistry = REGISTRY,
    *,
    tracer_provider: TracerProvider | None = None,
    token_verifier: TokenVerifier | None = None,
) -> FastAPI:
    runtime = build_runtime(SERVICE, registry, settings, tracer_provider=tracer_provider)
    read_models = build_read_models(runtime)

    @asynccontextmanager
    async def consuming(_app: FastAPI) -> AsyncIterator[None]:
        await read_models.start()
        try:
            yield
        finally:
            await read_models.stop()

    app = create_service_app(
        runtime,
        [pathway_router],
        token_verifier=token_verifier,
        lifespan_hooks=[consuming],
    )
    app.state.runtime = runtime
    app.state.read_models = read_models
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))
