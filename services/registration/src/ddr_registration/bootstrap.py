"""Composition root of the registration service: the runtime, the unit of work, the adapters, the app.

``uvicorn --factory ddr_registration.bootstrap:create_app`` serves it with settings from the environment
(``DDR_*``, ``DDR_REGISTRATION_*``); tests call :func:`build_app` with their own settings. The ``ddr lists``
and ``ddr simulate`` commands are wired here too (``lists_app``, ``simulate_app``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from opentelemetry.sdk.trace import TracerProvider
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

import ddr_contracts.registration
from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry
from ddr_registration.adapters.biometrics import BiometricHasher, biometric_secret
from ddr_registration.adapters.list_files import ListFileReader, ListFileWriter
from ddr_registration.adapters.name_index import NameTokens, name_index_secret
from ddr_registration.adapters.projections import RegistrationProjection
from ddr_registration.adapters.queries import RegistrationLookups, RegistrationViews
from ddr_registration.adapters.tables import READ_MODEL, create_read_model
from ddr_registration.adapters.upload_allowance import UploadAllowances
from ddr_registration.domain import events
from ddr_registration.entrypoints import (
    duplicates_api,
    figures_api,
    lists_api,
    movements_api,
    persons_api,
    weapons_api,
)
from ddr_registration.entrypoints.cli import lists_cli
from ddr_registration.entrypoints.simulate_cli import simulate_cli
from ddr_registration.service_layer.dedup import catch_up_index
from ddr_registration.service_layer.desk import RegistrationDesk
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.eventstore.rebuild import ReadModel, rebuild_if_outdated
from ddr_runtime.eventstore.translation import EventMap
from ddr_runtime.eventstore.unit import UnitOfWork
from ddr_runtime.http.problems import PROBLEM_TYPE_PREFIX, problem_response
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app

SERVICE = "registration"
ROUTERS = (
    movements_api.router,
    lists_api.router,
    persons_api.router,
    persons_api.registrations,
    duplicates_api.router,
    weapons_api.router,
    figures_api.router,
)
TRANSLATION = EventMap.by_name(events, ddr_contracts.registration)


async def _on_integrity_error(request: Request, _exc: Exception) -> Response:
    """A unique rule of the read model caught a concurrent write (say, the same file imported twice at once).
    The driver's message quotes the row, which may be personal: it is not passed on."""
    return problem_response(
        status=409,
        title="Conflict",
        type_=PROBLEM_TYPE_PREFIX + "conflict",
        detail="a concurrent request changed the same records; read them again and retry",
        instance=request.url.path,
    )


def name_tokens(runtime: ServiceRuntime, key: bytes | None = None) -> NameTokens:
    """The blind index's hashing, under ``key`` or the configured secret."""
    settings = runtime.settings
    return NameTokens(
        key or name_index_secret(settings.var_dir, production=settings.environment == "production")
    )


def build_unit(runtime: ServiceRuntime, names: NameTokens | None = None) -> UnitOfWork:
    """The runtime's unit of work on the service's store, with its projection and its events' translation."""
    return UnitOfWork(
        runtime.store,
        projections=[RegistrationProjection(names or name_tokens(runtime), runtime.store.cipher)],
        translation=TRANSLATION,
        notify=runtime.relay.notify,
    )


def build_desk(
    runtime: ServiceRuntime,
    unit: UnitOfWork,
    biometric_key: bytes | None = None,
    names: NameTokens | None = None,
) -> RegistrationDesk:
    """The command side on ``unit``: its look-ups, biometric key, list files and personal-data keys."""
    settings = runtime.settings
    key = biometric_key or biometric_secret(settings.var_dir, production=settings.environment == "production")
    lookups = RegistrationLookups(runtime.store.cipher, names or name_tokens(runtime))
    return RegistrationDesk(unit, lookups, BiometricHasher(key), ListFileReader(), runtime.keystore)


async def prepare(desk: RegistrationDesk, unit: UnitOfWork) -> None:
    """Create the read model if needed (rebuilt from the history if its tables are of an earlier shape) and
    build the identity index from it (names decrypted)."""
    await rebuild_if_outdated(ReadModel(unit, READ_MODEL))
    await create_read_model(unit.engine)
    await unit.run(lambda session: catch_up_index(desk, session))


def build_app(
    settings: Settings,
    registry: EventRegistry = REGISTRY,
    *,
    tracer_provider: TracerProvider | None = None,
    token_verifier: TokenVerifier | None = None,
    biometric_key: bytes | None = None,
    name_index_key: bytes | None = None,
) -> FastAPI:
    runtime = build_runtime(SERVICE, registry, settings, tracer_provider=tracer_provider)
    names = name_tokens(runtime, name_index_key)
    unit = build_unit(runtime, names)
    desk = build_desk(runtime, unit, biometric_key, names)

    allowances = UploadAllowances(runtime.engine)

    @asynccontextmanager
    async def read_model_and_index(_app: FastAPI) -> AsyncIterator[None]:
        await prepare(desk, unit)
        await allowances.create_schema()
        yield

    app = create_service_app(
        runtime,
        ROUTERS,
        token_verifier=token_verifier,
        lifespan_hooks=[read_model_and_index],
        read_model=ReadModel(unit, READ_MODEL),
    )
    app.add_exception_handler(IntegrityError, _on_integrity_error)
    app.state.upload_allowances = allowances
    app.state.registration = desk
    app.state.views = RegistrationViews(runtime.store, names)
    app.state.runtime = runtime
    return app


def create_app() -> FastAPI:
    """The app with settings from the environment (for ``uvicorn --factory``)."""
    return build_app(service_settings(SERVICE))


@asynccontextmanager
async def standalone_desk() -> AsyncIterator[RegistrationDesk]:
    """The command side on the store the environment names, outside the serving process (``ddr lists``):
    its events reach Kafka through the outbox, published by the service's relay."""
    runtime = build_runtime(SERVICE, REGISTRY, service_settings(SERVICE))
    unit = build_unit(runtime)
    desk = build_desk(runtime, unit)
    try:
        await runtime.keystore.create_schema()
        await runtime.store.create_schema()
        await prepare(desk, unit)
        yield desk
    finally:
        await runtime.engine.dispose()
        await runtime.keys_engine.dispose()


lists_app = lists_cli(standalone_desk)
simulate_app = simulate_cli(ListFileWriter)
