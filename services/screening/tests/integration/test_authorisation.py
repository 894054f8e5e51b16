"""Screening's authorisation, generated from its route table (issue 14): every route x every role (and an
anonymous caller) x own/other region, movement and child record gets the declared answer, and a route
without a rule fails the coverage test."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_testkit.authz import Case, Params, Rule, World, check_rules, runtime_rules, uncovered_routes

from .conftest import Env
from .support import eventually, register

pytestmark = [pytest.mark.kafka]

SO, EX, VO, CP = Role.SCREENING_OFFICER, Role.EXAMINER, Role.VETTING_OFFICER, Role.CHILD_PROTECTION
AUD, LIAISON = Role.AUDITOR, Role.MOVEMENT_LIAISON
NOT_VISIBLE = 404


def outside_region(*roles: Role) -> dict[tuple[Role, Any], int]:
    return {(role, "region"): NOT_VISIBLE for role in roles}


def outside_child(*roles: Role) -> dict[tuple[Role, Any], int]:
    return {(role, "child"): NOT_VISIBLE for role in roles}


def rule_set(_p: Params, token: str) -> dict[str, Any]:
    return {
        "rule_version": f"test-{token}",
        "effective_from": "2030-01-01",
        "description": "a proposal",
        "integration_categories": ["combatant"],
        "reinsertion_categories": ["associated"],
    }


RULES = [
    Rule(
        "GET /cases/{person_id}",
        allowed={SO: 200, EX: 200, VO: 200, CP: 200, AUD: 200, LIAISON: 200},
        outside={
            **outside_region(SO, EX, VO, CP),
            (LIAISON, "movement"): NOT_VISIBLE,
            **outside_child(SO, EX, VO, AUD, LIAISON, CP),
        },
    ),
    Rule("GET /queues/{kind}", allowed={SO: 200, EX: 200, VO: 200, CP: 200, AUD: 200}),
    Rule("GET /outcomes", allowed={SO: 200, AUD: 200, LIAISON: 200}),
    Rule("GET /figures", allowed={SO: 200, AUD: 200}),
    Rule("GET /children/overdue-handovers", allowed={CP: 200, SO: 200, AUD: 200}),
    Rule(
        "POST /cases/{person_id}/examinations",
        allowed={EX: 201},
        outside={**outside_region(EX), **outside_child(EX)},
        body=lambda p, t: {"result": "fit"},
        fresh=True,
    ),
    Rule(
        "POST /examinations/bulk",
        allowed={EX: 200},
        body=lambda p, t: {"items": [{"person_id": p["person_id"], "result": "fit"}]},
    ),
    Rule(
        "POST /cases/{person_id}/re-examination-requests",
        allowed={SO: 201},
        outside={**outside_region(SO), **outside_child(SO)},
        body=lambda p, t: {"reason": "second opinion"},
        fresh=True,
    ),
    Rule(
        "POST /cases/{person_id}/age-assessments",
        allowed={CP: 201},
        outside=outside_region(CP),
        body=lambda p, t: {"method": "interview", "youngest_age": 15},
    ),
    Rule(
        "POST /age-assessments/bulk",
        allowed={CP: 200},
        body=lambda p, t: {
            "items": [{"person_id": p["person_id"], "method": "interview", "youngest_age": 15}]
        },
    ),
    Rule(
        "POST /cases/{person_id}/handover",
        allowed={CP: 201},
        outside={**outside_region(CP), **outside_child(CP)},
        body=lambda p, t: {"receiving_actor": "UNICEF Gao"},
        fresh=True,
    ),
    Rule(
        "POST /cases/{person_id}/vetting-decisions",
        allowed={VO: 201},
        outside={**outside_region(VO), **outside_child(VO)},
        body=lambda p, t: {"status": "held", "reason_code": "new_allegation"},
        fresh=True,
    ),
    Rule(
        "POST /cases/{person_id}/membership-decisions",
        allowed={SO: 201},
        outside={**outside_region(SO), **outside_child(SO)},
        body=lambda p, t: {"verified": True, "reason_code": "listed"},
        fresh=True,
    ),
    Rule(
        "POST /cases/{person_id}/handling-tests",
        allowed={SO: 201},
        outside={**outside_region(SO), **outside_child(SO)},
        body=lambda p, t: {"passed": True},
        fresh=True,
    ),
    Rule(
        "POST /handling-tests/bulk",
        allowed={SO: 200},
        body=lambda p, t: {"items": [{"person_id": p["person_id"], "passed": True}]},
    ),
    Rule(
        "POST /cases/{person_id}/reinsertion-choice",
        allowed={SO: 201},
        outside={**outside_region(SO), **outside_child(SO)},
        fresh=True,
    ),
    # A screening officer appeals an adult's medical decision, child protection a child's age decision
    # (test_access: each refused the other's kind as a route it may not use).
    Rule(
        "POST /cases/{person_id}/appeals",
        allowed={SO: 201, CP: 201},
        outside={**outside_region(SO, CP), **outside_child(SO)},
        body=lambda p, t: {"decision_id": p["decision_id"]},
        fresh=True,
    ),
    Rule(
        "POST /cases/{person_id}/appeals/{appeal_id}/decision",
        allowed={SO: 201, CP: 201},
        outside={**outside_region(SO, CP), **outside_child(SO)},
        body=lambda p, t: {"overturned": False},
        fresh=True,
    ),
    Rule("GET /rule-sets", allowed={SO: 200, AUD: 200, VO: 200}),
    # Programme-wide: refused to every officer of this world (scoped to Gao); NATIONAL_RULES below.
    Rule("POST /rule-sets", body=rule_set),
    Rule("POST /rule-sets/what-if", allowed={SO: 200, AUD: 200, VO: 200}, body=rule_set),
    Rule("GET /vetting-lists", allowed={VO: 200, AUD: 200}),
    Rule("POST /vetting-lists", body=lambda p, t: {"source_ref": f"list-{t}", "entries": []}),
]

NATIONAL_RULES = [
    Rule("POST /rule-sets", allowed={SO: 201}, body=rule_set),
    Rule(
        "POST /vetting-lists",
        allowed={VO: 201},
        body=lambda p, t: {"source_ref": f"list-{t}", "entries": []},
    ),
]
"""What applies programme-wide, as a world whose officers hold tokens of every region."""

QUEUE_OF: dict[Role, str] = {SO: "weapon", EX: "medical", VO: "vetting", CP: "handover", AUD: "outcome"}
KINDS: dict[str, dict[str, Any]] = {
    "adult": {"movement": "MNLA", "region": "Gao"},
    "adult-kidal": {"movement": "MNLA", "region": "Kidal"},
    "adult-gatia": {"movement": "GATIA", "region": "Gao"},
    "child": {"movement": "MNLA", "region": "Gao", "category": "child"},
    "child-kidal": {"movement": "MNLA", "region": "Kidal", "category": "child"},
}


class ScreeningWorld(World):
    """Adults of MNLA in Gao (and one in Kidal, one of GATIA), children of MNLA in Gao and Kidal; callers
    scoped to Gao (a liaison to MNLA). Cases for writes that succeed come from a stock registered at once."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.shared: dict[str, str] = {}
        self.stock: dict[str, list[str]] = {}
        self.unscoped = {role: env.as_role(role) for role in (EX, SO, CP)}

    def claims(self, role: Role) -> Params:
        if role == LIAISON:
            return {"movement": "MNLA"}
        if role == Role.CVR_PARTNER:
            return {"partner": "ngo-1"}
        if role in (SO, EX, VO, CP):
            return {"regions": ["Gao"]}
        return {}

    async def register(self, wanted: dict[str, int]) -> None:
        """Register ``wanted`` people of each kind at once, and wait until every case is open."""
        made = {kind: [str(uuid.uuid4()) for _ in range(count)] for kind, count in wanted.items()}
        year = datetime.now(UTC).year
        for kind, people in made.items():
            facts = dict(KINDS[kind], cercle=KINDS[kind]["region"])
            if facts.get("category") == "child":
                facts["birth_year"] = year - 15
            for person in people:
                await register(self.env.registration, person, **facts)
        reads = self.env.app.state.screening.reads
        everyone = [person for people in made.values() for person in people]

        async def all_open() -> bool:
            return all([await reads.case_row(person) is not None for person in everyone])

        await eventually(all_open, within=120)
        for kind, people in made.items():
            self.shared.setdefault(kind, people[0])
            self.stock.setdefault(kind, []).extend(people[1:])

    async def params(self, case: Case) -> Params:
        kind = self._kind(case)
        succeeds = case.status < 300
        person = self.stock[kind].pop() if case.rule.fresh and succeeds else self.shared[kind]
        params: Params = {
            "person_id": person,
            "kind": QUEUE_OF.get(Role(case.caller), "outcome") if case.caller != "anonymous" else "outcome",
            "decision_id": str(uuid.uuid4()),
            "appeal_id": str(uuid.uuid4()),
        }
        if succeeds and kind.startswith("adult"):
            await self._prepare(case.rule.route, params, SO)
        elif succeeds and kind.startswith("child"):
            await self._prepare(case.rule.route, params, CP)
        return params

    async def _prepare(self, route: str, params: Params, appellant: Role) -> None:
        """What a write needs on its case first: an unfit examination to re-examine, a decision to appeal (an
        adult's medical one, or a child's age determination), an appeal to decide."""
        person = params["person_id"]
        if route.endswith("/re-examination-requests"):
            await self._examine(person, "unfit")
        elif route.endswith("/appeals"):
            params["decision_id"] = await self._appealable(person, appellant)
        elif route.endswith("/decision"):
            appealed = await self._appealable(person, appellant)
            answer = await self.unscoped[appellant].ok(
                f"/cases/{person}/appeals", {"decision_id": appealed}, status=201
            )
            params["appeal_id"] = answer["appeal_id"]

    async def _appealable(self, person: str, appellant: Role) -> str:
        if appellant == SO:
            return await self._examine(person, "fit")
        case = (await self.unscoped[CP].get(f"/cases/{person}")).json()
        return str(next(d["decision_id"] for d in case["decisions"] if d["type"] == "ChildIdentified"))

    async def _examine(self, person: str, result: str) -> str:
        answer = await self.unscoped[EX].ok(f"/cases/{person}/examinations", {"result": result}, status=201)
        return str(answer["decision_id"])

    @staticmethod
    def _kind(case: Case) -> str:
        protector = case.caller == CP
        base = "child" if protector else "adult"
        if case.dimension == "child" and case.side == "other":
            return "adult" if protector else "child"
        if case.dimension == "region" and case.side == "other":
            return f"{base}-kidal"
        if case.dimension == "movement" and case.side == "other":
            return "adult-gatia"
        if case.rule.route.endswith("/age-assessments") or case.rule.route.endswith("/bulk"):
            return "child" if protector else "adult"
        return base


class NationalWorld(ScreeningWorld):
    """The same world, its officers holding tokens of every region."""

    def claims(self, role: Role) -> Params:
        return {} if role in (SO, VO) else super().claims(role)

    async def params(self, case: Case) -> Params:
        return {}  # what it publishes names nobody


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_route_of_screening_has_a_rule(env: Env) -> None:
    assert uncovered_routes(env.app, [*RULES, *runtime_rules(env.app)]) == []


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_role_gets_the_declared_answer_on_every_route_and_scope(
    env: Env, issuer: DevelopmentTokenIssuer
) -> None:
    world = ScreeningWorld(env)
    await world.register({"adult": 27, "adult-kidal": 1, "adult-gatia": 1, "child": 9, "child-kidal": 1})

    mismatches = await check_rules(env.client, issuer, world, [*RULES, *runtime_rules(env.app)])

    assert mismatches == [], "\n".join(map(str, mismatches))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_only_nationally_scoped_officers_publish_rule_sets_and_vetting_lists(
    env: Env, issuer: DevelopmentTokenIssuer
) -> None:
    """Issue 14 item 8: an officer scoped to one region published rule sets and vetting lists that apply
    programme-wide. The world above (officers scoped to Gao) is refused both; here its officers hold tokens of
    every region."""
    mismatches = await check_rules(env.client, issuer, NationalWorld(env), NATIONAL_RULES)

    assert mismatches == [], "\n".join(map(str, mismatches))
