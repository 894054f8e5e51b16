"""Domain refusals as RFC 9457 problems: unknown 404, conflicting with the past 409, a broken rule 422."""

from __future__ import annotations

from fastapi import FastAPI, Request
from starlette.responses import Response

from ddr_reinsertion.domain.errors import AlreadyDone, ReinsertionError
from ddr_reinsertion.service_layer.results import Refused
from ddr_runtime.http.problems import PROBLEM_TYPE_PREFIX, problem_response


def refused_response(refusal: Refused, instance: str) -> Response:
    status = 404 if refusal.rule.startswith("unknown_") else 409 if refusal.conflict else 422
    return problem_response(
        status=status,
        title={404: "Not Found", 409: "Conflict", 422: "Domain rule violated"}[status],
        type_=PROBLEM_TYPE_PREFIX + {404: "not-found", 409: "conflict", 422: "domain-rule-violated"}[status],
        detail=refusal.detail,
        instance=instance,
        extensions={"rule": refusal.rule},
    )


def install_error_mapping(app: FastAPI) -> None:
    async def on_refusal(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ReinsertionError)
        refusal = Refused("", exc.rule, exc.detail, conflict=isinstance(exc, AlreadyDone))
        return refused_response(refusal, request.url.path)

    app.add_exception_handler(ReinsertionError, on_refusal)
