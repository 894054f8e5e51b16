"""Errors leave a service as RFC 9457 problem+json, never as a bare 500 or a leak of internals."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends, HTTPException
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.http.app import create_app
from ddr_runtime.http.problems import DomainRuleViolated, NotFound, register_problem

PROBLEM_JSON = "application/problem+json"
PERSONAL_NAME = "Mohamed Ag Intalla"


class StaleDecisionError(Exception):
    """Stands in for a runtime error (the event store's conflict) mapped without HTTP knowledge."""


register_problem(StaleDecisionError, 409, "Stale decision")

Registrar = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER))]


class PersonCreate(BaseModel):
    name: str
    age: int


def people_router() -> APIRouter:
    router = APIRouter(prefix="/people")

    @router.post("")
    async def pre_register(person: PersonCreate, _: Registrar) -> dict[str, str]:
        return {"name": person.name}

    @router.get("/missing")
    async def missing(_: Registrar) -> None:
        raise NotFound("no person p-404")

    @router.post("/stale")
    async def stale(_: Registrar) -> None:
        raise StaleDecisionError("stream person-1: expected version 3, found version 4")

    @router.post("/minor")
    async def minor(_: Registrar) -> None:
        raise DomainRuleViolated("child-separation", "a person under 18 cannot be cantoned")

    @router.get("/teapot")
    async def teapot(_: Registrar) -> None:
        raise HTTPException(status_code=429, detail="slow down", headers={"Retry-After": "30"})

    @router.get("/crash")
    async def crash(_: Registrar) -> None:
        raise RuntimeError(f"duplicate key for {PERSONAL_NAME}")

    return router


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    issuer = DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="ddr", audience="ddr")
    app = create_app(
        service_name="problems-test",
        settings=Settings(environment="test", var_dir=tmp_path),
        routers=[people_router()],
        token_verifier=TokenVerifier(issuer.public_key_pem, issuer="ddr", audience="ddr"),
        tracer_provider=TracerProvider(),
    )
    token = issuer.issue(subject="officer-1", roles=[Role.CNDDR_OFFICER], ttl=timedelta(minutes=5))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://test",
        headers={"Authorization": f"Bearer {token}"},
    ) as http:
        yield http


async def test_a_bad_body_is_a_422_problem_naming_the_field_at_fault(client: httpx.AsyncClient) -> None:
    response = await client.post("/people", json={"age": "about forty"})

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["status"] == 422
    assert problem["instance"] == "/people"
    fields = {error["field"] for error in problem["errors"]}
    assert fields == {"body.name", "body.age"}


async def test_a_validation_problem_does_not_echo_the_input(client: httpx.AsyncClient) -> None:
    response = await client.post("/people", json={"name": PERSONAL_NAME, "age": "unknown"})

    assert response.status_code == 422
    assert PERSONAL_NAME not in response.text


async def test_a_body_that_is_not_json_is_a_422_problem(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/people", content=b"{not json", headers={"content-type": "application/json"}
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM_JSON


async def test_a_raised_problem_keeps_its_status_and_detail(client: httpx.AsyncClient) -> None:
    response = await client.get("/people/missing")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["detail"] == "no person p-404"
    assert response.json()["type"] == "urn:ddr:problem:not-found"


async def test_a_registered_exception_maps_to_its_status(client: httpx.AsyncClient) -> None:
    response = await client.post("/people/stale")

    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM_JSON
    problem = response.json()
    assert problem["title"] == "Stale decision"
    assert problem["detail"] == "stream person-1: expected version 3, found version 4"


async def test_a_violated_domain_rule_is_a_422_naming_the_rule(client: httpx.AsyncClient) -> None:
    response = await client.post("/people/minor")

    assert response.status_code == 422
    assert response.json()["rule"] == "child-separation"


async def test_an_http_exception_becomes_a_problem_keeping_its_headers(client: httpx.AsyncClient) -> None:
    response = await client.get("/people/teapot")

    assert response.status_code == 429
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["retry-after"] == "30"
    assert response.json()["title"] == "Too Many Requests"
    assert response.json()["detail"] == "slow down"


async def test_an_unknown_path_is_a_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")

    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["title"] == "Not Found"


async def test_an_unexpected_error_is_a_500_problem_without_internals(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = await client.get("/people/crash")

    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["title"] == "Internal Server Error"
    for leak in (PERSONAL_NAME, "RuntimeError", "Traceback", "duplicate key"):
        assert leak not in response.text
    assert "RuntimeError" in caplog.text  # logged for the operator...
    assert PERSONAL_NAME not in caplog.text  # ...without the message's personal data


def test_mapping_an_exception_to_a_second_status_is_refused() -> None:
    with pytest.raises(ValueError, match="already mapped"):
        register_problem(StaleDecisionError, 422, "Something else")


def test_a_missing_record_and_a_forbidden_one_get_the_same_problem() -> None:
    from ddr_runtime.http.problems import not_visible

    missing, forbidden = not_visible("person"), not_visible("person")

    assert (missing.status, missing.type, missing.title, missing.detail) == (
        forbidden.status, forbidden.type, forbidden.title, forbidden.detail,
    ) == (404, "urn:ddr:problem:not-found", "Not Found", "no such person")  # fmt: skip
