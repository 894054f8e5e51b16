"""Reinsertion's authorisation, generated from its route table (issue 14): every route x every role (and an
anonymous caller) x own/other region and child record gets the declared answer, and a route without a rule
fails the coverage test."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from ddr_reinsertion.bootstrap import build_app
from ddr_runtime.auth.roles import Role
from ddr_testkit.authz import Case, Params, Rule, ServiceWorld, authorisation_tests, check_rules, served
from ddr_testkit.services import ServiceEnv
from ddr_testkit.upstream import UpstreamService

from .conftest import PACKAGE, outcome

pytestmark = [pytest.mark.kafka]

RO, FO, CNDDR, AUD, DONOR = (
    Role.REINSERTION_OFFICER,
    Role.FINANCE_OFFICER,
    Role.CNDDR_OFFICER,
    Role.AUDITOR,
    Role.DONOR,
)
NOT_VISIBLE = 404
TODAY = datetime.now(UTC).date().isoformat()  # single-role callers record within the back-recording window
AGGREGATES = {RO: 200, FO: 200, CNDDR: 200, AUD: 200, DONOR: 200}
CASES = {RO: 200, FO: 200, CNDDR: 200, AUD: 200}


def hidden(*roles: Role, region: bool = True) -> dict[tuple[Role, Any], int]:
    """A child's record, to every role, and a person of another region, to the roles narrowed to Gao."""
    outside: dict[tuple[Role, Any], int] = {(role, "child"): NOT_VISIBLE for role in roles}
    if region:
        outside.update({(role, "region"): NOT_VISIBLE for role in roles if role in (RO, FO, CNDDR)})
    return outside


def enrolment(p: Params, token: str) -> dict[str, Any]:
    return {
        "package_id": PACKAGE["package_id"],
        "line_id": "line-1",
        "literacy": "basic",
        "area_of_return": "Gao",
        "enrolled_on": TODAY,
    }


def payment(p: Params, token: str) -> dict[str, Any]:
    return {
        "request_id": f"req-{token}",
        "person_id": p["person_id"],
        "tranche": 1,
        "office": "Gao",
        "paid_on": TODAY,
    }


def a_round(p: Params, t: str) -> dict[str, Any]:
    """A new round of the case's region (Gao, the narrowed roles' own; Kidal outside it)."""
    return {
        "round_id": f"r-{t}",
        "title": "Tour",
        "regions": [p["region"]],
        "size_per_region": 5,
        "opened_on": TODAY,
    }


def a_package(p: Params, t: str) -> dict[str, Any]:
    return {**PACKAGE, "package_id": f"pk-{t}", "effective_on": TODAY}


RULES = [
    # A round of another region than the officer's is refused, as is one naming it beside the officer's.
    Rule("POST /rounds", allowed={RO: 201}, outside={(RO, "region"): 403}, body=a_round),
    Rule("GET /rounds/{round_id}", allowed=AGGREGATES),
    Rule(
        "POST /rounds/{round_id}/volunteers",
        allowed={RO: 200},
        body=lambda p, t: {
            "listed_on": TODAY,
            "volunteers": [
                {
                    "person_id": f"v-{t}",
                    "region": "Gao",
                    "sex": "M",
                    "category": "combatant",
                    "movement": "CMA",
                }
            ],
        },
    ),
    # The catalogue applies to every region: refused to every officer of this world (scoped to Gao);
    # NATIONAL_RULES below.
    Rule("POST /packages", body=a_package),
    Rule("GET /packages", allowed=AGGREGATES),
    Rule(
        "POST /budget-lines",
        allowed={FO: 201},
        body=lambda p, t: {
            "line_id": f"l-{t}",
            "funding_source": "WB",
            "title": "IDA",
            "currency": "XOF",
            "allotted": 1000,
            "opened_on": TODAY,
        },
    ),
    Rule(
        "POST /budget-lines/{line_id}/receipts",
        allowed={FO: 200},
        body=lambda p, t: {"amount": 1, "reference": f"DA-{t}", "received_on": TODAY},
    ),
    Rule("GET /budget-lines", allowed=AGGREGATES),
    Rule("GET /budget-lines/{line_id}", allowed=AGGREGATES),
    Rule("GET /dashboard", allowed=AGGREGATES),
    Rule("GET /beneficiaries", allowed=CASES),
    Rule("GET /beneficiaries/{person_id}", allowed=CASES, outside=hidden(RO, FO, CNDDR, AUD)),
    Rule("GET /beneficiaries/{person_id}/profile", allowed={RO: 200, AUD: 200}, outside=hidden(RO, AUD)),
    Rule(
        "POST /beneficiaries/{person_id}/enrolment",
        allowed={RO: 201},
        outside=hidden(RO),
        body=enrolment,
        fresh=True,
    ),
    Rule(
        "POST /enrolments",
        allowed={RO: 200},
        body=lambda p, t: {"enrolments": [{**enrolment(p, t), "person_id": p["person_id"]}]},
        fresh=True,
    ),
    Rule(
        "POST /beneficiaries/{person_id}/training",
        allowed={RO: 204},
        outside=hidden(RO),
        body=lambda p, t: {"provider": "CFP Gao", "attended_on": TODAY},
    ),
    Rule(
        "POST /beneficiaries/{person_id}/visits",
        allowed={RO: 204},
        outside=hidden(RO),
        body=lambda p, t: {"visit_id": f"vis-{t}", "outcome": "business_running", "visited_on": TODAY},
    ),
    Rule(
        "POST /beneficiaries/{person_id}/exit",
        allowed={RO: 204},
        outside=hidden(RO),
        body=lambda p, t: {"reason": "dropped_out", "effective_on": TODAY},
        fresh=True,
    ),
    Rule("GET /tranches/due", allowed=CASES, query=lambda p: {"as_of": TODAY}),
    Rule("GET /visits/overdue", allowed=CASES, query=lambda p: {"as_of": TODAY}),
    Rule("POST /disbursements", allowed={FO: 201}, outside=hidden(FO), body=payment, fresh=True),
    Rule(
        "POST /disbursements/batch",
        allowed={FO: 200},
        body=lambda p, t: {"disbursements": [payment(p, t)]},
        fresh=True,
    ),
]


NATIONAL_RULES = [
    Rule("POST /packages", allowed={RO: 201}, body=a_package),
    Rule("POST /rounds", allowed={RO: 201}, body=a_round),
]
"""What a nationally scoped officer (a token of every region) may do that a regional one may not."""


class ReinsertionWorld(ServiceWorld):
    """A round and a package, a funded budget line, volunteers in Gao (the narrowed roles' own region) and
    Kidal, enrolled or waiting as a case needs, and a child barred by screening."""

    CLAIMS: ClassVar[Mapping[Role, Params]] = {
        **{role: {"regions": ["Gao"]} for role in (RO, FO, CNDDR)},
        Role.MOVEMENT_LIAISON: {"movement": "CMA"},
        Role.CVR_PARTNER: {"partner": "ong-1"},
    }

    async def params(self, case: Case) -> Params:
        await self.prepared()
        waiting = case.rule.route in ("POST /beneficiaries/{person_id}/enrolment", "POST /enrolments")
        if case.dimension == "child" and case.side == "other":
            person_id = self.child
        else:
            home = "Kidal" if case.dimension == "region" and case.side == "other" else "Gao"
            person_id = await self._person(home, enrolled=not waiting, fresh=case.rule.fresh)
        region = "Kidal" if case.dimension == "region" and case.side == "other" else "Gao"
        return {"person_id": person_id, "round_id": "round-1", "line_id": "line-1", "region": region}

    async def prepare(self) -> None:
        self.people: dict[tuple[str, bool], str] = {}
        await self.post(
            "/rounds",
            {
                "round_id": "round-1",
                "title": "Tour",
                "regions": ["Gao", "Kidal"],
                "size_per_region": 1000,
                "opened_on": TODAY,
            },
            201,
            RO,
        )
        await self.post("/packages", {**PACKAGE, "effective_on": TODAY}, 201, RO)
        line = {
            "line_id": "line-1",
            "funding_source": "WB",
            "title": "IDA",
            "currency": "XOF",
            "allotted": 2 * 10**12,
            "opened_on": TODAY,
        }
        await self.post("/budget-lines", line, 201, FO)
        await self.post(
            "/budget-lines/line-1/receipts",
            {"amount": 10**12, "reference": "DA-1", "received_on": TODAY},
            200,
            FO,
        )
        self.child = f"child-{uuid.uuid4().hex[:8]}"
        async with UpstreamService("screening", self.settings) as screening:
            await screening.emit(self.child, outcome(self.child, track="child_protection"))
        queries = self.app.state.queries
        for _ in range(300):
            if await queries.standing(self.child) is not None:
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the child's screening outcome never arrived")

    async def _person(self, region: str, *, enrolled: bool, fresh: bool) -> str:
        if (region, enrolled) in self.people and not fresh:
            return self.people[(region, enrolled)]
        person_id = f"p-{uuid.uuid4().hex[:10]}"
        volunteer = {
            "person_id": person_id,
            "region": region,
            "sex": "M",
            "category": "combatant",
            "movement": "CMA",
        }
        listed = await self.post(
            "/rounds/round-1/volunteers", {"listed_on": TODAY, "volunteers": [volunteer]}, 200, RO
        )
        assert listed["recorded"] == 1, listed
        if enrolled:
            await self.post(f"/beneficiaries/{person_id}/enrolment", enrolment({}, ""), 201, RO)
        self.people.setdefault((region, enrolled), person_id)
        return person_id


(
    test_every_reinsertion_route_has_a_rule,
    test_every_role_gets_the_declared_answer_on_every_reinsertion_route_in_and_out_of_its_scope,
) = authorisation_tests("reinsertion", build_app, RULES, ReinsertionWorld)


class NationalWorld(ServiceWorld):
    """Officers holding tokens of every region, on rounds of Kidal and new packages (nothing to prepare)."""

    CLAIMS: ClassVar[Mapping[Role, Params]] = {
        Role.MOVEMENT_LIAISON: {"movement": "CMA"},
        Role.CVR_PARTNER: {"partner": "ong-1"},
    }

    async def params(self, case: Case) -> Params:
        return {"region": "Kidal"}


async def test_only_nationally_scoped_officers_publish_packages_and_open_rounds_of_any_region(
    service_env: ServiceEnv,
) -> None:
    """Issue 14 review: a reinsertion officer scoped to Gao published packages (which apply everywhere) and
    opened rounds of any region. The world above refuses both; here its officers hold tokens of every region."""
    async with served(service_env, "reinsertion", build_app) as running:
        world = NationalWorld(running, service_env.issuer)

        mismatches = await check_rules(running.client, service_env.issuer, world, NATIONAL_RULES)

    assert mismatches == [], "\n".join(map(str, mismatches))
