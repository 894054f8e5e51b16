"""Token lifetime and revocation, checked on every request."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import APIRouter, Depends
from opentelemetry.sdk.trace import TracerProvider

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.revocation import Revocation, RevocationList
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.tokens import InvalidTokenError, TokenTooLongLivedError, TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.http.app import create_app

Officer = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER))]


class Revocations:
    """An in-memory revocation source (the unit under test is the list, not where it is kept)."""

    def __init__(self) -> None:
        self.entries: list[Revocation] = []
        self.reachable = True

    def revoke(self, kind: str, value: str, issued_up_to: datetime | None = None) -> None:
        now = issued_up_to or datetime.now(UTC)
        self.entries.append(
            Revocation(len(self.entries) + 1, kind, value, now, now + timedelta(hours=13))  # type: ignore[arg-type]
        )

    async def revocations_since(self, after: int) -> list[Revocation]:
        if not self.reachable:
            raise ConnectionError("key service unreachable")
        return [entry for entry in self.entries if entry.seq > after]


@pytest.fixture
def issuer() -> DevelopmentTokenIssuer:
    return DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="t", audience="t")


@pytest.fixture
def source() -> Revocations:
    return Revocations()


@pytest.fixture
def revocations(source: Revocations) -> RevocationList:
    return RevocationList(source, refresh_seconds=0.05, max_staleness_seconds=0.5)


@pytest.fixture
async def client(
    issuer: DevelopmentTokenIssuer, revocations: RevocationList, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    router = APIRouter()

    @router.get("/cases")
    async def cases(principal: Officer) -> dict[str, str]:
        return {"subject": principal.subject}

    app = create_app(
        service_name="tokens-test",
        settings=Settings(environment="test", var_dir=tmp_path),
        routers=[router],
        token_verifier=TokenVerifier(issuer.public_key_pem, issuer="t", audience="t"),
        tracer_provider=TracerProvider(),
    )
    app.state.revocations = revocations
    await revocations.refresh()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        yield http


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_a_ten_year_token_is_refused(issuer: DevelopmentTokenIssuer) -> None:
    verifier = TokenVerifier(
        issuer.public_key_pem, issuer="t", audience="t", max_lifetime=timedelta(hours=12)
    )
    token = issuer.issue(subject="u1", roles=[Role.AUDITOR], ttl=timedelta(days=3650))

    with pytest.raises(TokenTooLongLivedError):
        verifier.verify(token)


def test_a_token_within_the_maximum_lifetime_is_accepted(issuer: DevelopmentTokenIssuer) -> None:
    verifier = TokenVerifier(
        issuer.public_key_pem, issuer="t", audience="t", max_lifetime=timedelta(hours=12)
    )

    assert (
        verifier.verify(issuer.issue(subject="u1", roles=[Role.AUDITOR], ttl=timedelta(hours=12))).subject
        == "u1"
    )


def test_a_token_without_an_id_is_refused() -> None:
    key = Ed25519PrivateKey.generate()
    verifier = TokenVerifier(
        DevelopmentTokenIssuer(key, issuer="t", audience="t").public_key_pem, issuer="t", audience="t"
    )
    now = datetime.now(UTC)
    token = jwt.encode(
        {"iss": "t", "aud": "t", "sub": "u1", "iat": now, "exp": now + timedelta(hours=1)},
        key,
        algorithm="EdDSA",
    )

    with pytest.raises(InvalidTokenError):
        verifier.verify(token)


async def test_a_token_revoked_by_its_id_is_401_on_the_next_request(
    client: httpx.AsyncClient,
    issuer: DevelopmentTokenIssuer,
    source: Revocations,
    revocations: RevocationList,
) -> None:
    token = issuer.issue(subject="officer-1", roles=[Role.CNDDR_OFFICER])
    before = await client.get("/cases", headers=bearer(token))
    source.revoke("jti", jwt.decode(token, options={"verify_signature": False})["jti"])
    await revocations.refresh()

    after = await client.get("/cases", headers=bearer(token))

    assert (before.status_code, after.status_code) == (200, 401)
    assert after.json()["detail"] == "the bearer token was revoked"


async def test_revoking_a_token_by_id_leaves_the_subjects_other_tokens_valid(
    client: httpx.AsyncClient,
    issuer: DevelopmentTokenIssuer,
    source: Revocations,
    revocations: RevocationList,
) -> None:
    revoked = issuer.issue(subject="officer-1", roles=[Role.CNDDR_OFFICER])
    other = issuer.issue(subject="officer-1", roles=[Role.CNDDR_OFFICER])
    source.revoke("jti", jwt.decode(revoked, options={"verify_signature": False})["jti"])
    await revocations.refresh()

    assert (await client.get("/cases", headers=bearer(other))).status_code == 200


async def test_revoking_a_subject_refuses_every_token_issued_before(
    client: httpx.AsyncClient,
    issuer: DevelopmentTokenIssuer,
    source: Revocations,
    revocations: RevocationList,
) -> None:
    held = issuer.issue(subject="officer-2", roles=[Role.CNDDR_OFFICER])
    source.revoke("subject", "officer-2", issued_up_to=datetime.now(UTC) + timedelta(seconds=1))
    await revocations.refresh()

    assert (await client.get("/cases", headers=bearer(held))).status_code == 401


async def test_a_token_issued_after_its_subject_was_revoked_is_accepted(
    client: httpx.AsyncClient,
    issuer: DevelopmentTokenIssuer,
    source: Revocations,
    revocations: RevocationList,
) -> None:
    source.revoke("subject", "officer-3", issued_up_to=datetime.now(UTC) - timedelta(seconds=10))
    await revocations.refresh()
    fresh = issuer.issue(subject="officer-3", roles=[Role.CNDDR_OFFICER])

    assert (await client.get("/cases", headers=bearer(fresh))).status_code == 200


async def test_a_revocation_list_gone_stale_refuses_every_token_with_503(
    client: httpx.AsyncClient,
    issuer: DevelopmentTokenIssuer,
    source: Revocations,
    revocations: RevocationList,
) -> None:
    source.reachable = False
    await asyncio.sleep(0.6)

    response = await client.get(
        "/cases", headers=bearer(issuer.issue(subject="o", roles=[Role.CNDDR_OFFICER]))
    )

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
