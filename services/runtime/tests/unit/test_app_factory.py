"""The service app factory: health probes, lifespan hooks, and no route left unprotected."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends, FastAPI
from opentelemetry.sdk.trace import TracerProvider

from ddr_runtime.auth.dependencies import public_route, require_roles
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.http.app import LifespanHook, ReadinessCheck, UnprotectedRouteError, create_app


def build(
    tmp_path: Path,
    *,
    routers: Sequence[APIRouter] = (),
    checks: Sequence[ReadinessCheck] = (),
    hooks: Sequence[LifespanHook] = (),
) -> FastAPI:
    issuer = DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="ddr", audience="ddr")
    return create_app(
        service_name="factory-test",
        settings=Settings(environment="test", var_dir=tmp_path),
        routers=routers,
        readiness_checks=checks,
        lifespan_hooks=hooks,
        token_verifier=TokenVerifier(issuer.public_key_pem, issuer="ddr", audience="ddr"),
        tracer_provider=TracerProvider(),
        readiness_timeout=0.2,
    )


@asynccontextmanager
async def client_of(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


async def passes() -> None:
    return None


async def fails() -> None:
    raise ConnectionError("broker at kafka:9092 refused the connection")


async def hangs() -> None:
    await asyncio.sleep(10)


async def test_healthz_answers_alive_without_a_token(tmp_path: Path) -> None:
    async with client_of(build(tmp_path)) as client:
        response = await client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "alive"}


async def test_readyz_is_200_when_every_check_passes(tmp_path: Path) -> None:
    app = build(tmp_path, checks=[("store", passes), ("kafka", passes)])

    async with client_of(app) as client:
        response = await client.get("/readyz")

    assert response.status_code == 200
    assert response.json() == {"status": "ready", "checks": {"store": "ok", "kafka": "ok"}}


async def test_readyz_is_a_503_problem_naming_the_failing_check(tmp_path: Path) -> None:
    app = build(tmp_path, checks=[("store", passes), ("kafka", fails)])

    async with client_of(app) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert "kafka" in problem["detail"]
    assert "store" not in problem["detail"]
    assert problem["checks"] == {"store": "ok", "kafka": "failed"}
    assert "9092" not in response.text


async def test_a_check_that_hangs_fails_readiness_after_the_timeout(tmp_path: Path) -> None:
    app = build(tmp_path, checks=[("store", hangs)])

    async with client_of(app) as client:
        response = await client.get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"] == {"store": "failed"}


def test_a_route_without_declared_roles_makes_create_app_raise(tmp_path: Path) -> None:
    router = APIRouter(prefix="/people")

    @router.get("/protected", dependencies=[Depends(require_roles(Role.CNDDR_OFFICER))])
    async def protected() -> None: ...

    @router.get("/forgotten")
    async def forgotten() -> None: ...

    with pytest.raises(UnprotectedRouteError, match="/people/forgotten") as raised:
        build(tmp_path, routers=[router])
    assert "/people/protected" not in str(raised.value)


def test_roles_declared_on_an_included_router_protect_its_routes(tmp_path: Path) -> None:
    inner = APIRouter()

    @inner.get("/lists")
    async def lists() -> None: ...

    outer = APIRouter(prefix="/cts", dependencies=[Depends(require_roles(Role.CTS_OFFICER))])
    outer.include_router(inner)

    build(tmp_path, routers=[outer])


async def test_a_route_marked_public_needs_no_token(tmp_path: Path) -> None:
    router = APIRouter()

    @router.get("/figures", dependencies=[Depends(public_route)])
    async def figures() -> dict[str, int]:
        return {"projects": 65}

    async with client_of(build(tmp_path, routers=[router])) as client:
        response = await client.get("/figures")

    assert response.status_code == 200


async def test_lifespan_hooks_start_in_order_and_stop_in_reverse(tmp_path: Path) -> None:
    journal: list[str] = []

    def hook(name: str) -> LifespanHook:
        @asynccontextmanager
        async def run(app: FastAPI) -> AsyncIterator[None]:
            journal.append(f"start {name}")
            yield
            journal.append(f"stop {name}")

        return run

    app = build(tmp_path, hooks=[hook("broker"), hook("relay")])

    async with app.router.lifespan_context(app):
        assert journal == ["start broker", "start relay"]
    assert journal == ["start broker", "start relay", "stop relay", "stop broker"]


async def test_without_a_verifier_the_app_trusts_the_development_key(tmp_path: Path) -> None:
    router = APIRouter()

    @router.get("/audit", dependencies=[Depends(require_roles(Role.AUDITOR))])
    async def audit() -> dict[str, str]:
        return {"status": "ok"}

    settings = Settings(environment="development", var_dir=tmp_path)
    app = create_app(
        service_name="factory-test", settings=settings, routers=[router], tracer_provider=TracerProvider()
    )
    token = DevelopmentTokenIssuer.from_settings(settings).issue(subject="a1", roles=[Role.AUDITOR])

    async with client_of(app) as client:
        response = await client.get("/audit", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 200


def test_every_route_documents_its_error_answers_as_problems(tmp_path: Path) -> None:
    router = APIRouter(dependencies=[Depends(require_roles(Role.CNDDR_OFFICER))])

    @router.get("/cases/{case_id}")
    async def case(case_id: str) -> dict[str, str]:
        return {"case_id": case_id}

    @router.post("/cases")
    async def open_case(body: dict[str, str]) -> dict[str, str]:
        return body

    schema = build(tmp_path, routers=[router]).openapi()
    paths = schema["paths"]
    read = paths["/cases/{case_id}"]["get"]["responses"]
    write = paths["/cases"]["post"]["responses"]
    health = paths["/healthz"]["get"]["responses"]

    assert sorted(read) == ["200", "401", "403", "404", "422", "503"]
    assert sorted(write) == ["200", "401", "403", "404", "409", "410", "412", "413", "422", "428", "503"]
    assert sorted(health) == ["200", "404", "422"]
    assert set(write["422"]["content"]) == {"application/problem+json"}
    assert schema["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
