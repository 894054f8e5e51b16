"""Pathway's authorisation, generated from its route table: every route x every role (and anonymous) x
own/other scope (movement, region, child) answers as declared, and a new route without a rule fails; then
schemathesis per role, in process: no server error, no answer off the documented schema (issue 14)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from ddr_pathway.bootstrap import build_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_testkit.authz import Case, Params, Rule, World, check_rules, runtime_rules, uncovered_routes
from ddr_testkit.fuzz import fuzz_openapi
from ddr_testkit.upstream import UpstreamService

from .conftest import Callers, Events, eventually, running_pathway

pytestmark = [pytest.mark.kafka]

PATH_READERS = {
    Role.AUDITOR: 200,
    Role.CNDDR_OFFICER: 200,
    Role.MOVEMENT_LIAISON: 200,
    Role.CHILD_PROTECTION: 200,
}
FIGURE_READERS = dict.fromkeys(
    (
        Role.CNDDR_OFFICER,
        Role.NIC_OFFICER,
        Role.CTS_OFFICER,
        Role.DONOR,
        Role.AUDITOR,
        Role.MOD_LIAISON,
        Role.CHILD_PROTECTION,
    ),
    200,
)

RULES = [
    Rule(
        "GET /paths/{person_id}",
        allowed=PATH_READERS,
        outside={
            (Role.MOVEMENT_LIAISON, "movement"): 404,
            (Role.CNDDR_OFFICER, "region"): 404,
            (Role.AUDITOR, "child"): 404,
            (Role.CNDDR_OFFICER, "child"): 404,
            (Role.MOVEMENT_LIAISON, "child"): 404,
            (Role.CHILD_PROTECTION, "child"): 404,
        },
    ),
    Rule("GET /paths/{person_id}/reads", allowed={Role.AUDITOR: 200}),
    Rule(
        "GET /figures",
        allowed=FIGURE_READERS,
        outside={(Role.CNDDR_OFFICER, "region"): 403},
        query=lambda p: {"region": p["region"], "as_of": "2020-12-31"},
    ),
    Rule("GET /replay", allowed={Role.OPERATOR: 200, Role.AUDITOR: 200, Role.CNDDR_OFFICER: 200}),
    Rule("POST /replay", allowed={Role.OPERATOR: 202}),
]

KINDS = {
    "adult": ("MNLA", "Kidal", 1988),
    "other-movement": ("GATIA", "Kidal", 1988),
    "other-region": ("MNLA", "Gao", 1988),
    "child": ("MNLA", "Kidal", 2008),
}


class PathwayWorld(World):
    """An adult of MNLA in Kidal, one of GATIA, one of MNLA in Gao, and a child of MNLA in Kidal."""

    def __init__(self, people: dict[str, str]) -> None:
        self.people = people

    def claims(self, role: Role) -> Params:
        claims: dict[Role, Params] = {
            Role.MOVEMENT_LIAISON: {"movement": "MNLA"},
            Role.CNDDR_OFFICER: {"regions": ["Kidal"]},
            Role.CVR_PARTNER: {"partner": "ngo-1"},
        }
        return claims.get(role, {})

    async def params(self, case: Case) -> Params:
        kind = _kind(case)
        return {"person_id": self.people[kind], "region": KINDS[kind][1]}


def _kind(case: Case) -> str:
    protector = case.caller == Role.CHILD_PROTECTION
    if case.dimension == "child":
        inside, outside = ("child", "adult") if protector else ("adult", "child")
        return inside if case.side == "own" else outside
    if case.side == "other" and case.dimension in ("movement", "region"):
        return f"other-{case.dimension}"
    return "child" if protector else "adult"


async def people_seen(settings: Settings, callers: Callers) -> dict[str, str]:
    people = {kind: Events.person() for kind in KINDS}
    async with UpstreamService("registration", settings) as registration:
        for kind, (movement, region, born) in KINDS.items():
            person = people[kind]
            event = Events.pre_registered(person, movement=movement, region=region, birth_year=born)
            await registration.emit(person, event, occurred_at=Events.at("2020-01-01"))
    cp = callers.as_("cp-world", Role.CHILD_PROTECTION)
    for kind, person in people.items():
        api = cp if kind == "child" else callers.auditor

        async def seen(api: Any = api, person: str = person) -> bool:
            return bool((await api.get(f"/paths/{person}")).status_code == 200)

        await eventually(seen, f"the {kind}'s path")
    return people


@dataclass
class Pathway:
    app: FastAPI
    callers: Callers


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    # One backend is enough here: what is checked is who gets which answer, not how it is stored.
    return f"sqlite+aiosqlite:///{tmp_path / 'pathway.sqlite'}"


@pytest.fixture
def probe_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"readiness_timeout_seconds": 30.0})


@pytest.fixture
async def pathway_app(probe_settings: Settings, issuer: DevelopmentTokenIssuer) -> AsyncIterator[Pathway]:
    async with running_pathway(probe_settings, issuer) as (app, callers):
        yield Pathway(app, callers)


async def test_every_route_of_pathway_has_a_rule(pathway_app: Pathway) -> None:
    app = pathway_app.app

    assert uncovered_routes(app, [*RULES, *runtime_rules(app)]) == []


async def test_every_role_gets_the_declared_answer_on_every_route_and_scope(
    pathway_app: Pathway, probe_settings: Settings, issuer: DevelopmentTokenIssuer
) -> None:
    app, callers = pathway_app.app, pathway_app.callers
    world = PathwayWorld(await people_seen(probe_settings, callers))

    mismatches = await check_rules(callers.client, issuer, world, [*RULES, *runtime_rules(app)])

    assert mismatches == [], "\n".join(map(str, mismatches))


def test_pathway_answers_every_generated_request_as_its_document_says(
    probe_settings: Settings, issuer: DevelopmentTokenIssuer
) -> None:
    tokens: dict[str, str | None] = {
        "anonymous": None,
        "auditor": issuer.issue(subject="a", roles=[Role.AUDITOR]),
        "cnddr_officer": issuer.issue(subject="o", roles=[Role.CNDDR_OFFICER], regions=["Kidal"]),
        "movement_liaison": issuer.issue(subject="l", roles=[Role.MOVEMENT_LIAISON], movement="MNLA"),
        "child_protection": issuer.issue(subject="c", roles=[Role.CHILD_PROTECTION]),
        "donor": issuer.issue(subject="d", roles=[Role.DONOR]),
        "operator": issuer.issue(subject="op", roles=[Role.OPERATOR]),
    }
    app = build_app(
        probe_settings, token_verifier=TokenVerifier(issuer.public_key_pem, issuer="test", audience="test")
    )

    failures = fuzz_openapi(app, tokens, max_examples=10)

    assert failures == [], "\n\n".join(map(str, failures))
