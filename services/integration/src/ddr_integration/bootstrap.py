"""Composition root of the integration service: the runtime, its unit of work and read model, its consumers
and routers, the app.

``uvicorn --factory ddr_integration.bootstrap:create_app`` serves it with settings from the environment.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

import ddr_contracts.integration
from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_integration.adapters.projections import IntegrationProjection
from ddr_integration.adapters.queries import Queries
from ddr_integration.adapters.tables import READ_MODEL
from ddr_integration.domain import events
from ddr_integration.domain.thirds import SIGNATORY_COALITIONS
from ddr_integration.entrypoints import candidates_api, programme_api, training_api, units_api
from ddr_integration.entrypoints.subscribers import (
    REGISTRATION_EVENTS,
    REINSERTION_EVENTS,
    SCREENING_EVENTS,
    Subscribers,
)
from ddr_integration.service_layer.context import Integration
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.eventstore.rebuild import ReadModel
from ddr_runtime.eventstore.translation import EventMap
from ddr_runtime.eventstore.unit import UnitOfWork
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app

SERVICE = "integration"
ROUTERS = (candidates_api.router, programme_api.router, training_api.router, units_api.router)


def build_integration(
    runtime: ServiceRuntime, coalitions: Sequence[str] = SIGNATORY_COALITIONS
) -> tuple[Integration, UnitOfWork]:
    """The service over the runtime's store: its unit of work (projections, translation, relay), its views,
    and its consumers registered on the broker."""
    unit = UnitOfWork(
        runtime.store,
        projections=[IntegrationProjection()],
        translation=EventMap.by_name(events, ddr_contracts.integration),
        notify=runtime.relay.notify,
    )
    integ = Integration(runner=unit, views=Queries(runtime.engine), coalitions=tuple(coalitions))
    subscribers = Subscribers(unit)
    topic = runtime.settings.events_topic
    runtime.consume(
        topic("screening"),
        name=f"{SERVICE}.screening",
        batch_handler=subscribers.on_people,
        event_names=SCREENING_EVENTS,
    )
    runtime.consume(
        topic("reinsertion"),
        name=f"{SERVICE}.reinsertion",
        batch_handler=subscribers.on_people,
        event_names=REINSERTION_EVENTS,
    )
    runtime.consume(
        topic("registration"),
        name=f"{SERVICE}.registration",
        batch_handler=subscribers.on_registration,
        event_names=REGISTRATION_EVENTS,
    )
    return integ, unit


def build_app(
    settings: Settings,
    registry: EventRegistry = REGISTRY,
    *,
    tracer_provider: TracerProvider | None = None,
    token_verifier: TokenVerifier | None = None,
    coalitions: Sequence[str] = SIGNATORY_COALITIONS,
) -> FastAPI:
    runtime = build_runtime(SERVICE, registry, settings, tracer_provider=tracer_provider)
    integ, unit = build_integration(runtime, coalitions)
    app = create_service_app(
        runtime, ROUTERS, token_verifier=token_verifier, read_model=ReadModel(unit, READ_MODEL)
    )
    app.state.runtime = runtime
    app.state.integration = integ
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))
