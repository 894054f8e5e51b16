"""RFC 9457 problem details: the one error shape every service answers with.

Services raise a :class:`Problem` (or an exception mapped with :func:`register_problem`); the handlers
installed by :func:`install_problem_handlers` render ``application/problem+json``. A body never carries
exception messages of unexpected errors, request input, or anything else that could hold personal data.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from opentelemetry import trace
from opentelemetry.trace import Status, StatusCode
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Problem type URIs identify the kind of problem; they are names, not documents to fetch.
PROBLEM_TYPE_PREFIX = "urn:ddr:problem:"
PROBLEM_CONTENT: dict[str, Any] = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
"""An OpenAPI answer's ``content`` for a problem (the schema ``create_app`` documents)."""

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FieldError:
    """One field at fault: ``field`` is a dotted location such as ``body.name`` or ``query.limit``."""

    field: str
    message: str


class Problem(Exception):
    """An error with an HTTP meaning. Subclasses fix status, title and type; raise them with a detail."""

    status: ClassVar[int] = 500
    title: ClassVar[str] = "Internal Server Error"
    slug: ClassVar[str] = "internal-error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        headers: Mapping[str, str] | None = None,
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = tuple(errors)
        self.headers = dict(headers or {})
        self.extensions = dict(extensions or {})

    @property
    def type(self) -> str:
        return PROBLEM_TYPE_PREFIX + self.slug


class BadRequest(Problem):
    status = 400
    title = "Bad Request"
    slug = "bad-request"


class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"
    slug = "unauthorized"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"
    slug = "forbidden"


class NotFound(Problem):
    status = 404
    title = "Not Found"
    slug = "not-found"


def not_visible(kind: str) -> NotFound:
    """The one answer for a record that does not exist and for one the caller may not see: the same
    status, type, title and detail, so that no caller can tell them apart (nor learn that a child, a
    medical record or another movement's member exists). Raise it for both."""
    return NotFound(f"no such {kind}")


class Conflict(Problem):
    """The request conflicts with the current state, e.g. it was decided on a stale stream version."""

    status = 409
    title = "Conflict"
    slug = "conflict"


class Unprocessable(Problem):
    status = 422
    title = "Unprocessable Content"
    slug = "unprocessable"


class DomainRuleViolated(Unprocessable):
    """A well-formed command the domain refuses; ``rule`` names the rule so clients can react to it."""

    title = "Domain rule violated"
    slug = "domain-rule-violated"

    def __init__(
        self,
        rule: str,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        extensions: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail, errors=errors, extensions={"rule": rule, **(extensions or {})})
        self.rule = rule


class ContentTooLarge(Problem):
    status = 413
    title = "Content Too Large"
    slug = "content-too-large"


class TooManyRequests(Problem):
    status = 429
    title = "Too Many Requests"
    slug = "too-many-requests"


class ServiceUnavailable(Problem):
    status = 503
    title = "Service Unavailable"
    slug = "service-unavailable"


@dataclass(frozen=True)
class ProblemMapping:
    """How an exception type that is not a :class:`Problem` is answered."""

    status: int
    title: str
    slug: str
    detail: Callable[[Exception], str | None]


_registry: dict[type, ProblemMapping] = {}


def register_problem(
    exc_type: type[Exception],
    status: int,
    title: str,
    *,
    slug: str | None = None,
    detail: Callable[[Exception], str | None] = str,
) -> None:
    """Answer ``exc_type`` (and its subclasses) with a problem of ``status`` wherever it escapes a route.

    Lets runtime parts that must not depend on HTTP (the event store's concurrency conflict, say)
    be mapped declaratively. The exception's message becomes the detail unless ``detail`` says
    otherwise, so register only exceptions whose messages hold no personal data.
    """
    if not 400 <= status <= 599:
        raise ValueError(f"a problem's status is 4xx or 5xx, not {status}")
    mapping = ProblemMapping(status, title, slug or _slugify(title), detail)
    existing = _registry.get(exc_type)
    if existing is not None and existing != mapping:
        raise ValueError(f"{exc_type.__qualname__} is already mapped to a different problem")
    _registry[exc_type] = mapping


def registered_problem(exc: BaseException) -> ProblemMapping | None:
    """The mapping of the most specific registered class of ``exc``, if any."""
    for cls in type(exc).__mro__:
        mapping = _registry.get(cls)
        if mapping is not None:
            return mapping
    return None


class ProblemResponse(JSONResponse):
    media_type = PROBLEM_MEDIA_TYPE


def problem_response(
    *,
    status: int,
    title: str,
    type_: str = "about:blank",
    detail: str | None = None,
    instance: str | None = None,
    errors: Sequence[FieldError] = (),
    extensions: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> ProblemResponse:
    """A problem+json response; the trace id is added so an operator can find the request's trace."""
    body: dict[str, Any] = {"type": type_, "title": title, "status": status}
    if detail is not None:
        body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    if errors:
        body["errors"] = [{"field": error.field, "message": error.message} for error in errors]
    body.update(extensions or {})
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        body.setdefault("trace_id", format(span_context.trace_id, "032x"))
    return ProblemResponse(body, status_code=status, headers=dict(headers or {}))


def install_problem_handlers(app: FastAPI) -> None:
    """Render every error leaving ``app`` as problem+json."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_request_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_middleware(LastResortProblemMiddleware)


async def _on_problem(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Problem)
    return problem_response(
        status=exc.status,
        title=exc.title,
        type_=exc.type,
        detail=exc.detail,
        instance=request.url.path,
        errors=exc.errors,
        extensions=exc.extensions,
        headers=exc.headers,
    )


async def _on_request_validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    # Only location and message: pydantic's "input" echoes what was sent, which may be personal data.
    errors = [
        FieldError(".".join(str(part) for part in error["loc"]), str(error["msg"])) for error in exc.errors()
    ]
    return problem_response(
        status=422,
        title="Request validation failed",
        type_=PROBLEM_TYPE_PREFIX + "validation-error",
        detail=f"{len(errors)} field(s) of the request are invalid",
        instance=request.url.path,
        errors=errors,
    )


async def _on_http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    phrase = _phrase(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != phrase else None
    return problem_response(
        status=exc.status_code,
        title=phrase,
        detail=detail,
        instance=request.url.path,
        headers=exc.headers,
    )


class LastResortProblemMiddleware:
    """Answers registered exceptions with their problem, and anything else with a bare 500 problem.

    An ``Exception`` handler would run in Starlette's ServerErrorMiddleware, which re-raises after
    responding so the server logs the traceback with the exception's message: that message can hold
    personal data (an SQL error echoes its parameters). Catching here ends the exception's journey.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        response_started = False

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - this is the last resort: nothing may escape unanswered
            # Answer (and log) first: even when the response has started the error must be recorded.
            response = _answer_unhandled(exc, instance=scope.get("root_path", "") + scope["path"])
            if not response_started:
                await response(scope, receive, send)
            # Otherwise too late for a problem body: the client sees a truncated response.


def _answer_unhandled(exc: Exception, *, instance: str) -> Response:
    mapping = registered_problem(exc)
    if mapping is not None:
        _log.info("mapped %s to status %d", type(exc).__qualname__, mapping.status)
        return problem_response(
            status=mapping.status,
            title=mapping.title,
            type_=PROBLEM_TYPE_PREFIX + mapping.slug,
            detail=mapping.detail(exc),
            instance=instance,
        )
    # The type and the code path say what broke; the message is left out (see the class docstring).
    _log.error(
        "unhandled %s",
        type(exc).__qualname__,
        extra={"exc_type": type(exc).__qualname__, "stack": _frames(exc)},
    )
    span = trace.get_current_span()
    span.set_status(Status(StatusCode.ERROR, type(exc).__qualname__))
    return problem_response(
        status=500,
        title="Internal Server Error",
        type_=PROBLEM_TYPE_PREFIX + "internal-error",
        detail="An unexpected error occurred; it has been logged.",
        instance=instance,
    )


def _frames(exc: BaseException) -> list[str]:
    frames = traceback.extract_tb(exc.__traceback__)
    return [f"{frame.filename}:{frame.lineno} in {frame.name}" for frame in frames]


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _slugify(title: str) -> str:
    return "-".join(title.lower().split())
