"""The one HTTP write protocol of every service.

* ``If-Match`` carries the stream version the caller read: missing where required 428, not a version 412,
  stale 409 (the store's :class:`ConcurrencyConflict`). Answers carry the new version as ``ETag``.
* ``Idempotency-Key`` on any POST: the first request runs, a retry gets the same answer (status, body,
  ``ETag``, ``Location``) and records nothing again (see :mod:`ddr_runtime.http.idempotency`).
* A domain refusal maps to one problem type, declared once here for every service.
* Business time: a command states when its fact happened; ``Back-Recording-Reason`` with the records
  officer's role allows facts older than the window (:class:`ddr_runtime.kernel.Recording`).
* Bulk commands answer item by item (each item's index, status, and its rule when refused); with
  ``atomic=true`` they record all or nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from fastapi import Depends, FastAPI, Header, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.responses import Response

from ddr_runtime.auth.dependencies import CurrentPrincipal
from ddr_runtime.auth.roles import Role
from ddr_runtime.eventstore.ports import BulkRefused, Causation, ItemOutcome
from ddr_runtime.eventstore.ports import CommandContext as CommandContext  # re-exported: its former home
from ddr_runtime.http.problems import PROBLEM_TYPE_PREFIX, FieldError, Problem, problem_response
from ddr_runtime.kernel import (
    BACK_RECORDING_ROLE,
    AlreadyDone,
    BackRecording,
    DomainError,
    LimitReached,
    OutsideRemit,
    Recording,
    UnknownRecord,
)

BACK_RECORDING_HEADER = "Back-Recording-Reason"
IDEMPOTENCY_HEADER = "Idempotency-Key"


class PreconditionRequired(Problem):
    status = 428
    title = "Precondition Required"
    slug = "precondition-required"


class PreconditionFailed(Problem):
    status = 412
    title = "Precondition Failed"
    slug = "precondition-failed"


# -- optimistic concurrency -----------------------------------------------------------------------------


def _parse_version(if_match: str) -> int:
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed("If-Match must be the ETag you read: a version number")
    return int(value)


def expected_version(if_match: Annotated[str | None, Header()] = None) -> int:
    """The stream version the caller read (``If-Match: "3"``): 428 without it, 412 if it is not one."""
    if if_match is None:
        raise PreconditionRequired("send If-Match with the version (ETag) you read")
    return _parse_version(if_match)


def maybe_expected_version(if_match: Annotated[str | None, Header()] = None) -> int | None:
    """The stream version the caller read, where sending it is optional (``None``: decide on the latest)."""
    return None if if_match is None else _parse_version(if_match)


ExpectedVersion = Annotated[int, Depends(expected_version)]
MaybeExpectedVersion = Annotated[int | None, Depends(maybe_expected_version)]


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def json_response(
    body: Any,
    status_code: int = 200,
    *,
    version: int | None = None,
    location: str | None = None,
    content_location: str | None = None,
) -> JSONResponse:
    """A JSON answer with the record's version as ``ETag`` and, for a created record, its ``Location``.

    ``content_location`` names the route that reads the record this answer shows: give it whenever the
    answer holds a person's data, so a replay of the write reads the record again instead of keeping it.
    """
    headers: dict[str, str] = etag(version) if version is not None else {}
    if location is not None:
        headers["Location"] = location
    if content_location is not None:
        headers["Content-Location"] = content_location
    return JSONResponse(jsonable_encoder(body), status_code=status_code, headers=headers or None)


# -- business time and the command's context ------------------------------------------------------------


def back_recording_window(request: Request) -> timedelta:
    settings = getattr(request.app.state, "settings", None)
    days = getattr(settings, "back_recording_window_days", None)
    return timedelta(days=days) if isinstance(days, int) else Recording().window


async def command_context(
    request: Request,
    principal: CurrentPrincipal,
    reason: Annotated[
        str | None,
        Header(
            alias=BACK_RECORDING_HEADER,
            min_length=3,
            max_length=300,
            description=(
                "Why facts older than the back-recording window are recorded now (records officers only). "
                "Kept in clear in each such event's envelope: never write anything about a person here."
            ),
        ),
    ] = None,
) -> CommandContext:
    window = back_recording_window(request)
    authority = (
        BackRecording(BACK_RECORDING_ROLE, reason.strip())
        if reason and reason.strip() and principal.has_role(Role(BACK_RECORDING_ROLE))
        else None
    )
    recording = Recording(window=window, authority=authority)
    causation = Causation(actor=principal.subject, back_recording=authority, window=window)
    return CommandContext(principal, recording, causation)


Command = Annotated[CommandContext, Depends(command_context)]


# -- bulk commands --------------------------------------------------------------------------------------

Atomic = Annotated[
    bool,
    Query(
        description="true: record every item or none (one refusal refuses the batch); default: item by item"
    ),
]


class BulkItemAnswer(BaseModel):
    index: int = Field(description="The item's position in the request, from 0")
    key: str | None = Field(default=None, description="What the item names (a person, a case, a tranche)")
    status: Literal["recorded", "refused"]
    rule: str | None = None
    detail: str | None = None
    figures: dict[str, Any] = Field(default_factory=dict)
    result: Any = None


class BulkAnswer(BaseModel):
    recorded: int
    refused: int
    items: list[BulkItemAnswer]


def bulk_answer(
    outcomes: Sequence[ItemOutcome[Any]],
    key: Callable[[int], str | None] = lambda _index: None,
    result: Callable[[Any], Any] = lambda value: value,
) -> BulkAnswer:
    """The answer of a bulk command: counts, then every item with its status, naming the item it refuses."""
    items = [
        BulkItemAnswer(
            index=outcome.index,
            key=outcome.key if outcome.key is not None else key(outcome.index),
            status=outcome.status,
            rule=outcome.rule,
            detail=outcome.detail,
            figures=outcome.figures,
            result=result(outcome.result) if outcome.status == "recorded" else None,
        )
        for outcome in outcomes
    ]
    return BulkAnswer(
        recorded=sum(1 for item in items if item.status == "recorded"),
        refused=sum(1 for item in items if item.status == "refused"),
        items=items,
    )


# -- domain refusals as problems ------------------------------------------------------------------------


@dataclass(frozen=True)
class DomainProblem:
    status: int
    title: str
    slug: str


DOMAIN_PROBLEMS: dict[type[DomainError], DomainProblem] = {
    UnknownRecord: DomainProblem(404, "Not Found", "not-found"),
    OutsideRemit: DomainProblem(403, "Forbidden", "forbidden"),
    LimitReached: DomainProblem(409, "Limit reached", "limit-reached"),
    AlreadyDone: DomainProblem(409, "Conflict", "conflict"),
    BulkRefused: DomainProblem(422, "Items refused", "bulk-refused"),
    DomainError: DomainProblem(422, "Domain rule violated", "domain-rule-violated"),
}
"""Each kind of refusal and its problem; the most specific class of a refusal wins."""

_RESERVED = frozenset({"type", "title", "status", "detail", "instance", "errors", "rule", "figures", "items"})


def domain_problem_of(error: DomainError) -> DomainProblem:
    for cls in type(error).__mro__:
        found = DOMAIN_PROBLEMS.get(cls)
        if found is not None:
            return found
    return DOMAIN_PROBLEMS[DomainError]


def install_domain_problems(app: FastAPI) -> None:
    """Render the kernel's refusals as problems: a rule and the figures it was decided on, never input."""

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        problem = domain_problem_of(exc)
        errors: list[FieldError] = []
        extensions: dict[str, Any] = {}
        if not isinstance(exc, UnknownRecord):
            extensions = {"rule": exc.rule, "figures": exc.figures}
            extensions.update({k: v for k, v in exc.figures.items() if k not in _RESERVED})
        if isinstance(exc, BulkRefused):
            refused = [o for o in exc.outcomes if o.status == "refused"]
            errors = [FieldError(f"body.items[{o.index}]", f"{o.rule}: {o.detail}") for o in refused]
            extensions["items"] = bulk_answer(exc.outcomes, key=exc.key).model_dump()["items"]
        return problem_response(
            status=problem.status,
            title=problem.title,
            type_=PROBLEM_TYPE_PREFIX + problem.slug,
            detail=exc.detail,
            instance=request.url.path,
            errors=errors,
            extensions=extensions,
        )

    app.add_exception_handler(DomainError, on_domain_error)
