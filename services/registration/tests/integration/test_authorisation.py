"""Registration's authorisation, generated from its route table (ddr_testkit.authz): every route x every role
(and an anonymous caller) x own/other movement, region and child. A new route without a rule fails.

Writes that change an existing record need If-Match, which the harness does not send: an allowed caller
gets 428 there, after the role check; their scope on those writes is tested in test_access.py."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ddr_registration.bootstrap import build_app
from ddr_registration.domain.members import BirthDate, Category
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_testkit.authz import (
    Case,
    Dimension,
    Params,
    Rule,
    World,
    check_rules,
    runtime_rules,
    uncovered_routes,
)
from ddr_testkit.services import running, service_settings

from .support import list_file, member

pytestmark = [pytest.mark.kafka]

R = Role
MOVEMENT_READERS = {R.CNDDR_OFFICER: 200, R.CTS_OFFICER: 200, R.NIC_OFFICER: 200, R.AUDITOR: 200,
                    R.MOVEMENT_LIAISON: 200}  # fmt: skip
PERSON_READERS = {R.CNDDR_OFFICER: 200, R.NIC_OFFICER: 200, R.AUDITOR: 200, R.MOVEMENT_LIAISON: 200,
                  R.CHILD_PROTECTION: 200}  # fmt: skip
WEAPON_READERS = {R.CNDDR_OFFICER: 200, R.CTS_OFFICER: 200, R.AUDITOR: 200, R.MOVEMENT_LIAISON: 200}
Outside = dict[tuple[Role, Dimension], int]
PERSON_OUTSIDE: Outside = {
    (R.MOVEMENT_LIAISON, "movement"): 404,
    (R.CNDDR_OFFICER, "region"): 404,
    (R.CNDDR_OFFICER, "child"): 404,
    (R.AUDITOR, "child"): 404,
    (R.NIC_OFFICER, "child"): 404,
    (R.MOVEMENT_LIAISON, "child"): 404,
    (R.CHILD_PROTECTION, "child"): 404,  # an adult, for child protection
}
CNDDR_WRITE = {R.CNDDR_OFFICER: 428}
DUPLICATE_READERS = {R.CNDDR_OFFICER: 200, R.AUDITOR: 200, R.MOVEMENT_LIAISON: 200, R.CHILD_PROTECTION: 200}
LIST_OUTSIDE: Outside = {(R.MOVEMENT_LIAISON, "movement"): 404}


def weapon(p: Params, token: str) -> dict[str, Any]:
    return {"person_id": p["person_id"], "type": "AK-47", "calibre": "7.62x39", "serial": f"S-{token}",
            "condition": "bon", "tag": f"T-{token}", "custodian": "CTS Gao"}  # fmt: skip


RULES = [
    Rule("POST /movements", allowed={R.CNDDR_OFFICER: 201},
         body=lambda p, t: {"code": f"M{t[:8]}", "display_name": "New movement"}),
    Rule("GET /movements", allowed=MOVEMENT_READERS),
    Rule("GET /movements/{code}", allowed=MOVEMENT_READERS),
    Rule("POST /movements/{code}/coalitions", allowed=CNDDR_WRITE,
         body=lambda p, t: {"coalition": "CMA", "since": "2018-01-01"}),
    Rule("POST /movements/{code}/coalitions/{coalition}/end", allowed=CNDDR_WRITE,
         body=lambda p, t: {"until": "2019-01-01"}),
    Rule("POST /movements/{code}/import-profiles", allowed={R.CNDDR_OFFICER: 201, R.MOVEMENT_LIAISON: 201},
         outside={(R.MOVEMENT_LIAISON, "movement"): 403},
         body=lambda p, t: {"name": f"p{t[:8]}", "columns": {"Nom": "full_name"}}),
    Rule("GET /movements/{code}/import-profiles", allowed=MOVEMENT_READERS, outside=LIST_OUTSIDE),
    Rule("GET /movements/{code}/import-profiles/{name}", allowed=MOVEMENT_READERS, outside=LIST_OUTSIDE),
    # No file: refused as a bad request by every caller allowed to upload, before anything is read.
    Rule("POST /lists", allowed={R.CNDDR_OFFICER: 422, R.MOVEMENT_LIAISON: 422},
         query=lambda p: {"movement": p["movement"]}),
    Rule("GET /lists", allowed=MOVEMENT_READERS),
    Rule("GET /lists/upload-activity", allowed={R.CNDDR_OFFICER: 200, R.AUDITOR: 200}),
    Rule("GET /lists/{list_id}", allowed=MOVEMENT_READERS, outside=LIST_OUTSIDE),
    Rule("GET /lists/{list_id}/history", allowed=MOVEMENT_READERS, outside=LIST_OUTSIDE),
    Rule("GET /lists/{list_id}/versions/{number}/report", allowed=MOVEMENT_READERS, outside=LIST_OUTSIDE),
    Rule("POST /lists/{list_id}/versions/{number}/certification", allowed={R.MOVEMENT_LIAISON: 428}),
    Rule("POST /lists/{list_id}/versions/{number}/endorsements",
         allowed={R.CNDDR_OFFICER: 428, R.CTS_OFFICER: 428}, body=lambda p, t: {"body": "CNDDR"}),
    Rule("GET /persons", allowed=PERSON_READERS),
    Rule("POST /persons/search", allowed=PERSON_READERS, body=lambda p, t: {"name": "Ali"}),
    Rule("GET /persons/{person_id}", allowed=PERSON_READERS, outside=PERSON_OUTSIDE),
    Rule("GET /persons/{person_id}/history", allowed=PERSON_READERS, outside=PERSON_OUTSIDE),
    Rule("GET /persons/{person_id}/weapons/reconciliation", allowed=WEAPON_READERS,
         outside={(R.MOVEMENT_LIAISON, "movement"): 404, (R.CNDDR_OFFICER, "region"): 404,
                  (R.CNDDR_OFFICER, "child"): 404, (R.AUDITOR, "child"): 404}),
    Rule("POST /persons/{person_id}/corrections", allowed=CNDDR_WRITE,
         body=lambda p, t: {"reason": "spelling", "full_name": "Ali Ag Ali"}),
    Rule("POST /persons/{person_id}/erasure", allowed=CNDDR_WRITE,
         body=lambda p, t: {"reason_code": "data_subject_request", "authority": "CNDDR-2026-1"}),
    Rule("POST /persons/{person_id}/registration", allowed=CNDDR_WRITE,
         body=lambda p, t: {"biometric_reference": f"bio-{t}", "site": "Gao"}),
    Rule("POST /registrations/bulk", allowed={R.CNDDR_OFFICER: 200},
         body=lambda p, t: [{"person_id": p["person_id"], "biometric_reference": f"bio-{t}", "site": "Gao"}]),
    Rule("GET /duplicates", allowed=DUPLICATE_READERS),
    Rule("GET /duplicates/{case_id}", allowed=DUPLICATE_READERS,
         outside={(R.MOVEMENT_LIAISON, "movement"): 404, (R.CNDDR_OFFICER, "region"): 404,
                  (R.CNDDR_OFFICER, "child"): 404, (R.AUDITOR, "child"): 404,
                  (R.CHILD_PROTECTION, "child"): 404}),
    Rule("POST /duplicates/{case_id}/resolution", allowed=CNDDR_WRITE,
         body=lambda p, t: {"outcome": "distinct"}),
    Rule("POST /weapons", allowed={R.CNDDR_OFFICER: 201, R.CTS_OFFICER: 201}, body=weapon,
         outside={(R.CNDDR_OFFICER, "region"): 404, (R.CNDDR_OFFICER, "child"): 404,
                  (R.CTS_OFFICER, "child"): 404}),
    Rule("POST /weapons/bulk", allowed={R.CNDDR_OFFICER: 200, R.CTS_OFFICER: 200},
         body=lambda p, t: [weapon(p, t)]),
    Rule("GET /weapons", allowed=WEAPON_READERS),
    Rule("GET /weapons/{weapon_id}", allowed=WEAPON_READERS,
         outside={(R.MOVEMENT_LIAISON, "movement"): 404, (R.CNDDR_OFFICER, "region"): 404}),
    Rule("POST /weapons/{weapon_id}/custody-transfers", allowed={R.CNDDR_OFFICER: 428, R.CTS_OFFICER: 428},
         body=lambda p, t: {"from_custodian": "CTS Gao", "to_custodian": "CTS Bamako",
                            "released_by": "a", "received_by": "b"}),
    Rule("GET /figures", allowed={R.CNDDR_OFFICER: 200, R.CTS_OFFICER: 200, R.NIC_OFFICER: 200,
                                  R.AUDITOR: 200, R.DONOR: 200, R.MOVEMENT_LIAISON: 200}),
]  # fmt: skip

PLACES = {  # kind of object: (movement, region, child, name of the suspected duplicate pair)
    "adult": ("MNLA", "Gao", False, "Ibrahim Ag Assaleh"),
    "other-movement": ("GATIA", "Gao", False, "Sidi Mohamed Ould Bouamama"),
    "other-region": ("MNLA", "Kidal", False, "Baye Ag Diknane"),
    "child": ("MNLA", "Gao", True, "Hama Ag Mahmoud"),
}


class RegistrationWorld(World):
    """MNLA and GATIA, each with a list: adults in Gao and Kidal, a child in Gao, and in each place a
    suspected duplicate pair and a weapon handed over (none for the child: nobody but child protection may
    see them, and child protection records no weapon)."""

    def __init__(self, client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer, tmp_path: Path) -> None:
        self.client = client
        self.issuer = issuer
        self.tmp_path = tmp_path
        self.objects: dict[str, Params] = {}

    def claims(self, role: Role) -> Params:
        found: dict[Role, Params] = {
            R.MOVEMENT_LIAISON: {"movement": "MNLA"},
            R.CNDDR_OFFICER: {"regions": ["Gao"]},
            R.CVR_PARTNER: {"partner": "ngo-1"},
        }
        return found.get(role, {})

    async def params(self, case: Case) -> Params:
        if not self.objects:
            await self._make()
        protector = case.caller == R.CHILD_PROTECTION
        if case.dimension == "child":
            inside, outside = ("child", "adult") if protector else ("adult", "child")
            kind = inside if case.side == "own" else outside
        elif case.side == "other" and case.dimension in ("movement", "region"):
            kind = f"other-{case.dimension}"
        else:
            kind = "child" if protector else "adult"
        return self.objects[kind]

    async def _make(self) -> None:
        for code in ("MNLA", "GATIA", "CMA"):
            await self._ok("POST", "/movements", {"code": code, "display_name": code}, 201)
        for code in ("MNLA", "GATIA"):
            await self._ok("POST", f"/movements/{code}/import-profiles",
                           {"name": "standard", "columns": {"Nom": "full_name"}}, 201)  # fmt: skip
        for code in ("MNLA", "GATIA"):
            people = []
            for kind, (movement, region, child, name) in PLACES.items():
                if movement != code:
                    continue
                extra: dict[str, Any] = {"region": region, "cercle": region, "weapons": ()}
                if child:
                    extra |= {"category": Category.CHILD, "birth": BirthDate.year_only(2012), "armed": False}
                people += [member(f"{kind}-1", name, **extra), member(f"{kind}-2", name, **extra)]
            with list_file(self.tmp_path, people).open("rb") as handle:
                uploaded = await self.client.post(
                    "/lists", params={"movement": code}, files={"file": ("list.csv", handle.read())},
                    headers=self._as(R.CNDDR_OFFICER),
                )  # fmt: skip
            assert uploaded.status_code == 201, uploaded.text
            self.objects[f"list-{code}"] = uploaded.json()
        everyone = await self._ok("GET", "/persons", None, 200, R.AUDITOR)
        everyone += await self._ok("GET", "/persons", None, 200, R.CHILD_PROTECTION)
        for kind, (movement, _region, child, _name) in PLACES.items():
            listed = self.objects[f"list-{movement}"]
            person_id = next(p["person_id"] for p in everyone if p["movement_ref"] == f"{kind}-1")
            params: Params = {
                "person_id": person_id, "list_id": listed["list_id"], "number": 1, "code": movement,
                "movement": movement, "coalition": "CMA", "name": "standard",
                "case_id": await self._case(person_id, child), "weapon_id": "none",
            }  # fmt: skip
            if not child:
                handed = await self._ok("POST", "/weapons", weapon(params, uuid.uuid4().hex[:8]), 201)
                params["weapon_id"] = handed["weapon_id"]
            self.objects[kind] = params

    async def _case(self, person_id: str, child: bool) -> str:
        cases = await self._ok("GET", "/duplicates", None, 200, R.CHILD_PROTECTION if child else R.AUDITOR)
        return str(next(c["case_id"] for c in cases if person_id in (c["person_id"], c["other_person_id"])))

    async def _ok(self, method: str, path: str, body: Any, status: int, role: Role = R.CNDDR_OFFICER) -> Any:
        answer = await self.client.request(method, path, json=body, headers=self._as(role))
        assert answer.status_code == status, answer.text
        return answer.json()

    def _as(self, role: Role) -> dict[str, str]:
        token = self.issuer.issue(subject=f"{role}-world", roles=[role])
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
async def app(
    kafka_bootstrap_servers: str, namespace: str, tmp_path: Path, token_verifier: TokenVerifier
) -> AsyncIterator[FastAPI]:
    # One backend is enough here: what is checked is who gets which answer, not how it is stored.
    database_url = f"sqlite+aiosqlite:///{tmp_path / 'registration.sqlite'}"
    settings = service_settings("registration", database_url, kafka_bootstrap_servers, namespace, tmp_path)
    built = build_app(settings, token_verifier=token_verifier, biometric_key=os.urandom(32))
    async with running(built):
        yield built


async def test_every_route_of_registration_has_a_rule(app: FastAPI) -> None:
    assert uncovered_routes(app, [*RULES, *runtime_rules(app)]) == []


async def test_every_role_gets_the_declared_answer_on_every_route_and_scope(
    app: FastAPI, issuer: DevelopmentTokenIssuer, tmp_path: Path
) -> None:
    """Findings 5, 9, 10 and the proof that stays: every route x role x movement, region and child."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://registration"
    ) as client:
        world = RegistrationWorld(client, issuer, tmp_path)
        mismatches = await check_rules(client, issuer, world, [*RULES, *runtime_rules(app)])

    assert mismatches == [], "\n".join(map(str, mismatches))
