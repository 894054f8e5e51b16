"""Every service's bound on a request's body, proven on the sample app (issue 14, finding 13): a body over the
app's bound gets a 413 problem on every kind of route a service has (a write, a write on a record, a search
by POST), chunked without a length too; a route declaring a larger bound takes more, up to it; a POST that
only reads never keeps its answer under an Idempotency-Key."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.http.idempotency import idempotency_keys
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.sample_app import MAX_DOCUMENT_BYTES, build_sample_app, sample_settings
from ddr_testkit.services import service_client

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

BOUND = 16 * 1024
"""The app's bound on a body in these tests (a service's default is 2 MiB)."""
OVER = b'{"pad": "' + b"x" * BOUND + b'"}'


@pytest.fixture
async def client(
    fresh_postgres_database: str,
    kafka_bootstrap_servers: str,
    namespace: str,
    tmp_path: Path,
    token_verifier: TokenVerifier,
) -> AsyncIterator[httpx.AsyncClient]:
    settings = sample_settings(
        fresh_postgres_database, kafka_bootstrap_servers, namespace, tmp_path, max_body_bytes=BOUND
    )
    async with service_client(build_sample_app(settings, token_verifier=token_verifier)) as client:
        yield client


@pytest.fixture
def officer(issuer: DevelopmentTokenIssuer) -> dict[str, str]:
    return {"Authorization": "Bearer " + issuer.issue(subject="officer-1", roles=[Role.CNDDR_OFFICER])}


async def listed(client: httpx.AsyncClient, officer: dict[str, str]) -> str:
    body = {
        "person_id": "p1",
        "movement": "MNLA",
        "region": "Gao",
        "full_name": "Aminata Traoré",
        "movement_ref": "MNLA-1",
    }
    answer = await client.post("/people", json=body, headers=officer)
    assert answer.status_code == 201, answer.text
    return "p1"


async def chunks(body: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    """The body sent chunked: no Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def test_a_body_over_the_bound_is_a_413_problem_on_every_kind_of_route(
    client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    person = await listed(client, officer)
    headers = {**officer, "Content-Type": "application/json"}

    answers = {
        path: await client.post(path, content=OVER, headers=headers)
        for path in ("/people", f"/people/{person}/erasure", "/people/search")
    }

    assert {path: a.status_code for path, a in answers.items()} == dict.fromkeys(answers, 413)
    refusal = answers["/people"]
    assert refusal.headers["content-type"] == "application/problem+json"
    assert refusal.json()["type"] == "urn:ddr:problem:content-too-large"
    assert refusal.json()["limit_bytes"] == BOUND
    assert (await client.get(f"/people/{person}", headers=officer)).status_code == 200  # not erased


async def test_a_chunked_body_without_a_length_is_cut_at_the_bound_with_a_413(
    client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    body = chunks(OVER)
    answer = await client.post(
        "/people/search", content=body, headers={**officer, "Content-Type": "application/json"}
    )

    assert "content-length" not in answer.request.headers
    assert answer.status_code == 413
    assert answer.json()["limit_bytes"] == BOUND


async def test_a_route_with_its_own_bound_takes_a_body_over_the_apps_up_to_its_own(
    client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    person = await listed(client, officer)
    scan = b"\x89" * (4 * BOUND)

    taken = await client.post(f"/people/{person}/documents", content=scan, headers=officer)
    taken_chunked = await client.post(f"/people/{person}/documents", content=chunks(scan), headers=officer)
    over = b"\x89" * (MAX_DOCUMENT_BYTES + 1)
    refused = await client.post(f"/people/{person}/documents", content=over, headers=officer)
    refused_chunked = await client.post(f"/people/{person}/documents", content=chunks(over), headers=officer)

    assert (taken.status_code, taken.json()["size"]) == (201, len(scan))
    assert (taken_chunked.status_code, taken_chunked.json()["size"]) == (201, len(scan))
    assert (refused.status_code, refused.json()["limit_bytes"]) == (413, MAX_DOCUMENT_BYTES)
    assert (refused_chunked.status_code, refused_chunked.json()["limit_bytes"]) == (413, MAX_DOCUMENT_BYTES)


async def test_a_post_that_only_reads_never_keeps_its_answer_under_an_idempotency_key(
    client: httpx.AsyncClient, officer: dict[str, str]
) -> None:
    person = await listed(client, officer)
    keyed = {**officer, "Idempotency-Key": "search-1"}

    first = await client.post("/people/search", json={"name": "Traoré"}, headers=keyed)
    other = await client.post("/people/search", json={"name": "Nobody"}, headers=keyed)
    runtime: ServiceRuntime = client._transport.app.state.sample  # type: ignore[attr-defined]
    async with runtime.engine.connect() as conn:
        kept = (await conn.execute(select(func.count()).select_from(idempotency_keys))).scalar_one()

    assert (first.status_code, first.json()) == (200, {"people": [person]})
    assert "idempotent-replayed" not in first.headers
    assert (other.status_code, other.json()) == (200, {"people": []})  # not a 422 "another request"
    assert kept == 0


async def test_every_route_taking_a_body_documents_the_413(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    undocumented = [
        f"{method.upper()} {path}"
        for path, item in document["paths"].items()
        for method, operation in item.items()
        if method in ("post", "put", "patch") and "413" not in operation["responses"]
    ]

    assert undocumented == []
