"""What every registration route shares: optimistic concurrency headers, idempotent POSTs, error mapping."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from starlette.responses import Response

from ddr_registration.adapters.list_files import ListFileError
from ddr_registration.domain.errors import DomainError, UnknownRecord
from ddr_runtime.auth.roles import Principal
from ddr_runtime.http.idempotency import IdempotencyStore
from ddr_runtime.http.problems import (
    PROBLEM_TYPE_PREFIX,
    Conflict,
    Problem,
    Unprocessable,
    problem_response,
)

REPLAYED_HEADER = "Idempotent-Replayed"
_KEPT_HEADERS = ("etag", "location")


class PreconditionRequired(Problem):
    status = 428
    title = "Precondition Required"
    slug = "precondition-required"


class PreconditionFailed(Problem):
    status = 412
    title = "Precondition Failed"
    slug = "precondition-failed"


def expected_version(if_match: Annotated[str | None, Header()] = None) -> int:
    """The stream version the caller read (``If-Match: "3"``): 428 without it, 412 if it is not one."""
    if if_match is None:
        raise PreconditionRequired("send If-Match with the version (ETag) you read")
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed("If-Match must be the ETag you read: a version number")
    return int(value)


ExpectedVersion = Annotated[int, Depends(expected_version)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def etag(version: int) -> dict[str, str]:
    return {"ETag": f'"{version}"'}


def json_response(body: Any, status_code: int = 200, version: int | None = None) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(body),
        status_code=status_code,
        headers=etag(version) if version is not None else None,
    )


async def idempotent(
    store: IdempotencyStore,
    principal: Principal,
    key: str | None,
    request: Request,
    fingerprint: str,
    run: Callable[[], Awaitable[JSONResponse]],
) -> Response:
    """Run ``run`` once per (caller, key): the same key and request again get the stored answer and add
    no event; the same key with another request is refused (422). Without a key, just run."""
    if key is None:
        return await run()
    request_hash = hashlib.sha256(f"{request.method} {request.url.path}\n{fingerprint}".encode()).hexdigest()
    stored = await store.claim(principal.subject, key, request_hash)
    if stored is None:
        try:
            response = await run()
        except BaseException:
            await store.release(principal.subject, key)
            raise
        headers = {k: v for k, v in response.headers.items() if k.lower() in _KEPT_HEADERS}
        await store.complete(
            principal.subject, key, response.status_code, json.loads(bytes(response.body)), headers
        )
        return response
    if stored.request_hash != request_hash:
        raise Unprocessable("this Idempotency-Key was used for a different request")
    if stored.status_code is None:
        raise Conflict("a request with this Idempotency-Key is still being processed; retry later")
    return JSONResponse(
        stored.body, status_code=stored.status_code, headers={**stored.headers, REPLAYED_HEADER: "true"}
    )


def install_error_mapping(app: FastAPI) -> None:
    """Domain refusals become problems: an unknown record 404, a broken rule 422 naming the rule."""

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        unknown = isinstance(exc, UnknownRecord)
        return problem_response(
            status=404 if unknown else 422,
            title="Not Found" if unknown else "Domain rule violated",
            type_=PROBLEM_TYPE_PREFIX + ("not-found" if unknown else "domain-rule-violated"),
            detail=exc.detail,
            instance=request.url.path,
            extensions=None if unknown else {"rule": exc.rule},
        )

    async def on_list_file_error(request: Request, exc: Exception) -> Response:
        return problem_response(
            status=422,
            title="Unreadable list file",
            type_=PROBLEM_TYPE_PREFIX + "unreadable-list-file",
            detail=str(exc),
            instance=request.url.path,
        )

    async def on_integrity_error(request: Request, _exc: Exception) -> Response:
        # A unique rule of the read model caught a concurrent write (say, the same file imported twice at
        # once). The driver's message quotes the row, which may be personal: it is not passed on.
        return problem_response(
            status=409,
            title="Conflict",
            type_=PROBLEM_TYPE_PREFIX + "conflict",
            detail="a concurrent request changed the same records; read them again and retry",
            instance=request.url.path,
        )

    app.add_exception_handler(DomainError, on_domain_error)
    app.add_exception_handler(IntegrityError, on_integrity_error)
    app.add_exception_handler(ListFileError, on_list_file_error)
