"""The authorisation harness of the test kit, proven on the runtime's sample app: every route has a rule
for every role and scope, and every case answers as declared (a new route without a rule fails)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_testkit.authz import Case, Params, Rule, World, check_rules, runtime_rules, uncovered_routes
from ddr_testkit.sample_app import build_sample_app, sample_settings
from ddr_testkit.services import service_client

pytestmark = [pytest.mark.kafka]

READERS = {
    Role.CNDDR_OFFICER: 200,
    Role.MOVEMENT_LIAISON: 200,
    Role.SCREENING_OFFICER: 200,
    Role.CHILD_PROTECTION: 200,
}


def person(p: Params, token: str) -> dict[str, Any]:
    return {
        "person_id": f"new-{token}",
        "movement": p["movement"],
        "region": p["region"],
        "full_name": "Aminata Traoré",
        "movement_ref": f"{p['movement']}-{token}",
    }


RULES = [
    Rule(
        "POST /people",
        allowed={Role.CNDDR_OFFICER: 201, Role.MOVEMENT_LIAISON: 201},
        outside={(Role.MOVEMENT_LIAISON, "movement"): 403},
        body=person,
    ),
    Rule(
        "GET /people/{person_id}",
        allowed=READERS,
        outside={
            (Role.MOVEMENT_LIAISON, "movement"): 404,
            (Role.SCREENING_OFFICER, "region"): 404,
            (Role.CNDDR_OFFICER, "child"): 404,
            (Role.MOVEMENT_LIAISON, "child"): 404,
            (Role.SCREENING_OFFICER, "child"): 404,
            (Role.CHILD_PROTECTION, "child"): 404,
        },
    ),
    Rule("GET /people", allowed={Role.CNDDR_OFFICER: 200}, query=lambda p: {"name": "Traoré"}),
    Rule("POST /people/search", allowed={Role.CNDDR_OFFICER: 200}, body=lambda p, t: {"name": "Traoré"}),
    Rule(
        "POST /people/{person_id}/documents",
        allowed={Role.CNDDR_OFFICER: 201},
        outside={(Role.CNDDR_OFFICER, "child"): 404},
        body=lambda p, t: {"scan": t},
    ),
    Rule(
        "POST /people/{person_id}/medical-notes",
        allowed={Role.EXAMINER: 201},
        outside={(Role.EXAMINER, "region"): 404, (Role.EXAMINER, "child"): 404},
        body=lambda p, t: {"note": "fit"},
    ),
    Rule(
        "GET /people/{person_id}/medical-notes",
        allowed={Role.EXAMINER: 200},
        outside={(Role.EXAMINER, "region"): 404},
    ),
    Rule(
        "POST /people/{person_id}/erasure",
        allowed={Role.CNDDR_OFFICER: 204},
        outside={(Role.CNDDR_OFFICER, "child"): 404},
        fresh=True,
    ),
    Rule(
        "POST /projects",
        allowed={Role.CVR_PARTNER: 201},
        outside={(Role.CVR_PARTNER, "partner"): 404},
        body=lambda p, t: {"project_id": p["claim_project_id"] or f"p-{t}", "title": "Well"},
    ),
    Rule(
        "GET /projects/{project_id}",
        allowed={Role.CVR_PARTNER: 200, Role.AUDITOR: 200},
        outside={(Role.CVR_PARTNER, "partner"): 404},
    ),
    Rule("GET /export", allowed={Role.AUDITOR: 200}),
]


class SampleWorld(World):
    """Adults of MNLA and GATIA in Gao and Kidal, a child, and two partners' projects."""

    def __init__(self, client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> None:
        self.client = client
        self.issuer = issuer
        self.people: dict[str, str] = {}
        self.projects: dict[str, str] = {}

    def claims(self, role: Role) -> Params:
        claims: dict[Role, Params] = {
            Role.MOVEMENT_LIAISON: {"movement": "MNLA"},
            Role.CVR_PARTNER: {"partner": "ngo-1"},
            Role.SCREENING_OFFICER: {"regions": ["Gao"]},
            Role.EXAMINER: {"regions": ["Gao"]},
        }
        return claims.get(role, {})

    async def params(self, case: Case) -> Params:
        kind = self._kind(case)
        movement, region, child = {
            "adult": ("MNLA", "Gao", False),
            "other-movement": ("GATIA", "Gao", False),
            "other-region": ("MNLA", "Kidal", False),
            "child": ("MNLA", "Gao", True),
        }[kind]
        person_id = await self._person(kind, movement, region, child, case.rule.fresh)
        other_partner = case.dimension == "partner" and case.side == "other"
        return {
            "person_id": person_id,
            "movement": movement,
            "region": region,
            "project_id": await self._project("ngo-2" if other_partner else "ngo-1"),
            "claim_project_id": await self._project("ngo-2") if other_partner else None,
        }

    @staticmethod
    def _kind(case: Case) -> str:
        protector = case.caller == Role.CHILD_PROTECTION
        if case.dimension == "child":
            inside = "child" if protector else "adult"
            outside = "adult" if protector else "child"
            return inside if case.side == "own" else outside
        if case.side == "other" and case.dimension in ("movement", "region"):
            return f"other-{case.dimension}"
        return "child" if protector else "adult"

    async def _person(self, kind: str, movement: str, region: str, child: bool, fresh: bool) -> str:
        if kind in self.people and not fresh:
            return self.people[kind]
        person_id = f"{kind}-{uuid.uuid4().hex[:8]}"
        body = {
            "person_id": person_id,
            "movement": movement,
            "region": region,
            "full_name": "Moussa Ag Intalla",
            "movement_ref": f"{movement}-{uuid.uuid4().hex[:6]}",
            "child": child,
        }
        answer = await self.client.post("/people", json=body, headers=self._as(Role.CNDDR_OFFICER))
        assert answer.status_code == 201, answer.text
        self.people.setdefault(kind, person_id)
        return person_id

    async def _project(self, partner: str) -> str:
        if partner not in self.projects:
            project_id = f"{partner}-{uuid.uuid4().hex[:8]}"
            token = self.issuer.issue(subject=partner, roles=[Role.CVR_PARTNER], partner=partner)
            answer = await self.client.post(
                "/projects",
                json={"project_id": project_id, "title": "Well"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert answer.status_code == 201, answer.text
            self.projects[partner] = project_id
        return self.projects[partner]

    def _as(self, role: Role) -> dict[str, str]:
        return {"Authorization": "Bearer " + self.issuer.issue(subject=f"{role}-world", roles=[role])}


@dataclass
class Sample:
    app: FastAPI
    client: httpx.AsyncClient


@pytest.fixture
async def sample(
    kafka_bootstrap_servers: str,
    namespace: str,
    tmp_path: Path,
    token_verifier: TokenVerifier,
) -> AsyncIterator[Sample]:
    # One backend is enough here: what is checked is who gets which answer, not how it is stored.
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'sample.sqlite'}"
    settings = sample_settings(database_url, kafka_bootstrap_servers, namespace, tmp_path)
    app = build_sample_app(settings, token_verifier=token_verifier)
    async with service_client(app) as client:
        yield Sample(app, client)


async def test_every_route_of_the_sample_app_has_a_rule(sample: Sample) -> None:
    app = sample.app

    assert uncovered_routes(app, [*RULES, *runtime_rules(app)]) == []


async def test_a_route_added_without_a_rule_fails_the_coverage_check(sample: Sample) -> None:
    app = sample.app
    extra = APIRouter()

    @extra.get("/people/{person_id}/history", dependencies=[Depends(require_roles(Role.CNDDR_OFFICER))])
    async def history(person_id: str) -> dict[str, str]:
        return {"person_id": person_id}

    app.include_router(extra)

    assert uncovered_routes(app, [*RULES, *runtime_rules(app)]) == [
        "no rule for GET /people/{person_id}/history"
    ]


async def test_every_role_gets_the_declared_answer_on_every_route_and_scope(
    sample: Sample, issuer: DevelopmentTokenIssuer
) -> None:
    app = sample.app

    mismatches = await check_rules(
        sample.client, issuer, SampleWorld(sample.client, issuer), [*RULES, *runtime_rules(app)]
    )

    assert mismatches == [], "\n".join(map(str, mismatches))


async def test_a_wrong_rule_is_reported_with_what_was_answered(
    sample: Sample, issuer: DevelopmentTokenIssuer
) -> None:
    wrong = Rule("GET /export", allowed={Role.AUDITOR: 200, Role.DONOR: 200})

    mismatches = await check_rules(
        sample.client, issuer, SampleWorld(sample.client, issuer), [wrong], roles=[Role.DONOR]
    )

    assert [str(m).split(" {")[0] for m in mismatches] == ["GET /export as donor: expected 200, got 403"]


async def test_metrics_without_a_token_carry_no_count_of_children(
    sample: Sample, issuer: DevelopmentTokenIssuer
) -> None:
    world = SampleWorld(sample.client, issuer)
    await world.params(Case(RULES[1], Role.CHILD_PROTECTION, None, "own", 200))  # lists a child

    public = await sample.client.get("/metrics")
    operator = await sample.client.get("/metrics/all", headers=world._as(Role.OPERATOR))

    assert "ddr_outbox_backlog_events" in public.text
    assert "ddr_sample_children_listed" not in public.text
    assert "ddr_sample_children_listed_total" in operator.text
