"""Composition root of the cvr service: the runtime, its consumers and routers, the app.

``uvicorn --factory ddr_cvr.bootstrap:create_app`` serves it with settings from the environment.
"""

from __future__ import annotations

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.service import build_runtime, create_service_app

SERVICE = "cvr"


def build_app(
    settings: Settings,
    registry: EventRegistry = REGISTRY,
    *,
    tracer_provider: TracerProvider | None = None,
    token_verifier: TokenVerifier | None = None,
) -> FastAPI:
    runtime = build_runtime(SERVICE, registry, settings, tracer_provider=tracer_provider)
    app = create_service_app(runtime, [], token_verifier=token_verifier)
    app.state.runtime = runtime
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))
