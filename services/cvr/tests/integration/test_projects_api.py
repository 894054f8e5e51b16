"""Partners, projects under their caps, review and appraisal, implementation, and who may do what."""

from __future__ import annotations

import pytest

from ddr_runtime.auth.roles import Role
from ddr_testkit.services import Api, Caller

from .support import MEMBERS, approve, decision, ngo, proposal

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_single_ngo_over_cap_is_refused_naming_the_cap_and_a_consortium_is_accepted(
    officer: Api, historian: Caller
) -> None:
    for partner in ("ong-a", "ong-b", "ong-c"):
        await ngo(officer, partner)
    await officer.ok(
        "/partners/consortia",
        {
            "partner_id": "cons-ab",
            "display_name": "Consortium A-B",
            "lead_partner_id": "ong-a",
            "member_partner_ids": ["ong-a", "ong-b"],
            "registered_on": "2020-01-01",
        },
        201,
    )
    single = historian(Role.CVR_PARTNER, partner="ong-c")
    refused = await single.post("/projects", proposal(budget="120000"))
    assert refused.status_code == 422
    assert refused.json()["rule"] == "budget-cap"
    assert "100,000.00" in refused.json()["detail"]
    assert (await single.get("/projects")).json() == []

    consortium = historian(Role.CVR_PARTNER, partner="cons-ab")
    created = await consortium.post("/projects", proposal(budget="120000"))
    accepted = created.json()
    assert created.status_code == 201
    assert created.headers["location"] == f"/projects/{accepted['project_id']}"
    assert accepted["budget_usd"] == 120000
    assert accepted["cap_usd"] == 300000
    assert accepted["ngo_ids"] == ["ong-a", "ong-b"]
    assert accepted["status"] == "awaiting_local_review"


async def test_a_solar_water_project_without_technical_assessment_cannot_be_approved(
    officer: Api, committee: Api
) -> None:
    await ngo(officer, "ong-eau")
    project = await officer.ok("/projects", proposal(partner_id="ong-eau", project_type="solar_water"), 201)
    pid = project["project_id"]
    await committee.ok(f"/projects/{pid}/decisions", decision("local_review", "2022-01-20"))
    regional = decision("regional_appraisal", "2022-01-25")
    refused = await committee.post(f"/projects/{pid}/decisions", regional)
    assert refused.status_code == 422
    assert refused.json()["rule"] == "technical-assessment-required"
    assert (await officer.get(f"/projects/{pid}")).json()["status"] == "awaiting_regional_appraisal"

    await officer.ok(
        f"/projects/{pid}/technical-assessment",
        {
            "agency": "DNH (Direction nationale de l'hydraulique)",
            "reference": "DRH-MO-2022-14",
            "assessed_on": "2022-01-22",
            "favourable": True,
        },
    )
    await committee.ok(f"/projects/{pid}/decisions", regional)
    approved = await committee.ok(f"/projects/{pid}/decisions", decision("national_appraisal", "2022-02-02"))
    assert approved["status"] == "approved"
    assert approved["approved_on"] == "2022-02-02"


async def test_a_partner_reading_or_editing_another_partners_project_gets_not_found(
    officer: Api, historian: Caller
) -> None:
    await ngo(officer, "ong-1")
    await ngo(officer, "ong-2")
    mine = historian(Role.CVR_PARTNER, subject="p1", partner="ong-1")
    theirs = historian(Role.CVR_PARTNER, subject="p2", partner="ong-2")
    pid = (await mine.ok("/projects", proposal(), 201))["project_id"]

    assert (await mine.get(f"/projects/{pid}")).status_code == 200
    for path in (
        f"/projects/{pid}",
        f"/projects/{pid}/participants",
        f"/projects/{pid}/targets",
        f"/projects/{pid}/history",
    ):
        assert (await theirs.get(path)).status_code == 404, path
    enrol = {"participants": [{"category": "community", "sex": "F", "enrolled_on": "2022-01-15"}]}
    assert (await theirs.post(f"/projects/{pid}/participants", enrol)).status_code == 404
    progress = {"reported_on": "2022-05-01", "percent_complete": 10, "summary": "x"}
    assert (await theirs.post(f"/projects/{pid}/progress-reports", progress)).status_code == 404
    assert (await theirs.get("/projects")).json() == []
    submitted_as_other = await theirs.post("/projects", proposal(partner_id="ong-1"))
    assert submitted_as_other.status_code == 422
    assert submitted_as_other.json()["rule"] == "own-projects-only"


async def test_partner_capacity_history_and_a_consortium_member_sees_its_consortiums_projects(
    officer: Api, caller: Caller, historian: Caller
) -> None:
    for partner_id in ("ong-l", "ong-m", "ong-n"):
        await ngo(officer, partner_id)
    consortium = {
        "partner_id": "cons-lm",
        "display_name": "Consortium L-M",
        "lead_partner_id": "ong-l",
        "member_partner_ids": ["ong-l", "ong-m"],
        "registered_on": "2021-01-01",
    }
    await officer.ok("/partners/consortia", consortium, 201)
    outsider_lead = {**consortium, "partner_id": "cons-bad", "lead_partner_id": "ong-n"}
    assert (await officer.post("/partners/consortia", outsider_lead)).json()[
        "rule"
    ] == "consortium-lead-is-member"
    assert (await officer.post("/partners/consortia", consortium)).status_code == 409
    for rating, on in (("weak", "2021-02-01"), ("adequate", "2022-02-01")):
        assessment = {
            "assessed_on": on,
            "rating": rating,
            "financial_management": "adequate",
            "staff_count": 12,
            "assessor": "MINUSMA SSR-DDR Mopti",
        }
        await officer.ok("/partners/ong-l/capacity-assessments", assessment)
    history = (await caller(Role.AUDITOR).get("/partners/ong-l/history")).json()
    assert [e["data"].get("rating") for e in history] == [None, "weak", "adequate"]
    assert (await officer.get("/partners/ong-l")).json()["capacity_rating"] == "adequate"

    lead = historian(Role.CVR_PARTNER, partner="cons-lm")
    pid = (await lead.ok("/projects", proposal(budget="250000"), 201))["project_id"]
    member = historian(Role.CVR_PARTNER, subject="m", partner="ong-m")
    assert (await member.get(f"/projects/{pid}")).status_code == 200
    progress = {"reported_on": "2022-05-01", "percent_complete": 10, "summary": "x"}
    assert (await member.post(f"/projects/{pid}/progress-reports", progress)).status_code == 404
    outsider = caller(Role.CVR_PARTNER, subject="n", partner="ong-n")
    assert (await outsider.get(f"/projects/{pid}")).status_code == 404
    assert (await outsider.get("/partners/cons-lm")).status_code == 404


async def test_returned_project_is_resubmitted_and_every_decision_is_an_event_with_members_and_conditions(
    officer: Api, committee: Api, caller: Caller, historian: Caller
) -> None:
    await ngo(officer, "ong-r")
    partner = historian(Role.CVR_PARTNER, partner="ong-r")
    pid = (await partner.ok("/projects", proposal(armed_groups_active=True), 201))["project_id"]
    await committee.ok(f"/projects/{pid}/decisions", decision("local_review", "2022-01-20"))
    appraisal = decision(
        "regional_appraisal", "2022-01-25", "returned", conditions=["réduire le budget matériel"]
    )
    no_risk = await committee.post(f"/projects/{pid}/decisions", appraisal)
    assert no_risk.json()["rule"] == "risk-analysis-required"
    risk = {
        "analysed_on": "2022-01-22",
        "political": "high",
        "fiduciary": "medium",
        "legal": "low",
        "reputational": "medium",
        "mitigation": "paiements par banque",
    }
    await officer.ok(f"/projects/{pid}/risk-analysis", risk)
    returned = await committee.ok(f"/projects/{pid}/decisions", appraisal)
    assert returned["status"] == "returned"
    assert (await committee.get("/committees/regional_appraisal/queue")).json() == []

    stale = (await partner.get(f"/projects/{pid}")).headers["ETag"]
    await officer.ok(
        f"/projects/{pid}/risk-analysis", {**risk, "analysed_on": "2022-01-30", "political": "medium"}
    )
    body = proposal(armed_groups_active=True, budget="70000", submitted_on="2022-02-01")
    conflict = await partner.post(f"/projects/{pid}/resubmission", body, if_match=stale)
    assert conflict.status_code == 409
    resubmitted = await partner.ok(f"/projects/{pid}/resubmission", body)
    assert (resubmitted["status"], resubmitted["revision"], resubmitted["budget"]) == (
        "awaiting_local_review",
        1,
        70000,
    )
    queue = (await committee.get("/committees/local_review/queue")).json()
    assert [p["project_id"] for p in queue] == [pid]
    await approve(committee, pid, on="2022-02-10")

    history = (await caller(Role.AUDITOR).get(f"/projects/{pid}/history")).json()
    decisions = [e["data"] for e in history if e["type"] == "ddr.cvr.CommitteeDecided.v1"]
    assert [(d["committee"], d["outcome"], d["revision"]) for d in decisions] == [
        ("local_review", "cleared", 0),
        ("regional_appraisal", "returned", 0),
        ("local_review", "cleared", 1),
        ("regional_appraisal", "cleared", 1),
        ("national_appraisal", "cleared", 1),
    ]
    assert decisions[1]["members_present"] == MEMBERS
    assert decisions[1]["conditions"] == ["réduire le budget matériel"]
    assert all(e["actor"] for e in history)


async def test_roles_donor_sees_aggregates_only_auditor_reads_only_committee_decides_only(
    officer: Api, committee: Api, caller: Caller, historian: Caller
) -> None:
    await ngo(officer, "ong-z")
    partner = historian(Role.CVR_PARTNER, partner="ong-z")
    pid = (await partner.ok("/projects", proposal(), 201))["project_id"]
    donor, auditor = caller(Role.DONOR), caller(Role.AUDITOR)
    assert (await donor.get(f"/projects/{pid}")).status_code == 403
    assert (await donor.get(f"/projects/{pid}/participants")).status_code == 403
    assert (await donor.get("/reports/projects")).status_code == 200
    assert (await partner.get("/reports/projects")).status_code == 403
    assert (await auditor.get(f"/projects/{pid}")).status_code == 200
    assert (await auditor.post("/projects", proposal(partner_id="ong-z"))).status_code == 403
    local_review = decision("local_review", "2022-01-20")
    assert (await partner.post(f"/projects/{pid}/decisions", local_review)).status_code == 403
    assert (await officer.post(f"/projects/{pid}/decisions", local_review)).status_code == 403
    assert (await committee.post("/projects", proposal(partner_id="ong-z"))).status_code == 403
    assert (await committee.get("/committees/local_review/queue")).status_code == 200
    tranche = {"amount": "100", "currency": "USD", "paid_on": "2022-03-01"}
    assert (await partner.post(f"/projects/{pid}/tranches", tranche)).status_code == 403
    narrowed = caller(Role.COMMITTEE_MEMBER, subject="gao", regions=["Gao"])
    assert (await narrowed.get(f"/projects/{pid}")).status_code == 404
    assert (await narrowed.get("/committees/local_review/queue")).json() == []


async def test_implementation_tranches_within_budget_completion_handover_and_wam_collection(
    officer: Api, committee: Api
) -> None:
    await ngo(officer, "ong-w")
    body = proposal(
        partner_id="ong-w",
        project_type="weapons_and_ammunition_management",
        budget="40000000",
        currency="XOF",
        usd_rate="0.0016",
    )
    project = await officer.ok("/projects", body, 201)
    pid = project["project_id"]
    assert project["budget_usd"] == 64000
    early = {"amount": "100", "currency": "XOF", "paid_on": "2022-01-20"}
    assert (await officer.post(f"/projects/{pid}/tranches", early)).json()["rule"] == "tranche-when-approved"
    await approve(committee, pid, on="2022-02-01")
    await officer.ok(
        f"/projects/{pid}/tranches", {"amount": "24000000", "currency": "XOF", "paid_on": "2022-02-10"}
    )
    over = await officer.post(
        f"/projects/{pid}/tranches", {"amount": "20000000", "currency": "XOF", "paid_on": "2022-06-10"}
    )
    assert over.json()["rule"] == "tranches-within-budget"
    paid = await officer.ok(
        f"/projects/{pid}/tranches", {"amount": "16000000", "currency": "XOF", "paid_on": "2022-06-10"}
    )
    assert (paid["tranches_paid"], paid["paid"]) == (2, 40000000)
    items = [
        {"kind": "weapon", "type": "fusil de chasse", "calibre": "12", "quantity": 3, "condition": "usagé"},
        {"kind": "ammunition", "type": "cartouches", "calibre": "12", "quantity": 40, "condition": "bon"},
    ]
    wam = await officer.ok(
        f"/projects/{pid}/wam-collections",
        {"collected_on": "2022-05-02", "custodian": "CNDDR Mopti", "items": items},
    )
    assert wam["wam_items"] == 3
    early_handover = {"handed_over_on": "2022-11-01", "handed_over_to": "mairie"}
    assert (await officer.post(f"/projects/{pid}/handover", early_handover)).json()["rule"] == (
        "hand-over-when-completed"
    )
    await officer.ok(f"/projects/{pid}/completion", {"completed_on": "2022-10-30"})
    done = await officer.ok(
        f"/projects/{pid}/handover",
        {"handed_over_on": "2022-11-01", "handed_over_to": "Conseil communal de Sio"},
    )
    assert done["status"] == "handed_over"


async def test_bad_input_is_a_4xx_naming_the_field(officer: Api) -> None:
    await ngo(officer, "ong-e")
    long = await officer.post("/projects", proposal(partner_id="ong-e", duration_months=13))
    assert long.status_code == 422
    assert long.json()["rule"] == "duration-limit"
    bad_type = await officer.post("/projects", proposal(partner_id="ong-e", project_type="casino"))
    assert bad_type.status_code == 422
    assert [e["field"] for e in bad_type.json()["errors"]] == ["body.project_type"]
    no_rate = await officer.post("/projects", proposal(partner_id="ong-e", currency="XOF"))
    assert no_rate.json()["rule"] == "usd-rate-required"
    assert (await officer.post("/projects", proposal(partner_id="nobody"))).status_code == 404
