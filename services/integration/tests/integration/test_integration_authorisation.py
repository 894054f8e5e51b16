"""Integration's authorisation, generated from its route table (issue 14): every route x every role (and an
anonymous caller) x own/other region, movement and child record gets the declared answer, and a route without
a rule fails the coverage test. The allowed status of a step the candidate's stage refuses is that refusal
(the caller passed the roles and the scope; the domain decided)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from ddr_integration.bootstrap import build_app
from ddr_runtime.auth.roles import Role
from ddr_testkit.authz import Case, Params, Rule, ServiceWorld, authorisation_tests
from ddr_testkit.upstream import UpstreamService

from .conftest import outcome

pytestmark = [pytest.mark.kafka]

NIC, MOD, CTS, LIAISON, AUD = (
    Role.NIC_OFFICER,
    Role.MOD_LIAISON,
    Role.CTS_OFFICER,
    Role.MOVEMENT_LIAISON,
    Role.AUDITOR,
)
NOT_VISIBLE = 404
TODAY = datetime.now(UTC).date()
PERSON_READERS = {NIC: 200, LIAISON: 200, AUD: 200}
UNIT_READERS = {NIC: 200, MOD: 200, CTS: 200, AUD: 200}


def hidden(*roles: Role) -> dict[tuple[Role, Any], int]:
    """A child's record to every role; another region's to the NIC (narrowed to Gao); another movement's
    member to a movement's liaison."""
    outside: dict[tuple[Role, Any], int] = {(role, "child"): NOT_VISIBLE for role in roles}
    outside.update({(role, "region"): NOT_VISIBLE for role in roles if role == NIC})
    outside.update({(role, "movement"): NOT_VISIBLE for role in roles if role == LIAISON})
    return outside


def quota(p: Params, token: str) -> dict[str, Any]:
    return {
        "quota_id": f"q-{token}",
        "period_start": f"{TODAY.year}-01-01",
        "period_end": f"{TODAY.year}-12-31",
        "limit": 10,
        "decision_ref": f"d-{token}",
        "reason": "offer",
    }


RULES = [
    Rule("GET /candidates", allowed=PERSON_READERS),
    Rule("GET /candidates/{person_id}", allowed=PERSON_READERS, outside=hidden(NIC, LIAISON, AUD)),
    Rule(
        "POST /candidates/{person_id}/acceptance",
        allowed={NIC: 422},
        outside=hidden(NIC),
        body=lambda p, t: {},
    ),
    Rule(
        "POST /candidates/{person_id}/rank",
        allowed={NIC: 422},
        outside=hidden(NIC),
        body=lambda p, t: {"years_of_service": 1, "qualification": "none"},
    ),
    Rule(
        "POST /rank-allocations",
        allowed={NIC: 200},
        body=lambda p, t: {
            "entries": [{"person_id": p["person_id"], "years_of_service": 1, "qualification": "none"}]
        },
    ),
    Rule(
        "POST /candidates/{person_id}/rank-disputes",
        allowed={NIC: 422, LIAISON: 422},
        outside=hidden(NIC, LIAISON),
        body=lambda p, t: {
            "claimed_rank": "capitaine",
            "claimed_command_function": "none",
            "grounds_code": "decree",
        },
    ),
    Rule(
        "POST /rank-disputes/{dispute_id}/decision",
        allowed={NIC: 404},  # no such dispute: the caller passed, the record is missing
        body=lambda p, t: {"outcome": "rejected", "decision_ref": f"d-{t}"},
    ),
    Rule(
        "POST /candidates/{person_id}/recall",
        allowed={NIC: 422},
        outside=hidden(NIC),
        body=lambda p, t: {"destination": "Génie"},
    ),
    Rule(
        "POST /candidates/{person_id}/civil-service",
        allowed={NIC: 422},
        outside=hidden(NIC),
        body=lambda p, t: {"destination": "MFP"},
    ),
    Rule(
        "POST /service-records",
        allowed={NIC: 200},
        body=lambda p, t: {"entries": [{"person_id": p["person_id"], "status": "absent"}]},
    ),
    Rule("POST /quotas", allowed={NIC: 201}, body=quota),
    Rule(
        "POST /quotas/{quota_id}/decisions",
        allowed={NIC: 200},
        body=lambda p, t: {"limit": 20, "decision_ref": f"d-{t}", "reason": "raise"},
    ),
    Rule("GET /quotas", allowed=UNIT_READERS),
    Rule("GET /quotas/{quota_id}", allowed=UNIT_READERS),
    Rule(
        "POST /rank-rules",
        allowed={NIC: 201},
        body=lambda p, t: {
            "rule_version": f"v-{t}",
            "decree_ref": "decree",
            "effective_from": (TODAY.replace(year=TODAY.year + 1)).isoformat(),
            "rules": [
                {
                    "movement_ranks": [],
                    "min_years": 0,
                    "qualifications": [],
                    "rank": "soldat",
                    "command_function": "none",
                }
            ],
        },
    ),
    Rule("GET /rank-rules", allowed={NIC: 200, AUD: 200}),
    Rule(
        "POST /cohorts",
        allowed={NIC: 201},
        body=lambda p, t: {
            "cohort_id": f"c-{t}",
            "camp": "Kati",
            "capacity": 10,
            "starts_on": TODAY.isoformat(),
        },
    ),
    Rule("GET /cohorts/{cohort_id}", allowed={NIC: 200, AUD: 200}),
    Rule(
        "POST /cohorts/{cohort_id}/enrolments",
        allowed={NIC: 200},
        body=lambda p, t: {"person_ids": [p["person_id"]]},
    ),
    Rule(
        "POST /cohorts/{cohort_id}/outcomes",
        allowed={NIC: 200},
        body=lambda p, t: {"outcomes": [{"person_id": p["person_id"], "outcome": "completed"}]},
    ),
    Rule(
        "POST /units",
        allowed={NIC: 201, MOD: 201},
        body=lambda p, t: {
            "unit_id": f"u-{t}",
            "display_name": "BATFOR",
            "kind": "battalion",
            "location": "Gao",
            "establishment": 300,
        },
    ),
    Rule("GET /units", allowed=UNIT_READERS),
    Rule(
        "POST /units/{unit_id}/armed-forces-contingent",
        allowed={MOD: 200},
        body=lambda p, t: {"strength": 100, "command_posts": 10},
    ),
    Rule(
        "POST /units/{unit_id}/assignments",
        allowed={NIC: 200},
        body=lambda p, t: {"assignments": [{"person_id": p["person_id"]}]},
    ),
    Rule("GET /units/{unit_id}/composition", allowed=UNIT_READERS),
    Rule("GET /coalitions", allowed=UNIT_READERS),
    Rule("GET /figures", allowed=UNIT_READERS),
]


class IntegrationWorld(ServiceWorld):
    """Candidates of MNLA in Gao (the narrowed roles' own), of MNLA in Kidal, of GATIA in Gao, and a child; a
    quota, a cohort and a unit."""

    CLAIMS: ClassVar[Mapping[Role, Params]] = {
        NIC: {"regions": ["Gao"]},
        LIAISON: {"movement": "MNLA"},
        Role.CVR_PARTNER: {"partner": "ong-1"},
    }

    async def params(self, case: Case) -> Params:
        await self.prepared()
        kind = "own"
        if case.side == "other" and case.dimension in ("region", "movement", "child"):
            kind = str(case.dimension)
        return {
            "person_id": self.people[kind],
            "quota_id": "q-world",
            "cohort_id": "c-world",
            "unit_id": "u-world",
            "dispute_id": "no-such-dispute",
        }

    async def prepare(self) -> None:
        self.people: dict[str, str] = {}
        await self.post("/quotas", quota({}, "world"), 201, NIC)
        cohort = {"cohort_id": "c-world", "camp": "Kati", "capacity": 100, "starts_on": TODAY.isoformat()}
        await self.post("/cohorts", cohort, 201, NIC)
        unit = {
            "unit_id": "u-world",
            "display_name": "BATFOR",
            "kind": "battalion",
            "location": "Gao",
            "establishment": 300,
        }
        await self.post("/units", unit, 201, NIC)
        where = {
            "own": ("MNLA", "Gao"),
            "region": ("MNLA", "Kidal"),
            "movement": ("GATIA", "Gao"),
            "child": ("MNLA", "Gao"),
        }
        self.people = {kind: f"{kind}-{uuid.uuid4().hex[:8]}" for kind in where}
        async with UpstreamService("screening", self.settings) as screening:
            for kind, (movement, region) in where.items():
                person_id = self.people[kind]
                await screening.emit(person_id, outcome(person_id, movement, region=region), publish=False)
            child = self.people["child"]
            await screening.emit(child, outcome(child, "MNLA", track="child_protection"), publish=False)
            await screening.publish()
        views = self.app.state.integration.views
        for _ in range(300):
            known = [await views.candidate(self.people[k]) for k in ("own", "region", "movement")]
            if all(known) and await views.candidate(child) is None and await self._child_closed(child):
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the screening outcomes never arrived")

    async def _child_closed(self, child: str) -> bool:
        token = self.issuer.issue(subject="auditor-world", roles=[AUD])
        listed = await self.client.get("/candidates", headers={"Authorization": f"Bearer {token}"})
        store = self.app.state.runtime.store
        events = await store.read_stream(f"person-{child}")
        return child not in listed.text and any(
            e.envelope.type.startswith("ddr.integration.ScreeningOutcomeNoted") for e in events
        )


(
    test_every_integration_route_has_a_rule,
    test_every_role_gets_the_declared_answer_on_every_integration_route_in_and_out_of_its_scope,
) = authorisation_tests("integration", build_app, RULES, IntegrationWorld)
