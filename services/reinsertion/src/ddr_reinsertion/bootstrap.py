"""Composition root of the reinsertion service: the runtime, the unit of work with its projections and
translation, the consumers, the routers and the read model, wired into the app.

``uvicorn --factory ddr_reinsertion.bootstrap:create_app`` serves it with settings from the environment.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

import ddr_contracts.reinsertion
from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_reinsertion.adapters.projections import ReinsertionProjection
from ddr_reinsertion.adapters.queries import Queries
from ddr_reinsertion.adapters.snapshots import LineSnapshots
from ddr_reinsertion.adapters.tables import READ_MODEL, metadata
from ddr_reinsertion.adapters.warm import WarmStreams
from ddr_reinsertion.domain import events
from ddr_reinsertion.entrypoints.api import ROUTERS
from ddr_reinsertion.entrypoints.consumers import subscribe
from ddr_reinsertion.service_layer.desk import Desk, line_stream
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.eventstore.rebuild import ReadModel, rebuild_if_outdated
from ddr_runtime.eventstore.translation import EventMap
from ddr_runtime.eventstore.unit import UnitOfWork
from ddr_runtime.http.app import LifespanHook
from ddr_runtime.service import build_runtime, create_service_app

SERVICE = "reinsertion"


def read_model_tables(read_model: ReadModel) -> LifespanHook:
    """The read model's tables, rebuilt from the history first when an upgrade changed their shape."""

    @asynccontextmanager
    async def create(_app: FastAPI) -> AsyncIterator[None]:
        await rebuild_if_outdated(read_model)
        async with read_model.unit.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield

    return create


def build_app(
    settings: Settings,
    registry: EventRegistry = REGISTRY,
    *,
    tracer_provider: TracerProvider | None = None,
    token_verifier: TokenVerifier | None = None,
) -> FastAPI:
    runtime = build_runtime(SERVICE, registry, settings, tracer_provider=tracer_provider)
    unit = UnitOfWork(
        runtime.store,
        projections=[ReinsertionProjection()],
        translation=EventMap.by_name(events, ddr_contracts.reinsertion),
        notify=runtime.relay.notify,
    )
    desk = Desk(unit, WarmStreams(), LineSnapshots(line_stream))
    subscribe(runtime, settings, unit, desk)
    read_model = ReadModel(unit, READ_MODEL)
    app = create_service_app(
        runtime,
        ROUTERS,
        token_verifier=token_verifier,
        lifespan_hooks=[read_model_tables(read_model)],
        read_model=read_model,
    )
    app.state.runtime = runtime
    app.state.desk = desk
    app.state.queries = Queries(runtime.engine, runtime.store)
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))
