"""Domain refusals as RFC 9457 problems: a limit reached 409, another broken rule 422, both with the rule
and the figures it was decided on; an unknown record 404; a duplicate 409."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from ddr_integration.domain.errors import AlreadyExists, IntegrationError, RuleViolated, UnknownRecord
from ddr_runtime.http.problems import PROBLEM_TYPE_PREFIX, problem_response


def install_error_mapping(app: FastAPI) -> None:
    async def on_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, IntegrationError)
        if isinstance(exc, RuleViolated):
            status = 409 if exc.capacity else 422
            return problem_response(
                status=status,
                title="Limit reached" if exc.capacity else "Domain rule violated",
                type_=PROBLEM_TYPE_PREFIX + ("limit-reached" if exc.capacity else "domain-rule-violated"),
                detail=exc.message,
                instance=request.url.path,
                extensions={"rule": exc.rule, "figures": exc.figures, **_top_level(exc)},
            )
        if isinstance(exc, UnknownRecord):
            return problem_response(
                status=404,
                title="Not Found",
                type_=PROBLEM_TYPE_PREFIX + "not-found",
                detail=str(exc),
                instance=request.url.path,
            )
        assert isinstance(exc, AlreadyExists)
        return problem_response(
            status=409,
            title="Conflict",
            type_=PROBLEM_TYPE_PREFIX + "conflict",
            detail=str(exc),
            instance=request.url.path,
        )

    app.add_exception_handler(IntegrationError, on_error)


def _top_level(exc: RuleViolated) -> dict[str, object]:
    """``used``/``limit`` of a quota refusal also at the top level, where clients look for them first."""
    return {k: exc.figures[k] for k in ("used", "limit") if k in exc.figures}
