"""Business time on every dated CVR command: never in the future, never before the fact it depends on, and
older than the back-recording window only for a records officer who gives a reason (kept in the event)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ddr_runtime.auth.roles import Role
from ddr_testkit.services import Api, Caller

from .conftest import REASON
from .support import decision, ngo, proposal

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SUBMITTED, REVIEWED, APPRAISED, APPROVED, COMPLETED = (
    "2022-01-10",
    "2022-01-20",
    "2022-01-25",
    "2022-02-01",
    "2022-10-30",
)
STAGES = ("submitted", "reviewed", "appraised", "approved", "completed")


async def project_at(officer: Api, committee: Api, stage: str, **overrides: Any) -> str:
    """A project of ``ong-t`` taken through the workflow up to ``stage``, on the dates above."""
    await ngo(officer, "ong-t", on="2015-01-01")
    pid: str = (await officer.ok("/projects", proposal(partner_id="ong-t", **overrides), 201))["project_id"]
    steps = [
        (committee, "decisions", decision("local_review", REVIEWED)),
        (committee, "decisions", decision("regional_appraisal", APPRAISED)),
        (committee, "decisions", decision("national_appraisal", APPROVED)),
        (officer, "completion", {"completed_on": COMPLETED}),
    ]
    for party, path, body in steps[: STAGES.index(stage)]:
        await party.ok(f"/projects/{pid}/{path}", body)
    return pid


def day_before(day: str) -> str:
    return (date.fromisoformat(day) - timedelta(days=1)).isoformat()


@dataclass(frozen=True)
class Dated:
    """A dated command on a project at ``stage``, dated the day before the fact it depends on."""

    stage: str
    path: str
    body: dict[str, Any]
    depends_on: str
    not_before: str
    by_committee: bool = False


DATED = [
    Dated(
        "submitted",
        "technical-assessment",
        {"agency": "DNH", "reference": "T-1", "assessed_on": day_before(SUBMITTED), "favourable": True},
        "the project's submission",
        SUBMITTED,
    ),
    Dated(
        "submitted",
        "risk-analysis",
        {
            "analysed_on": day_before(SUBMITTED),
            "political": "low",
            "fiduciary": "low",
            "legal": "low",
            "reputational": "low",
            "mitigation": "x",
        },
        "the project's submission",
        SUBMITTED,
    ),
    Dated(
        "submitted",
        "decisions",
        decision("local_review", day_before(SUBMITTED)),
        "the project's submission",
        SUBMITTED,
        by_committee=True,
    ),
    Dated(
        "reviewed",
        "decisions",
        decision("regional_appraisal", day_before(REVIEWED)),
        "the local review",
        REVIEWED,
        by_committee=True,
    ),
    Dated(
        "appraised",
        "decisions",
        decision("national_appraisal", day_before(APPRAISED)),
        "the regional appraisal",
        APPRAISED,
        by_committee=True,
    ),
    Dated(
        "approved",
        "beneficiary-counts",
        {"counted_on": day_before(APPROVED), "direct": 10, "direct_women": 5},
        "the project's approval",
        APPROVED,
    ),
    Dated(
        "approved",
        "tranches",
        {"amount": "100", "currency": "USD", "paid_on": day_before(APPROVED)},
        "the project's approval",
        APPROVED,
    ),
    Dated(
        "approved",
        "progress-reports",
        {"reported_on": day_before(APPROVED), "percent_complete": 5, "summary": "x"},
        "the project's approval",
        APPROVED,
    ),
    Dated(
        "approved",
        "wam-collections",
        {
            "collected_on": day_before(APPROVED),
            "custodian": "CNDDR",
            "items": [{"kind": "weapon", "type": "AK", "calibre": "7.62", "quantity": 1, "condition": "ok"}],
        },
        "the project's approval",
        APPROVED,
    ),
    Dated(
        "approved", "completion", {"completed_on": day_before(APPROVED)}, "the project's approval", APPROVED
    ),
    Dated(
        "completed",
        "handover",
        {"handed_over_on": day_before(COMPLETED), "handed_over_to": "mairie"},
        "the project's completion",
        COMPLETED,
    ),
    Dated(
        "completed",
        "monitoring-visits",
        {"visit_kind": "on_site", "visited_on": day_before(COMPLETED), "findings": "x"},
        "the project's completion",
        COMPLETED,
    ),
]


@pytest.mark.parametrize("dated", DATED, ids=[f"{d.path}@{d.stage}" for d in DATED])
async def test_a_dated_command_before_the_fact_it_depends_on_is_refused_naming_both_dates(
    officer: Api, committee: Api, dated: Dated
) -> None:
    pid = await project_at(officer, committee, dated.stage)

    refused = await (committee if dated.by_committee else officer).post(
        f"/projects/{pid}/{dated.path}", dated.body
    )

    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert (problem["rule"], problem["depends_on"], problem["not_before"]) == (
        "occurred-before-dependency",
        dated.depends_on,
        f"{dated.not_before}T00:00:00Z",
    )
    assert problem["occurred_at"] == f"{day_before(dated.not_before)}T00:00:00Z"


async def test_an_appraisal_is_never_before_the_risk_analysis_it_relies_on(
    officer: Api, committee: Api
) -> None:
    pid = await project_at(officer, committee, "reviewed", armed_groups_active=True)
    risk = {"political": "high", "fiduciary": "low", "legal": "low", "reputational": "low", "mitigation": "x"}
    await officer.ok(f"/projects/{pid}/risk-analysis", {**risk, "analysed_on": "2022-01-24"})

    early = await committee.post(f"/projects/{pid}/decisions", decision("regional_appraisal", "2022-01-23"))
    same_day = await committee.post(
        f"/projects/{pid}/decisions", decision("regional_appraisal", "2022-01-24")
    )

    assert (early.status_code, early.json()["depends_on"]) == (422, "the risk analysis")
    assert same_day.status_code == 200


async def test_partners_and_their_records_are_never_dated_before_what_they_rest_on(officer: Api) -> None:
    await ngo(officer, "ong-1", on="2019-05-01")
    await ngo(officer, "ong-2", on="2019-06-01")
    consortium = {
        "partner_id": "cons-12",
        "display_name": "Consortium 1-2",
        "lead_partner_id": "ong-1",
        "member_partner_ids": ["ong-1", "ong-2"],
        "registered_on": "2019-05-15",
    }
    assessment = {
        "assessed_on": "2019-04-30",
        "rating": "weak",
        "financial_management": "weak",
        "staff_count": 3,
        "assessor": "MINUSMA",
    }

    early_consortium = await officer.post("/partners/consortia", consortium)
    early_assessment = await officer.post("/partners/ong-1/capacity-assessments", assessment)
    early_project = await officer.post("/projects", proposal(partner_id="ong-2", submitted_on="2019-05-31"))

    assert early_consortium.json()["depends_on"] == "the registration of its member ong-2"
    assert early_assessment.json()["depends_on"] == "the partner's registration"
    assert early_project.json()["depends_on"] == "the partner's registration"
    assert {r.status_code for r in (early_consortium, early_assessment, early_project)} == {422}


async def test_history_older_than_the_window_needs_the_records_officer_and_a_reason_kept_in_the_event(
    officer: Api, caller: Caller, historian: Caller
) -> None:
    pid = await project_at(officer, historian(Role.COMMITTEE_MEMBER), "submitted")
    without_role = caller(Role.COMMITTEE_MEMBER, subject="member-1")
    without_reason = caller(Role.COMMITTEE_MEMBER, Role.RECORDS_OFFICER, subject="member-2")
    with_both = historian(Role.COMMITTEE_MEMBER, subject="member-3")
    review = decision("local_review", REVIEWED)

    refused_role = await without_role.post(f"/projects/{pid}/decisions", review, back_recording_reason=REASON)
    refused_reason = await without_reason.post(f"/projects/{pid}/decisions", review)
    accepted = await with_both.post(f"/projects/{pid}/decisions", review)

    assert (refused_role.status_code, refused_role.json()["rule"]) == (422, "back-recording-not-authorised")
    assert (refused_reason.status_code, refused_reason.json()["rule"]) == (
        422,
        "back-recording-not-authorised",
    )
    assert refused_role.json()["occurred_at"] == f"{REVIEWED}T00:00:00Z"
    assert accepted.status_code == 200
    history = (await caller(Role.AUDITOR).get(f"/projects/{pid}/history")).json()
    assert (history[-1]["type"], history[-1]["occurred_at"], history[-1]["back_recording_reason"]) == (
        "ddr.cvr.CommitteeDecided.v1",
        f"{REVIEWED}T00:00:00Z",
        REASON,
    )


async def test_a_fact_of_today_needs_no_authority_and_one_in_the_future_is_refused(
    caller: Caller, officer: Api
) -> None:
    today = datetime.now(UTC).date()
    await ngo(officer, "ong-f", on="2015-01-01")
    partner = caller(Role.CVR_PARTNER, partner="ong-f")

    current = await partner.post("/projects", proposal(submitted_on=today.isoformat()))
    future = await partner.post("/projects", proposal(submitted_on=(today + timedelta(days=2)).isoformat()))

    assert current.status_code == 201
    assert (future.status_code, future.json()["rule"]) == (422, "occurred-in-future")


async def test_the_visit_is_due_a_year_after_the_business_date_of_completion_whenever_it_was_recorded(
    officer: Api, committee: Api
) -> None:
    pid = await project_at(officer, committee, "completed")

    due_eve = (await officer.get("/monitoring/overdue-visits", as_of="2023-10-30")).json()
    overdue = (await officer.get("/monitoring/overdue-visits", as_of="2023-10-31")).json()
    await officer.ok(
        f"/projects/{pid}/monitoring-visits",
        {"visit_kind": "on_site", "visited_on": "2023-11-02", "findings": "Forage fonctionnel"},
    )
    after_visit = (await officer.get("/monitoring/overdue-visits", as_of="2023-11-30")).json()

    assert due_eve == []
    assert [(v["project_id"], v["visit_due_on"], v["days_overdue"]) for v in overdue] == [
        (pid, "2023-10-30", 1)
    ]
    assert after_visit == []
