"""The schemathesis harness fails on what it must catch: a server error and an answer off its schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from opentelemetry.sdk.trace import TracerProvider
from pydantic import BaseModel

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.http.app import create_app
from ddr_testkit.fuzz import fuzz_openapi


class Count(BaseModel):
    count: int


def faulty_app(tmp_path: Path, issuer: DevelopmentTokenIssuer) -> Any:
    router = APIRouter(dependencies=[Depends(require_roles(Role.AUDITOR))])

    @router.get("/ratio")
    async def ratio(divisor: int) -> dict[str, float]:
        return {"ratio": 1 / divisor}  # divisor=0 is a server error

    @router.get("/count", response_model=Count)
    async def count() -> JSONResponse:
        return JSONResponse({"count": "many"})  # off its schema

    return create_app(
        service_name="fuzz-test",
        settings=Settings(environment="test", var_dir=tmp_path),
        routers=[router],
        token_verifier=TokenVerifier(issuer.public_key_pem, issuer="t", audience="t"),
        tracer_provider=TracerProvider(),
    )


def test_a_server_error_and_an_answer_off_its_schema_are_both_reported(tmp_path: Path) -> None:
    issuer = DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="t", audience="t")

    failures = fuzz_openapi(
        faulty_app(tmp_path, issuer),
        {"auditor": issuer.issue(subject="a", roles=[Role.AUDITOR])},
        max_examples=30,
    )

    assert sorted((f.operation, f.caller) for f in failures) == [
        ("GET /count", "auditor"),
        ("GET /ratio", "auditor"),
    ]
    assert "Server error" in next(f.detail for f in failures if f.operation == "GET /ratio")
