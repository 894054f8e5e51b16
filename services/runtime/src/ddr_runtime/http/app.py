"""The app factory every service builds its HTTP entry point with."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from typing import Any

from fastapi import APIRouter, Depends, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.responses import JSONResponse
from fastapi.routing import RouteContext, iter_route_contexts
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from starlette.routing import BaseRoute

from ddr_runtime.auth.dependencies import AccessRequirement, public_route
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import PlatformSettings
from ddr_runtime.http.idempotency import IdempotencyMiddleware
from ddr_runtime.http.limits import BodyLimit
from ddr_runtime.http.problems import (
    PROBLEM_CONTENT,
    PROBLEM_TYPE_PREFIX,
    install_problem_handlers,
    problem_response,
)
from ddr_runtime.http.writes import IDEMPOTENCY_HEADER, install_domain_problems
from ddr_runtime.telemetry import configure_telemetry, scrub_server_span

ReadinessCheck = tuple[str, Callable[[], Awaitable[None]]]
"""A name and an async probe that returns when the dependency is usable and raises when it is not."""

LifespanHook = Callable[[FastAPI], AbstractAsyncContextManager[object]]
"""Something living as long as the app (a broker, an outbox relay): entered at start-up, left at shutdown."""

HEALTH_PATHS = ("/healthz", "/readyz")

_log = logging.getLogger(__name__)


class UnprotectedRouteError(RuntimeError):
    """A route declares neither the roles allowed to call it nor that it is public."""


def create_app(
    *,
    service_name: str,
    settings: PlatformSettings,
    routers: Sequence[APIRouter] = (),
    readiness_checks: Sequence[ReadinessCheck] = (),
    lifespan_hooks: Sequence[LifespanHook] = (),
    token_verifier: TokenVerifier | None = None,
    tracer_provider: TracerProvider | None = None,
    readiness_timeout: float = 2.0,
) -> FastAPI:
    """A service's FastAPI app: its routers behind auth, health probes, problem+json errors, tracing.

    Lifespan hooks start in the order given and stop in reverse. Each readiness check gets
    ``readiness_timeout`` seconds (keep the orchestrator's probe timeout above it). Without
    ``token_verifier`` the verifier comes from ``settings``; without ``tracer_provider`` the
    process-wide one is configured.
    Every request's body is bounded by ``settings.max_body_bytes`` (413 beyond), or by the route's own
    ``ddr_runtime.http.limits.body_limit``.
    Raises UnprotectedRouteError if a route of ``routers`` declares no ``require_roles``/``public_route``.
    """
    verifier = token_verifier or TokenVerifier.from_settings(settings)
    provider = tracer_provider or configure_telemetry(service_name, settings)
    app = FastAPI(
        title=f"DDR {service_name}",
        lifespan=_compose_lifespan(lifespan_hooks),
        # FastAPI's own telemetry would duplicate the instrumentor's spans, and its logs record
        # request input and exception messages, which may hold personal data.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.service_name = service_name
    app.state.settings = settings
    app.state.token_verifier = verifier

    framework_routes = {id(route) for route in app.routes}  # the OpenAPI and docs pages of FastAPI
    app.include_router(_health_router(readiness_checks, readiness_timeout))
    for router in routers:
        app.include_router(router)
    ensure_routes_declare_access([route for route in app.routes if id(route) not in framework_routes])

    install_problem_handlers(app)
    install_domain_problems(app)
    # Outermost but for the instrumentation: a replayed answer is traced, and errors inside are problems.
    app.add_middleware(IdempotencyMiddleware)
    # Outside the idempotency middleware, which reads a POST's body whole: a body over its bound is never read.
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    _document_protocol(app)
    FastAPIInstrumentor.instrument_app(
        app,
        tracer_provider=provider,
        excluded_urls=",".join(HEALTH_PATHS),  # probes every few seconds would drown the real traces
        exclude_spans=["receive", "send"],
        server_request_hook=scrub_server_span,  # no URL with its query string stays on a span
    )
    return app


# The error answers every route may give, documented once here for every service (problem+json).
_READ_ERRORS = {404: "Not Found", 422: "The request is invalid (each field at fault is named)"}
_AUTH_ERRORS = {
    401: "No bearer token, or one that is invalid, expired or revoked",
    403: "The caller's roles do not allow this",
    503: "The token revocation list cannot be checked right now",
}
_WRITE_ERRORS = {
    409: "Conflict: the record changed since it was read, or the command was already done",
    410: "Gone: this person's data was erased",
    412: "Precondition Failed: If-Match names an older version",
    428: "Precondition Required: this change needs If-Match",
}
_WRITE_METHODS = ("post", "put", "patch", "delete")
_BODY_ERRORS = {413: "Content Too Large: the body is over this route's bound"}
_BODY_METHODS = ("post", "put", "patch")
PROBLEM_SCHEMA: dict[str, object] = {
    "type": "object",
    "description": "RFC 9457 problem details",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "trace_id": {"type": "string"},
    },
    "additionalProperties": True,
}


def _document_protocol(app: FastAPI) -> None:
    """Say in the OpenAPI document what every route shares: the error answers as problem+json (401, 403
    and 503 where a token is needed; 404 and 422 everywhere; 409, 410, 412 and 428 on writes; 413 where a
    body is taken), and the
    ``Idempotency-Key`` every POST accepts (the middleware applies it)."""
    build = app.openapi

    def openapi() -> dict[str, object]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        schema = build()
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas["Problem"] = PROBLEM_SCHEMA
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                if isinstance(operation, dict) and "responses" in operation:
                    _document_errors(method, operation)
            operation = path_item.get("post")
            if operation is not None:
                _document_idempotency(operation)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_errors(method: str, operation: dict[str, Any]) -> None:
    errors = dict(_READ_ERRORS)
    if operation.get("security"):
        errors |= _AUTH_ERRORS
    if method in _WRITE_METHODS:
        errors |= _WRITE_ERRORS
    if method in _BODY_METHODS:
        errors |= _BODY_ERRORS
    responses: dict[str, Any] = operation["responses"]
    for status, description in errors.items():
        existing = responses.get(str(status))
        # FastAPI documents its own 422 as application/json; ours is a problem.
        if existing is None or "HTTPValidationError" in str(existing):
            responses[str(status)] = {
                "description": description,
                "content": PROBLEM_CONTENT,
            }


def _document_idempotency(operation: dict[str, Any]) -> None:
    parameters = operation.setdefault("parameters", [])
    if not any(p.get("name") == IDEMPOTENCY_HEADER for p in parameters):
        parameters.append(
            {
                "name": IDEMPOTENCY_HEADER,
                "in": "header",
                "required": False,
                "schema": {"type": "string", "maxLength": 200},
                "description": "Sent again with the same request, the first answer is replayed "
                "(header Idempotent-Replayed: true) and nothing is recorded twice; kept 24 hours.",
            }
        )


def ensure_routes_declare_access(routes: Sequence[BaseRoute]) -> None:
    """Raise UnprotectedRouteError naming every route without a role requirement or public marker.

    Routes are seen as served, after inclusion, so dependencies given to a router or to
    ``include_router`` count. A plain Starlette route or mount cannot declare dependencies, so it fails.
    """
    unprotected = [
        _describe(context) for context in iter_route_contexts(routes) if not _declares_access(context)
    ]
    if unprotected:
        raise UnprotectedRouteError(
            "routes must depend on require_roles(...) or public_route: " + ", ".join(unprotected)
        )


def _declares_access(context: RouteContext) -> bool:
    # The effective dependant of an included route, with its routers' dependencies; none for plain routes.
    dependant = getattr(context, "dependant", None)
    return isinstance(dependant, Dependant) and _has_access_dependency(dependant)


def _has_access_dependency(dependant: Dependant) -> bool:
    # Walk the whole tree: a requirement may sit in a router's dependencies or inside another dependency.
    return any(
        isinstance(sub.call, AccessRequirement) or sub.call is public_route or _has_access_dependency(sub)
        for sub in dependant.dependencies
    )


def _describe(context: RouteContext) -> str:
    methods = "|".join(sorted(context.methods or [])) or type(context.original_route).__name__
    return f"{methods} {context.path}"


def _compose_lifespan(
    hooks: Sequence[LifespanHook],
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The exit stack unwinds in reverse, and unwinds the hooks already started if a later one fails.
        async with AsyncExitStack() as stack:
            for hook in hooks:
                await stack.enter_async_context(hook(app))
            yield

    return lifespan


def _health_router(checks: Sequence[ReadinessCheck], timeout: float) -> APIRouter:
    router = APIRouter(tags=["health"], dependencies=[Depends(public_route)])

    @router.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "alive"}

    @router.get(
        "/readyz",
        responses={
            503: {
                "description": "A dependency does not answer its probe",
                "content": PROBLEM_CONTENT,
            }
        },
    )
    async def readyz() -> JSONResponse:
        """Readiness: every dependency (event store, Kafka...) answers its probe."""
        outcomes = await asyncio.gather(*(_probe(name, check, timeout) for name, check in checks))
        results = {name: "ok" if ok else "failed" for (name, _), ok in zip(checks, outcomes, strict=True)}
        failing = [name for name, result in results.items() if result != "ok"]
        if not failing:
            return JSONResponse({"status": "ready", "checks": results})
        return problem_response(
            status=503,
            title="Service Unavailable",
            type_=PROBLEM_TYPE_PREFIX + "not-ready",
            detail="failing readiness checks: " + ", ".join(failing),
            instance="/readyz",
            extensions={"checks": results},
        )

    return router


async def _probe(name: str, check: Callable[[], Awaitable[None]], seconds: float) -> bool:
    try:
        async with asyncio.timeout(seconds):
            await check()
    except Exception as error:  # noqa: BLE001 - a probe may fail any way; /readyz must still answer
        # The type only: a driver's message may quote a connection string with its password.
        _log.warning("readiness check %s failed: %s", name, type(error).__qualname__)
        return False
    return True
