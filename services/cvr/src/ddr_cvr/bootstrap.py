"""Composition root of the cvr service: the runtime, the service layer, the registration consumer, the app.

``uvicorn --factory ddr_cvr.bootstrap:create_app`` serves it with settings from the environment
(``DDR_*``, ``DDR_CVR_*``; the programme's caps and targets from ``DDR_CVR_POLICY_*``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from pydantic_settings import BaseSettings, SettingsConfigDict

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_cvr.domain.policy import CvrPolicy
from ddr_cvr.entrypoints.http_support import install_error_mapping
from ddr_cvr.entrypoints.routers import cvr_routers
from ddr_cvr.service_layer.people import REGISTRATION_EVENTS, on_registration_event
from ddr_cvr.service_layer.startup import prepare
from ddr_cvr.service_layer.unit import Cvr
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.service import build_runtime, create_service_app

SERVICE = "cvr"


class PolicySettings(BaseSettings):
    """The programme's CVR rules as configuration (``DDR_CVR_POLICY_SINGLE_NGO_CAP_USD=100000`` ...)."""

    model_config = SettingsConfigDict(env_prefix="DDR_CVR_POLICY_", extra="ignore")

    single_ngo_cap_usd: Decimal = Decimal(100_000)
    consortium_cap_usd: Decimal = Decimal(300_000)
    max_duration_months: int = 12
    ex_combatant_target_percent: int = 60
    women_target_percent: int = 50
    visit_due_after_days: int = 365

    def policy(self) -> CvrPolicy:
        return CvrPolicy(**self.model_dump())


def build_app(
    settings: Settings,
    registry: EventRegistry = REGISTRY,
    *,
    policy: CvrPolicy | None = None,
    tracer_provider: TracerProvider | None = None,
    token_verifier: TokenVerifier | None = None,
) -> FastAPI:
    runtime = build_runtime(SERVICE, registry, settings, tracer_provider=tracer_provider)
    cvr = Cvr(store=runtime.store, policy=policy or PolicySettings().policy(), notify=runtime.relay.notify)
    runtime.consume(
        settings.events_topic("registration"),
        name="cvr-registered-persons",
        handler=on_registration_event,
        event_names=REGISTRATION_EVENTS,
    )
    app = create_service_app(runtime, cvr_routers(cvr), token_verifier=token_verifier)
    install_error_mapping(app)
    app.state.cvr = cvr
    app.state.runtime = runtime

    runtime_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(served: FastAPI) -> AsyncIterator[None]:
        await prepare(cvr)  # read-model tables exist before the consumers deliver anything
        async with runtime_lifespan(served):
            yield

    app.router.lifespan_context = lifespan
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))
