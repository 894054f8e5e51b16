"""Bearer-token authentication and role checks at the HTTP edge."""

from __future__ import annotations

import stat
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends
from opentelemetry.sdk.trace import TracerProvider
from pydantic import SecretStr

from ddr_runtime.auth import tokens as tokens_module
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.issuer import (
    PRIVATE_KEY_FILE,
    PUBLIC_KEY_FILE,
    DevelopmentOnlyError,
    DevelopmentTokenIssuer,
)
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.tokens import ExpiredTokenError, InvalidTokenError, TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.http.app import create_app

ISSUER = "ddr-platform"
AUDIENCE = "ddr-platform"

Screener = Annotated[Principal, Depends(require_roles(Role.SCREENING_OFFICER, Role.CNDDR_OFFICER))]


@pytest.fixture
def signing_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def issuer(signing_key: Ed25519PrivateKey) -> DevelopmentTokenIssuer:
    return DevelopmentTokenIssuer(signing_key, issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
async def client(issuer: DevelopmentTokenIssuer, tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    router = APIRouter()

    @router.get("/screenings")
    async def list_screenings(principal: Screener) -> dict[str, object]:
        return {"subject": principal.subject, "movement": principal.movement}

    @router.get("/movement-lists", dependencies=[Depends(require_roles(Role.MOVEMENT_LIAISON))])
    async def movement_lists() -> dict[str, str]:
        return {"status": "ok"}

    app = create_app(
        service_name="auth-test",
        settings=Settings(environment="test", var_dir=tmp_path),
        routers=[router],
        token_verifier=TokenVerifier(issuer.public_key_pem, issuer=ISSUER, audience=AUDIENCE),
        tracer_provider=TracerProvider(),
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_request_without_a_token_is_401_with_a_bearer_challenge(client: httpx.AsyncClient) -> None:
    response = await client.get("/screenings")

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_basic_credential_is_not_a_bearer_token(client: httpx.AsyncClient) -> None:
    response = await client.get("/screenings", headers={"Authorization": "Basic dXNlcjpwYXNz"})

    assert response.status_code == 401


async def test_an_expired_token_is_401(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> None:
    token = issuer.issue(subject="u1", roles=[Role.SCREENING_OFFICER], ttl=timedelta(minutes=-5))

    response = await client.get("/screenings", headers=bearer(token))

    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    assert "expired" in response.json()["detail"]


async def test_a_token_signed_by_another_key_is_401(client: httpx.AsyncClient) -> None:
    impostor = DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer=ISSUER, audience=AUDIENCE)
    token = impostor.issue(subject="u1", roles=[Role.SCREENING_OFFICER])

    response = await client.get("/screenings", headers=bearer(token))

    assert response.status_code == 401


async def test_a_token_for_another_audience_is_401(
    client: httpx.AsyncClient, signing_key: Ed25519PrivateKey
) -> None:
    elsewhere = DevelopmentTokenIssuer(signing_key, issuer=ISSUER, audience="another-platform")
    token = elsewhere.issue(subject="u1", roles=[Role.SCREENING_OFFICER])

    response = await client.get("/screenings", headers=bearer(token))

    assert response.status_code == 401


async def test_a_token_with_another_algorithm_is_401(client: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u1", "roles": ["cnddr_officer"], "iat": now}
    token = jwt.encode(
        {**claims, "exp": now + timedelta(hours=1)}, "a-shared-secret-of-32-bytes-long!", "HS256"
    )

    response = await client.get("/screenings", headers=bearer(token))

    assert response.status_code == 401


async def test_a_caller_without_a_required_role_is_403(
    client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer
) -> None:
    token = issuer.issue(subject="donor-1", roles=[Role.DONOR])

    response = await client.get("/screenings", headers=bearer(token))

    assert response.status_code == 403
    assert response.headers["content-type"] == "application/problem+json"


async def test_a_caller_with_one_of_the_required_roles_gets_through(
    client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer
) -> None:
    token = issuer.issue(subject="officer-7", roles=[Role.CNDDR_OFFICER, Role.AUDITOR])

    response = await client.get("/screenings", headers=bearer(token))

    assert response.status_code == 200
    assert response.json() == {"subject": "officer-7", "movement": None}


async def test_a_role_required_in_route_dependencies_is_enforced(
    client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer
) -> None:
    liaison = issuer.issue(subject="l1", roles=[Role.MOVEMENT_LIAISON], movement="CMA")
    officer = issuer.issue(subject="o1", roles=[Role.CNDDR_OFFICER])

    assert (await client.get("/movement-lists", headers=bearer(liaison))).status_code == 200
    assert (await client.get("/movement-lists", headers=bearer(officer))).status_code == 403


async def test_a_movement_liaison_token_without_a_movement_is_rejected(
    client: httpx.AsyncClient, signing_key: Ed25519PrivateKey
) -> None:
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "l2", "roles": ["movement_liaison"], "iat": now, "jti": "t-2",
    }  # fmt: skip
    token = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, signing_key, algorithm="EdDSA")

    response = await client.get("/movement-lists", headers=bearer(token))

    assert response.status_code == 401


def test_the_issuer_refuses_a_movement_liaison_without_a_movement(issuer: DevelopmentTokenIssuer) -> None:
    with pytest.raises(ValueError, match="movement"):
        issuer.issue(subject="l3", roles=[Role.MOVEMENT_LIAISON])


def test_a_verified_token_carries_the_callers_remit(issuer: DevelopmentTokenIssuer) -> None:
    verifier = TokenVerifier(issuer.public_key_pem, issuer=ISSUER, audience=AUDIENCE)
    token = issuer.issue(
        subject="p1", name="Partner One", roles=[Role.CVR_PARTNER], partner="ngo-12", regions=["Mopti"]
    )

    principal = verifier.verify(token)

    assert principal == Principal(
        subject="p1", name="Partner One", roles=frozenset({Role.CVR_PARTNER}), partner="ngo-12",
        regions=frozenset({"Mopti"}),
    )  # fmt: skip


def test_roles_the_platform_does_not_know_grant_nothing(signing_key: Ed25519PrivateKey) -> None:
    verifier = TokenVerifier(
        DevelopmentTokenIssuer(signing_key, issuer=ISSUER, audience=AUDIENCE).public_key_pem,
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    now = datetime.now(UTC)
    claims = {
        "iss": ISSUER, "aud": AUDIENCE, "sub": "u9", "roles": ["superuser", "auditor"], "iat": now, "jti": "t-9",
    }  # fmt: skip
    token = jwt.encode({**claims, "exp": now + timedelta(hours=1)}, signing_key, algorithm="EdDSA")

    assert verifier.verify(token).roles == frozenset({Role.AUDITOR})


def test_a_token_without_an_expiry_is_rejected(signing_key: Ed25519PrivateKey) -> None:
    verifier = TokenVerifier(
        DevelopmentTokenIssuer(signing_key, issuer=ISSUER, audience=AUDIENCE).public_key_pem,
        issuer=ISSUER,
        audience=AUDIENCE,
    )
    claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "u9", "iat": datetime.now(UTC)}
    token = jwt.encode(claims, signing_key, algorithm="EdDSA")

    with pytest.raises(InvalidTokenError):
        verifier.verify(token)


def test_a_movement_liaison_covers_only_their_own_movement() -> None:
    liaison = Principal(
        "l1", "Liaison", frozenset({Role.MOVEMENT_LIAISON, Role.CNDDR_OFFICER}), movement="CMA"
    )
    officer = Principal("o1", "Officer", frozenset({Role.CNDDR_OFFICER}))

    assert liaison.covers_movement("CMA")
    assert not liaison.covers_movement("Platform")
    assert officer.covers_movement("Platform")


def test_an_empty_region_remit_covers_every_region() -> None:
    everywhere = Principal("o1", "Officer", frozenset({Role.CNDDR_OFFICER}))
    mopti_only = Principal("o2", "Officer", frozenset({Role.CNDDR_OFFICER}), regions=frozenset({"Mopti"}))

    assert everywhere.covers_region("Gao")
    assert mopti_only.covers_region("Mopti")
    assert not mopti_only.covers_region("Gao")


def test_require_roles_without_roles_is_refused() -> None:
    with pytest.raises(ValueError, match="at least one role"):
        require_roles()


def test_the_development_key_pair_is_created_private_and_then_reused(tmp_path: Path) -> None:
    settings = Settings(environment="development", var_dir=tmp_path)

    first = DevelopmentTokenIssuer.from_settings(settings)
    second = DevelopmentTokenIssuer.from_settings(settings)

    private_file = tmp_path / "secrets" / PRIVATE_KEY_FILE
    assert stat.S_IMODE(private_file.stat().st_mode) == 0o600
    assert (tmp_path / "secrets" / PUBLIC_KEY_FILE).read_bytes() == first.public_key_pem
    assert first.public_key_pem == second.public_key_pem
    verifier = TokenVerifier.from_settings(settings)
    assert verifier.verify(second.issue(subject="u1", roles=[Role.OPERATOR])).subject == "u1"


def test_a_configured_public_key_may_be_a_file_path(tmp_path: Path, issuer: DevelopmentTokenIssuer) -> None:
    key_file = tmp_path / "jwt.pub.pem"
    key_file.write_bytes(issuer.public_key_pem)
    settings = Settings(environment="test", var_dir=tmp_path, jwt_public_key=str(key_file))

    verifier = TokenVerifier.from_settings(settings)

    assert verifier.verify(issuer.issue(subject="u1", roles=[Role.AUDITOR])).subject == "u1"
    assert not (tmp_path / "secrets").exists()


def test_the_development_issuer_refuses_production(tmp_path: Path, issuer: DevelopmentTokenIssuer) -> None:
    settings = Settings(
        environment="production",
        var_dir=tmp_path,
        key_service_url="https://keys.internal",
        key_service_credential=SecretStr("ddrk.id.secret"),
        jwt_public_key=issuer.public_key_pem.decode(),
        database_url="postgresql://ddr@db/ddr",
    )

    with pytest.raises(DevelopmentOnlyError):
        DevelopmentTokenIssuer.from_settings(settings)
    assert not (tmp_path / "secrets").exists()


def test_a_token_kept_after_its_first_check_is_refused_once_it_expires(
    issuer: DevelopmentTokenIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = TokenVerifier(issuer.public_key_pem, issuer=ISSUER, audience=AUDIENCE, leeway=timedelta(0))
    token = issuer.issue(subject="u1", roles=[Role.SCREENING_OFFICER], ttl=timedelta(minutes=10))
    assert verifier.verify(token).subject == "u1"
    assert verifier.verify(token).subject == "u1"  # kept: no signature check this time

    later = datetime.now(UTC) + timedelta(minutes=11)
    monkeypatch.setattr(tokens_module, "time", SimpleNamespace(time=later.timestamp))

    with pytest.raises(ExpiredTokenError):
        verifier.verify(token)


def test_a_refused_token_is_never_kept(issuer: DevelopmentTokenIssuer) -> None:
    verifier = TokenVerifier(issuer.public_key_pem, issuer=ISSUER, audience=AUDIENCE)
    other = DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer=ISSUER, audience=AUDIENCE)
    forged = other.issue(subject="u1", roles=[Role.SCREENING_OFFICER])

    for _ in range(2):
        with pytest.raises(InvalidTokenError):
            verifier.verify(forged)
