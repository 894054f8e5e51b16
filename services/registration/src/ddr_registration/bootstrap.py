"""Composition root of the registration service: the runtime, the service layer, the routers, the app.

``uvicorn --factory ddr_registration.bootstrap:create_app`` serves it with settings from the environment
(``DDR_*``, ``DDR_REGISTRATION_*``); tests call :func:`build_app` with their own settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_registration.adapters.biometrics import BiometricHasher, biometric_secret
from ddr_registration.entrypoints.http_support import install_error_mapping
from ddr_registration.entrypoints.routers import registration_routers
from ddr_registration.service_layer.startup import prepare
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app

SERVICE = "registration"


def build_registration(runtime: ServiceRuntime, biometric_key: bytes | None = None) -> Registration:
    settings = runtime.settings
    key = biometric_key or biometric_secret(settings.var_dir, production=settings.environment == "production")
    return Registration(store=runtime.store, hasher=BiometricHasher(key), notify=runtime.relay.notify)


def build_app(
    settings: Settings,
    registry: EventRegistry = REGISTRY,
    *,
    tracer_provider: TracerProvider | None = None,
    token_verifier: TokenVerifier | None = None,
    biometric_key: bytes | None = None,
) -> FastAPI:
    runtime = build_runtime(SERVICE, registry, settings, tracer_provider=tracer_provider)
    reg = build_registration(runtime, biometric_key)
    app = create_service_app(runtime, registration_routers(reg), token_verifier=token_verifier)
    install_error_mapping(app)
    app.state.registration = reg
    app.state.runtime = runtime

    runtime_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        async with runtime_lifespan(served):
            await prepare(reg)
            yield

    app.router.lifespan_context = lifespan
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))
