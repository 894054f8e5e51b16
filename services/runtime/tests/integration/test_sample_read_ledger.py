"""The read ledger tells no child from anyone else (issue 14; ``ddr_runtime.auth.visibility``), proven on the
sample app: to an auditor without child protection, a child's reads by child protection are left out and the
others are those of an unknown id read by the same callers; an auditor who also holds child protection sees every read (no other role reads the ledger:
the authorisation rules of the sample app)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_testkit.sample_app import build_sample_app, sample_settings
from ddr_testkit.services import service_client

pytestmark = [pytest.mark.kafka]

CP, OFFICER, LIAISON, AUDITOR = Role.CHILD_PROTECTION, Role.CNDDR_OFFICER, Role.MOVEMENT_LIAISON, Role.AUDITOR


@pytest.fixture
async def client(
    kafka_bootstrap_servers: str, namespace: str, tmp_path: Path, token_verifier: TokenVerifier
) -> AsyncIterator[httpx.AsyncClient]:
    # One backend is enough here (the ledger's query is proven on both in test_read_ledger).
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'sample.sqlite'}"
    settings = sample_settings(database_url, kafka_bootstrap_servers, namespace, tmp_path)
    async with service_client(build_sample_app(settings, token_verifier=token_verifier)) as client:
        yield client


def as_(issuer: DevelopmentTokenIssuer, *roles: Role, **claims: Any) -> dict[str, str]:
    token = issuer.issue(subject="-".join(roles), roles=list(roles), **claims)
    return {"Authorization": f"Bearer {token}"}


async def read_by_everyone(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> None:
    """A child and an adult listed, each read by child protection, an officer and a liaison (child protection
    is shown the child, the others the adult); an id nobody listed read by the officer and the liaison."""
    for person_id, child in (("child-1", True), ("adult-1", False)):
        body = {
            "person_id": person_id,
            "movement": "MNLA",
            "region": "Gao",
            "full_name": "Moussa Ag Intalla",
            "movement_ref": f"MNLA-{person_id}",
            "child": child,
        }
        assert (await client.post("/people", json=body, headers=as_(issuer, OFFICER))).status_code == 201
    protection, others = as_(issuer, CP), (as_(issuer, OFFICER), as_(issuer, LIAISON, movement="MNLA"))
    for person_id, readers in (
        ("child-1", (protection, *others)),
        ("adult-1", (protection, *others)),
        ("nobody-1", others),
    ):
        for headers in readers:
            await client.get(f"/people/{person_id}", headers=headers)


def rows(answer: httpx.Response) -> list[tuple[str, str, str]]:
    assert answer.status_code == 200, answer.text
    return [(r["reader"], r["route"], r["outcome"]) for r in answer.json()]


async def test_to_an_auditor_without_child_protection_a_childs_reads_are_an_unknown_ids_read_by_others(
    client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer
) -> None:
    await read_by_everyone(client, issuer)
    auditor = as_(issuer, AUDITOR)

    child = rows(await client.get("/reads/child-1", headers=auditor))
    nobody = rows(await client.get("/reads/nobody-1", headers=auditor))
    adult = rows(await client.get("/reads/adult-1", headers=auditor))

    assert (
        child
        == nobody
        == [
            ("cnddr_officer", "GET /people/{person_id}", "not_visible"),
            ("movement_liaison", "GET /people/{person_id}", "not_visible"),
        ]
    )
    assert adult == [
        ("child_protection", "GET /people/{person_id}", "not_visible"),
        ("cnddr_officer", "GET /people/{person_id}", "shown"),
        ("movement_liaison", "GET /people/{person_id}", "shown"),
    ]


async def test_an_auditor_who_also_holds_child_protection_sees_every_read_of_a_child(
    client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer
) -> None:
    await read_by_everyone(client, issuer)

    child = rows(await client.get("/reads/child-1", headers=as_(issuer, AUDITOR, CP)))

    assert child == [
        ("child_protection", "GET /people/{person_id}", "shown"),
        ("cnddr_officer", "GET /people/{person_id}", "not_visible"),
        ("movement_liaison", "GET /people/{person_id}", "not_visible"),
    ]
