"""CVR's authorisation, generated from its route table (issue 14): every route x every role (and an anonymous
caller) x own/other partner and region gets the declared answer, and a route without a rule fails the
coverage test. The allowed status of a write is what its role gets on a project just submitted (a 422 where
the project's stage refuses the step: the caller passed the roles and the scope, the domain decided)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import pytest

from ddr_cvr.bootstrap import build_app
from ddr_runtime.auth.roles import Role
from ddr_testkit.authz import Case, Params, Rule, ServiceWorld, authorisation_tests

from .support import decision, proposal

pytestmark = [pytest.mark.kafka]

PARTNER, COMMITTEE, OFFICER = Role.CVR_PARTNER, Role.COMMITTEE_MEMBER, Role.CNDDR_OFFICER
AUDITOR, DONOR = Role.AUDITOR, Role.DONOR
NOT_VISIBLE = 404
TODAY = datetime.now(UTC).date().isoformat()  # single-role callers record within the back-recording window
RECORDING = {"Back-Recording-Reason": "the world of the test"}
READERS = {PARTNER: 200, COMMITTEE: 200, OFFICER: 200, AUDITOR: 200}


def scoped(*roles: Role, partner: bool = True) -> dict[tuple[Role, Any], int]:
    """Outside the caller's scope: another partner's project (partners), another region's (the others)."""
    outside: dict[tuple[Role, Any], int] = {}
    for role in roles:
        if role == PARTNER and partner:
            outside[(role, "partner")] = NOT_VISIBLE
        elif role in (COMMITTEE, OFFICER):
            outside[(role, "region")] = NOT_VISIBLE
    return outside


def today_proposal(**overrides: Any) -> dict[str, Any]:
    return proposal(submitted_on=TODAY, planned_start=TODAY, **overrides)


def project_body(p: Params, token: str) -> dict[str, Any]:
    return today_proposal(
        project_id=f"p-{token}", partner_id=p["partner_id"], region=p["region"], cercle=p["region"]
    )


def member(p: Params, token: str) -> dict[str, Any]:
    enrolment = {
        "participant_id": f"m-{token}",
        "category": "community",
        "sex": "F",
        "enrolled_on": TODAY,
    }
    return {"participants": [enrolment]}


RULES = [
    Rule(
        "POST /partners/ngos",
        allowed={OFFICER: 201},
        body=lambda p, t: {
            "partner_id": f"ong-{t}",
            "display_name": "ONG",
            "regions": ["Gao"],
            "registered_on": TODAY,
        },
    ),
    Rule(
        "POST /partners/consortia",
        allowed={OFFICER: 201},
        body=lambda p, t: {
            "partner_id": f"cons-{t}",
            "display_name": "Consortium",
            "lead_partner_id": p["members"][0],
            "member_partner_ids": p["members"],
            "registered_on": TODAY,
        },
        fresh=True,
    ),
    Rule(
        "POST /partners/{partner_id}/capacity-assessments",
        allowed={OFFICER: 200},
        body=lambda p, t: {
            "assessed_on": TODAY,
            "rating": "adequate",
            "financial_management": "adequate",
            "staff_count": 4,
            "assessor": "CNDDR",
        },
    ),
    Rule("GET /partners", allowed={OFFICER: 200, AUDITOR: 200, COMMITTEE: 200}),
    Rule("GET /partners/{partner_id}", allowed=READERS, outside=scoped(PARTNER)),
    Rule("GET /partners/{partner_id}/history", allowed=READERS, outside=scoped(PARTNER)),
    Rule("GET /programmes", allowed=READERS),
    Rule(
        "POST /projects",
        allowed={PARTNER: 201, OFFICER: 201},
        outside={(PARTNER, "partner"): 422, (OFFICER, "region"): 422},
        body=project_body,
    ),
    Rule("GET /projects", allowed=READERS),
    Rule("GET /projects/{project_id}", allowed=READERS, outside=scoped(PARTNER, COMMITTEE, OFFICER)),
    Rule("GET /projects/{project_id}/history", allowed=READERS, outside=scoped(PARTNER, COMMITTEE, OFFICER)),
    Rule("GET /projects/{project_id}/targets", allowed=READERS, outside=scoped(PARTNER, COMMITTEE, OFFICER)),
    Rule(
        "POST /projects/{project_id}/resubmission",
        allowed={
            PARTNER: 422,
            OFFICER: 422,
        },  # a project awaiting review is not returned: nothing to resubmit
        outside=scoped(PARTNER, OFFICER),
        body=lambda p, t: today_proposal(region=p["region"], cercle=p["region"]),
    ),
    Rule(
        "POST /projects/{project_id}/technical-assessment",
        allowed={OFFICER: 200},
        outside=scoped(OFFICER),
        body=lambda p, t: {
            "agency": "DNH",
            "reference": f"ta-{t}",
            "assessed_on": TODAY,
            "favourable": True,
        },
    ),
    Rule(
        "POST /projects/{project_id}/risk-analysis",
        allowed={OFFICER: 200},
        outside=scoped(OFFICER),
        body=lambda p, t: {
            "analysed_on": TODAY,
            "political": "low",
            "fiduciary": "low",
            "legal": "low",
            "reputational": "low",
            "mitigation": "suivi",
        },
    ),
    Rule(
        "POST /projects/{project_id}/decisions",
        allowed={COMMITTEE: 200},
        outside=scoped(COMMITTEE),
        body=lambda p, t: decision("local_review", TODAY),
        fresh=True,
    ),
    Rule("GET /committees/{committee}/queue", allowed={COMMITTEE: 200, OFFICER: 200, AUDITOR: 200}),
    Rule(
        "POST /projects/{project_id}/beneficiary-counts",
        allowed={PARTNER: 422, OFFICER: 422},
        outside=scoped(PARTNER, OFFICER),
        body=lambda p, t: {"counted_on": TODAY, "direct": 10, "direct_women": 5},
    ),
    Rule(
        "POST /projects/{project_id}/tranches",
        allowed={OFFICER: 422},
        outside=scoped(OFFICER),
        body=lambda p, t: {"amount": "1000", "currency": "USD", "paid_on": TODAY},
    ),
    Rule(
        "POST /projects/{project_id}/progress-reports",
        allowed={PARTNER: 422, OFFICER: 422},
        outside=scoped(PARTNER, OFFICER),
        body=lambda p, t: {"reported_on": TODAY, "percent_complete": 10, "summary": "début"},
    ),
    Rule(
        "POST /projects/{project_id}/completion",
        allowed={OFFICER: 422},
        outside=scoped(OFFICER),
        body=lambda p, t: {"completed_on": TODAY},
    ),
    Rule(
        "POST /projects/{project_id}/handover",
        allowed={OFFICER: 422},
        outside=scoped(OFFICER),
        body=lambda p, t: {"handed_over_on": TODAY, "handed_over_to": "Mairie"},
    ),
    Rule(
        "POST /projects/{project_id}/wam-collections",
        allowed={OFFICER: 422},
        outside=scoped(OFFICER),
        body=lambda p, t: {
            "collected_on": TODAY,
            "custodian": "CNDDR",
            "items": [
                {"kind": "weapon", "type": "AK-47", "calibre": "7.62", "quantity": 1, "condition": "bon"}
            ],
        },
    ),
    Rule(
        "POST /projects/{project_id}/monitoring-visits",
        allowed={OFFICER: 422},
        outside=scoped(OFFICER),
        body=lambda p, t: {"visit_kind": "on_site", "visited_on": TODAY, "findings": "RAS"},
    ),
    Rule(
        "POST /projects/{project_id}/participants",
        allowed={PARTNER: 200, OFFICER: 200},
        outside=scoped(PARTNER, OFFICER),
        body=member,
    ),
    Rule(
        "GET /projects/{project_id}/participants",
        allowed={PARTNER: 200, OFFICER: 200, AUDITOR: 200},
        outside=scoped(PARTNER, OFFICER),
    ),
    Rule(
        "POST /participants/{participant_id}/withdrawal",
        allowed={PARTNER: 200, OFFICER: 200},
        outside=scoped(PARTNER, OFFICER),
        body=lambda p, t: {"withdrawn_on": TODAY, "reason": "départ"},
        fresh=True,
    ),
    Rule("GET /reports/projects", allowed={DONOR: 200, OFFICER: 200, AUDITOR: 200}),
    Rule("GET /monitoring/overdue-visits", allowed={OFFICER: 200, AUDITOR: 200}),
]


class CvrWorld(ServiceWorld):
    """Partners ong-1 (the partners' own) and ong-2 in Gao, ong-3 in Kidal, each with a submitted project and a
    participant; committee members, officers and donors are narrowed to Gao, partners are ong-1."""

    CLAIMS: ClassVar[Mapping[Role, Params]] = {
        PARTNER: {"partner": "ong-1"},
        **{role: {"regions": ["Gao"]} for role in (COMMITTEE, OFFICER, DONOR)},
        Role.MOVEMENT_LIAISON: {"movement": "MNLA"},
    }

    async def params(self, case: Case) -> Params:
        await self.prepared()
        partner, region = "ong-1", "Gao"
        if case.side == "other" and case.dimension == "partner":
            partner = "ong-2"
        elif case.side == "other" and case.dimension == "region":
            partner, region = "ong-3", "Kidal"
        fresh = case.rule.fresh
        project_id = await self._project(partner, region) if fresh else self.projects[partner]
        participant_id = await self._participant(project_id)
        return {
            "partner_id": partner,
            "region": region,
            "project_id": project_id,
            "participant_id": participant_id,
            "committee": "local_review",
            "person_id": participant_id,
            "members": [await self._ngo("Gao"), await self._ngo("Gao")] if fresh else ["ong-1", "ong-2"],
        }

    async def prepare(self) -> None:
        self.projects: dict[str, str] = {}
        for partner, region in (("ong-1", "Gao"), ("ong-2", "Gao"), ("ong-3", "Kidal")):
            await self._ngo(region, partner)
            self.projects[partner] = await self._project(partner, region)

    async def _ngo(self, region: str, partner_id: str | None = None) -> str:
        partner_id = partner_id or f"ong-{uuid.uuid4().hex[:8]}"
        body = {
            "partner_id": partner_id,
            "display_name": partner_id,
            "regions": [region],
            "registered_on": TODAY,
        }
        await self._post("/partners/ngos", body, 201)
        return partner_id

    async def _project(self, partner: str, region: str) -> str:
        body = today_proposal(
            project_id=f"p-{uuid.uuid4().hex[:8]}", partner_id=partner, region=region, cercle=region
        )
        return str((await self._post("/projects", body, 201))["project_id"])

    async def _participant(self, project_id: str) -> str:
        participant_id = f"m-{uuid.uuid4().hex[:8]}"
        enrolment = {
            "participant_id": participant_id,
            "category": "community",
            "sex": "M",
            "enrolled_on": TODAY,
        }
        await self._post(f"/projects/{project_id}/participants", {"participants": [enrolment]}, 200)
        return participant_id

    async def _post(self, path: str, body: Any, status: int) -> Any:
        """As an officer recording the programme's history (a records officer too, with a reason)."""
        return await self.post(path, body, status, OFFICER, Role.RECORDS_OFFICER, headers=RECORDING)


(
    test_every_cvr_route_has_a_rule,
    test_every_role_gets_the_declared_answer_on_every_cvr_route_in_and_out_of_its_scope,
) = authorisation_tests("cvr", build_app, RULES, CvrWorld)
