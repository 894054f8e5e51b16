"""What the screening routes share: idempotent POSTs (``Idempotency-Key``) and the mapping of domain errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from starlette.responses import Response

from ddr_runtime.auth.roles import Principal
from ddr_runtime.http.idempotency import IdempotencyStore
from ddr_runtime.http.problems import (
    PROBLEM_TYPE_PREFIX,
    Conflict,
    FieldError,
    Unprocessable,
    problem_response,
)
from ddr_screening.domain.errors import DomainError, UnknownRecord
from ddr_screening.service_layer.handlers import BulkRefused

REPLAYED_HEADER = "Idempotent-Replayed"
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def json_response(body: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=status_code)


async def idempotent(
    store: IdempotencyStore,
    principal: Principal,
    key: str | None,
    request: Request,
    fingerprint: str,
    run: Callable[[], Awaitable[JSONResponse]],
) -> Response:
    """Run once per (caller, key): a retry gets the stored answer and records nothing again; the same key
    with another request is refused (422). Without a key, just run."""
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
        await store.complete(
            principal.subject, key, response.status_code, json.loads(bytes(response.body)), {}
        )
        return response
    if stored.request_hash != request_hash:
        raise Unprocessable("this Idempotency-Key was used for a different request")
    if stored.status_code is None:
        raise Conflict("a request with this Idempotency-Key is still being processed; retry later")
    return JSONResponse(stored.body, status_code=stored.status_code, headers={REPLAYED_HEADER: "true"})


def install_error_mapping(app: FastAPI) -> None:
    """Domain refusals become problems: an unknown record 404, a broken rule 422 naming the rule."""

    async def on_domain_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        unknown = isinstance(exc, UnknownRecord)
        extensions: dict[str, Any] | None = None if unknown else {"rule": exc.rule}
        errors: list[FieldError] = []
        if isinstance(exc, BulkRefused):
            errors = [
                FieldError(f"body.items[{index}]", f"{error.rule}: {error.detail}")
                for index, error in sorted(exc.items.items())
            ]
        return problem_response(
            errors=errors,
            status=404 if unknown else 422,
            title="Not Found" if unknown else "Domain rule violated",
            type_=PROBLEM_TYPE_PREFIX + ("not-found" if unknown else "domain-rule-violated"),
            detail=exc.detail,
            instance=request.url.path,
            extensions=extensions,
        )

    app.add_exception_handler(DomainError, on_domain_error)
