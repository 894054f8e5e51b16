"""What every CVR route shares: optional optimistic concurrency (If-Match), responses, error mapping."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from starlette.responses import Response

from ddr_cvr.domain.errors import DomainError, UnknownRecord
from ddr_runtime.http.problems import PROBLEM_TYPE_PREFIX, Problem, problem_response


class PreconditionFailed(Problem):
    status = 412
    title = "Precondition Failed"
    slug = "precondition-failed"


def expected_version(if_match: Annotated[str | None, Header()] = None) -> int | None:
    """The stream version the caller read (``If-Match: "3"``), or None to act on the latest."""
    if if_match is None:
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not value.isdigit():
        raise PreconditionFailed("If-Match must be the ETag you read: a version number")
    return int(value)


ExpectedVersion = Annotated[int | None, Depends(expected_version)]


def json_response(body: Any, status_code: int = 200, version: int | None = None) -> JSONResponse:
    return JSONResponse(
        jsonable_encoder(body),
        status_code=status_code,
        headers={"ETag": f'"{version}"'} if version is not None else None,
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

    app.add_exception_handler(DomainError, on_domain_error)
