"""The integration service's behaviours over HTTP, fed by screening, reinsertion and registration events on a
real Kafka broker, on PostgreSQL and on SQLite."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from kafka import KafkaConsumer

from ddr_contracts.reinsertion import BeneficiaryEnrolled, BeneficiaryExited
from ddr_contracts.screening import BenefitsHeld, BenefitsReleased
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_testkit.services import Api
from ddr_testkit.upstream import UpstreamService

from .conftest import (
    OUTCOME_DAY,
    Programme,
    RecordsOfficer,
    assign,
    at,
    caller,
    coalitions,
    cohort,
    eventually,
    items_of,
    outcome,
    status_of,
    unit,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

COALITIONS = {"MNLA": "CMA", "HCUA": "CMA", "GATIA": "Platform", "CMFPR": "Platform"}


# -- quotas -------------------------------------------------------------------------------------------------


async def test_exhausted_quota_refuses_the_next_candidate_with_figures_and_a_raising_decision_lets_it_in(
    programme: Programme, nic: Api
) -> None:
    await programme.quota("2022-MNLA", 2, movement="MNLA")
    three = await programme.candidates("MNLA", 3)
    shown = {p: await status_of(nic, p) for p in three}
    assert sorted(v["status"] for v in shown.values()) == ["accepted", "accepted", "deferred"]
    third = next(p for p, v in shown.items() if v["status"] == "deferred")
    assert shown[third]["deferral_reason"] == "quota_exhausted"

    refused = await nic.post(f"/candidates/{third}/acceptance", {"effective_on": "2022-03-02"})
    assert refused.status_code == 409
    problem = refused.json()
    assert (problem["rule"], problem["used"], problem["limit"]) == ("quota_exhausted", 2, 2)
    assert problem["figures"]["quota_id"] == "2022-MNLA"

    await nic.ok(
        "/quotas/2022-MNLA/decisions",
        {
            "limit": 3,
            "decision_ref": "CNDDR-2022-07",
            "reason": "raised after talks",
            "effective_on": "2022-03-02",
        },
    )
    accepted = await nic.ok(f"/candidates/{third}/acceptance", {"effective_on": "2022-03-02"})
    assert (accepted["status"], accepted["quota_id"]) == ("accepted", "2022-MNLA")
    quota = (await nic.get("/quotas")).json()["items"][0]
    assert (quota["used"], quota["limit"], [d["limit"] for d in quota["decisions"]]) == (3, 3, [2, 3])


async def test_programme_wide_and_yearly_quotas_both_bind(programme: Programme, nic: Api) -> None:
    await programme.quota("2022-offer-year-1", 1)  # all movements
    await programme.quota("2022-GATIA", 5, movement="GATIA")
    pair = await programme.candidates("GATIA", 2)
    statuses = {p: (await status_of(nic, p))["status"] for p in pair}
    assert sorted(statuses.values()) == [
        "accepted",
        "deferred",
    ]  # whichever Kafka delivered first got the place
    second = next(p for p, s in statuses.items() if s == "deferred")
    refused = await nic.post(f"/candidates/{second}/acceptance", {"effective_on": "2022-03-01"})
    assert refused.status_code == 409
    assert (refused.json()["figures"]["quota_id"], refused.json()["used"]) == ("2022-offer-year-1", 1)


# -- rule of thirds ------------------------------------------------------------------------------------------


async def test_a_unit_of_300_in_thirds_refuses_the_assignment_that_breaks_the_rule_in_strength_and_command_posts(
    programme: Programme,
    nic: Api,
    mod: Api,
    registration: UpstreamService,
) -> None:
    await coalitions(registration, nic, COALITIONS, date(2015, 6, 20))
    await programme.quota("2022", 1000)
    await programme.rules()
    await cohort(nic, "kati-1", 250)
    cma = await programme.candidates("MNLA", 110)
    platform = await programme.candidates("GATIA", 100)
    await programme.trained(cma + platform, "kati-1")
    await unit(nic, "BATFAR-Gao", 400, tolerance=0.02)
    assert (
        await mod.post(
            "/units/BATFAR-Gao/armed-forces-contingent",
            {"strength": 100, "command_posts": 10, "effective_on": "2022-07-01"},
        )
    ).status_code == 200
    # One coalition alone cannot fill the battalion; formed together, every party holds its third.
    alone = await assign(nic, "BATFAR-Gao", cma[:100], "2022-07-01", command_posts=10)
    assert (alone.status_code, alone.json()["rule"]) == (422, "rule_of_thirds_strength")
    composed = await nic.post(
        "/units/BATFAR-Gao/assignments",
        {
            "assignments": [
                {"person_id": p, "command_post": i % 100 < 10} for i, p in enumerate(cma[:100] + platform)
            ],
            "effective_on": "2022-07-01",
        },
    )
    assert composed.status_code == 200, composed.text
    assert composed.json()["recorded"] == 200
    thirds = composed.json()["composition"]
    assert thirds["strength"] == {"armed_forces": 100, "CMA": 100, "Platform": 100}
    assert thirds["command_posts"] == {"armed_forces": 10, "CMA": 10, "Platform": 10}

    # An eleventh CMA command post: 11 of 31 posts is over a third plus 2 points.
    refused = await assign(nic, "BATFAR-Gao", cma[100:101], "2022-07-02", command_posts=1)
    assert refused.status_code == 422
    assert refused.json()["rule"] == "rule_of_thirds_command"
    assert refused.json()["figures"]["command_posts"] == {"armed_forces": 10, "CMA": 10, "Platform": 10}
    # The same member in the ranks is within the tolerance (101 of 301).
    assert (await assign(nic, "BATFAR-Gao", cma[100:101], "2022-07-02")).json()["recorded"] == 1
    assert (await assign(nic, "BATFAR-Gao", cma[101:108], "2022-07-02")).json()["recorded"] == 7  # 108/308

    # Two at once, where only one fits (109 of 309 passes, 110 of 310 does not): one is refused.
    both = await asyncio.gather(
        assign(nic, "BATFAR-Gao", cma[108:109], "2022-07-03"),
        assign(nic, "BATFAR-Gao", cma[109:110], "2022-07-03"),
    )
    assert sorted(r.status_code for r in both) == [200, 422]
    breaking = next(r for r in both if r.status_code == 422).json()
    assert breaking["rule"] == "rule_of_thirds_strength"
    assert breaking["figures"]["strength"] == {"armed_forces": 100, "CMA": 109, "Platform": 100}
    assert breaking["figures"]["total_strength"] == 309

    now = (await nic.get("/units/BATFAR-Gao/composition", as_of="2022-07-03")).json()
    assert now["strength"]["CMA"] == 109
    assert now["may_take_one_more"] == {"armed_forces": True, "CMA": False, "Platform": True}
    before = (await nic.get("/units/BATFAR-Gao/composition", as_of="2022-06-30")).json()
    assert before["total_strength"] == 0


async def test_a_movement_outside_the_signatory_coalitions_is_refused_by_a_thirds_unit(
    programme: Programme, nic: Api, registration: UpstreamService
) -> None:
    await coalitions(registration, nic, {"MNLA": "CMA"}, date(2015, 6, 20))
    await programme.quota("2022", 10)
    await programme.rules()
    await cohort(nic, "kati-2", 10)
    [member] = await programme.candidates("CMI-X", 1)
    await programme.trained([member], "kati-2")
    await unit(nic, "BATFAR-Kidal", 300)
    refused = await assign(nic, "BATFAR-Kidal", [member], "2022-07-01")
    assert refused.status_code == 422
    assert refused.json()["rule"] == "not_a_signatory_party"


# -- training cohorts -----------------------------------------------------------------------------------------


async def test_a_cohort_at_capacity_refuses_enrolment(programme: Programme, nic: Api) -> None:
    await programme.quota("2022", 10)
    await programme.rules()
    ids = await programme.candidates("HCUA", 3)
    await nic.ok(
        "/rank-allocations",
        {
            "entries": [{"person_id": p, "years_of_service": 4, "qualification": "none"} for p in ids],
            "effective_on": "2022-03-15",
        },
    )
    await cohort(nic, "kati-small", 2)
    await nic.ok("/cohorts/kati-small/enrolments", {"person_ids": ids[:2], "effective_on": "2022-04-01"})
    refused = await nic.ok(
        "/cohorts/kati-small/enrolments", {"person_ids": ids[2:], "effective_on": "2022-04-01"}
    )
    assert items_of(refused) == [(ids[2], "refused", "cohort_full")]
    assert refused["items"][0]["figures"] == {"cohort_id": "kati-small", "enrolled": 2, "capacity": 2}
    shown = (await nic.get("/cohorts/kati-small")).json()
    assert (shown["enrolled"], shown["duration_days"], shown["ends_on"]) == (2, 91, "2022-06-30")
    assert (await status_of(nic, ids[2]))["cohort_id"] is None


async def test_training_outcomes_completion_failure_absence_and_no_assignment_before_completion(
    programme: Programme, nic: Api
) -> None:
    await programme.quota("2022", 10)
    await programme.rules()
    ids = await programme.candidates("MNLA", 3, rank="capitaine")
    await nic.ok(
        "/rank-allocations",
        {
            "entries": [
                {"person_id": p, "years_of_service": 9, "qualification": "officer_school"} for p in ids
            ],
            "effective_on": "2022-03-15",
        },
    )
    assert (await status_of(nic, ids[0]))["rank"] == "capitaine"
    assert (await status_of(nic, ids[0]))["command_function"] == "company_commander"
    await cohort(nic, "kati-3", 250)
    await nic.ok("/cohorts/kati-3/enrolments", {"person_ids": ids, "effective_on": "2022-04-01"})
    early = await nic.ok(
        "/cohorts/kati-3/outcomes",
        {"outcomes": [{"person_id": ids[0], "outcome": "completed"}], "effective_on": "2022-05-01"},
    )
    assert items_of(early) == [(ids[0], "refused", "training_not_over")]
    await unit(nic, "BATFAR-Timbuktu", 300)
    untrained = (await assign(nic, "BATFAR-Timbuktu", ids[:1], "2022-07-01")).json()
    assert items_of(untrained) == [(ids[0], "refused", "training_not_completed")]
    outcomes = [
        {"person_id": ids[0], "outcome": "completed"},
        {"person_id": ids[1], "outcome": "failed"},
        {"person_id": ids[2], "outcome": "absent"},
    ]
    shown = await nic.ok("/cohorts/kati-3/outcomes", {"outcomes": outcomes, "effective_on": "2022-07-01"})
    assert shown["cohort"]["outcomes"] == {"completed": 1, "failed": 1, "absent": 1}


# -- service record: desertion ---------------------------------------------------------------------------------


async def test_the_desertion_of_163_from_gao_shows_in_strength_and_thirds_as_of_dates_before_and_after(
    programme: Programme, nic: Api, mod: Api, registration: UpstreamService
) -> None:
    await coalitions(registration, nic, COALITIONS, date(2015, 6, 20))
    await programme.quota("2022", 1000)
    await programme.rules()
    await cohort(nic, "kati-gao", 400)
    cma = await programme.candidates("HCUA", 170)
    platform = await programme.candidates("CMFPR", 170)
    await programme.trained(cma + platform, "kati-gao")
    await unit(nic, "BATFAR-Gao", 600)
    await mod.ok(
        "/units/BATFAR-Gao/armed-forces-contingent",
        {"strength": 170, "command_posts": 12, "effective_on": "2022-07-01"},
    )
    await nic.ok(
        "/units/BATFAR-Gao/assignments",
        {"assignments": [{"person_id": p} for p in cma + platform], "effective_on": "2022-07-01"},
    )

    deserters = cma[:163]
    recorded = await nic.ok(
        "/service-records",
        {
            "entries": [{"person_id": p, "status": "deserted"} for p in deserters],
            "effective_on": "2023-10-02",
        },
    )
    assert (recorded["recorded"], recorded["refused"]) == (163, 0)

    before = (await nic.get("/units/BATFAR-Gao/composition", as_of="2023-10-01")).json()
    after = (await nic.get("/units/BATFAR-Gao/composition", as_of="2023-10-02")).json()
    assert before["strength"] == {"armed_forces": 170, "CMA": 170, "Platform": 170}
    assert before["strength_share"]["CMA"] == pytest.approx(1 / 3, abs=1e-4)
    assert after["strength"] == {"armed_forces": 170, "CMA": 7, "Platform": 170}
    assert after["total_strength"] == before["total_strength"] - 163 == 347
    assert after["strength_share"]["CMA"] == pytest.approx(7 / 347, abs=1e-4)
    assert after["may_take_one_more"] == {"armed_forces": False, "CMA": True, "Platform": False}
    deserter = await status_of(nic, deserters[0])
    assert deserter["service_status"] == "deserted"
    assert [e["status"] for e in deserter["service_record"]] == ["serving", "deserted"]

    # One comes back: the record grows, the strength follows from the date of return.
    await nic.ok(
        "/service-records",
        {"entries": [{"person_id": deserters[0], "status": "returned"}], "effective_on": "2023-12-01"},
    )
    assert (await nic.get("/units/BATFAR-Gao/composition", as_of="2023-12-01")).json()["strength"]["CMA"] == 8
    assert (await nic.get("/units/BATFAR-Gao/composition", as_of="2023-11-30")).json()["strength"]["CMA"] == 7
    figures = (await nic.get("/figures", as_of="2023-10-02")).json()
    assert figures["unit_strength"]["BATFAR-Gao"] == 347


# -- integration and reinsertion never at once ------------------------------------------------------------------


async def _serving_member(
    programme: Programme, nic: Api, mod: Api, registration: UpstreamService, movement: str
) -> str:
    await coalitions(registration, nic, COALITIONS, date(2015, 6, 20))
    await programme.quota("2022", 10)
    await programme.rules()
    await cohort(nic, "kati-r", 10)
    [member] = await programme.candidates(movement, 1)
    await programme.trained([member], "kati-r")
    await unit(nic, "Menaka-company", 150)
    await mod.ok(
        "/units/Menaka-company/armed-forces-contingent",
        {"strength": 50, "command_posts": 5, "effective_on": "2022-07-01"},
    )
    assert (await assign(nic, "Menaka-company", [member], "2022-07-01")).json()["recorded"] == 1
    return member


async def test_a_member_discharged_to_reinsertion_is_never_active_in_both(
    programme: Programme,
    nic: Api,
    mod: Api,
    registration: UpstreamService,
    reinsertion: UpstreamService,
    settings: Settings,
    kafka_bootstrap_servers: str,
) -> None:
    member = await _serving_member(programme, nic, mod, registration, "MNLA")
    await nic.ok(
        "/service-records",
        {
            "entries": [
                {
                    "person_id": member,
                    "status": "discharged",
                    "discharge_kind": "medical",
                    "referred_to_reinsertion": True,
                }
            ],
            "effective_on": "2023-02-01",
        },
    )
    # Reinsertion consumes the discharge and enrols them from that day; integration sees the enrolment.
    await reinsertion.emit(
        member,
        BeneficiaryEnrolled(
            person_id=member,
            source="integration_discharge",
            round_id=None,
            region="Gao",
            sex="M",
            category="combatant",
            movement="MNLA",
            effective_on=date(2023, 2, 1),
        ),
    )

    async def enrolled() -> bool:
        return bool((await status_of(nic, member))["reinsertion_active"])

    await eventually(enrolled, "the reinsertion enrolment")
    shown = await status_of(nic, member)
    assert (shown["service_status"], shown["dual_enrolment"]) == ("discharged", False)
    assert (await nic.get("/figures", as_of="2023-01-31")).json()["active_members_by_movement"] == {"MNLA": 1}
    assert (await nic.get("/figures", as_of="2023-02-01")).json()["active_members_by_movement"] == {}
    # A discharge ends the record: nobody can mark them serving again behind reinsertion's back.
    back = await nic.ok(
        "/service-records",
        {"entries": [{"person_id": member, "status": "returned"}], "effective_on": "2023-03-01"},
    )
    assert items_of(back) == [(member, "refused", "service_transition")]

    # The discharge went out on the integration topic, referring them to reinsertion.
    published = _published(kafka_bootstrap_servers, settings.events_topic("integration"), member)
    statuses = [
        (e["data"]["status"], e["data"]["referred_to_reinsertion"])
        for e in published
        if e["type"].endswith("ServiceStatusChanged.v1")
    ]
    assert statuses == [("serving", False), ("discharged", True)]


async def test_a_reinsertion_enrolment_crossing_an_active_membership_is_flagged(
    programme: Programme, nic: Api, mod: Api, registration: UpstreamService, reinsertion: UpstreamService
) -> None:
    member = await _serving_member(programme, nic, mod, registration, "GATIA")
    await reinsertion.emit(
        member,
        BeneficiaryEnrolled(
            person_id=member,
            source="volunteer_round",
            round_id="gao-2023-1",
            region="Gao",
            sex="M",
            category="combatant",
            movement="GATIA",
            effective_on=date(2023, 2, 1),
        ),
    )

    async def flagged() -> bool:
        return bool((await status_of(nic, member))["dual_enrolment"])

    await eventually(flagged, "the dual enrolment flag")


async def test_an_active_reinsertion_beneficiary_is_not_accepted_until_they_exit(
    programme: Programme, nic: Api, reinsertion: UpstreamService, app: FastAPI
) -> None:
    await programme.quota("2022", 10)
    pid = "platform-beneficiary-1"
    await reinsertion.emit(
        pid,
        BeneficiaryEnrolled(
            person_id=pid,
            source="screening",
            round_id=None,
            region="Gao",
            sex="F",
            category="combatant",
            movement="GATIA",
            effective_on=date(2022, 1, 10),
        ),
        occurred_at=at(date(2022, 1, 10)),
    )
    await eventually(lambda: _beneficiary_noted(app, pid), "the enrolment noted in integration's history")
    await programme.screening.emit(pid, outcome(pid, "GATIA"), occurred_at=at(OUTCOME_DAY))
    await eventually(lambda: _has_status(nic, pid, "deferred"), "the deferral")
    assert (await status_of(nic, pid))["deferral_reason"] == "reinsertion_beneficiary"
    refused = await nic.post(f"/candidates/{pid}/acceptance", {"effective_on": "2022-03-02"})
    assert (refused.status_code, refused.json()["rule"]) == (422, "reinsertion_beneficiary")

    await reinsertion.emit(
        pid, BeneficiaryExited(person_id=pid, reason="moved_to_integration", effective_on=date(2022, 3, 5))
    )
    await eventually(lambda: _has_status(nic, pid, "accepted"), "acceptance after the exit")


async def _beneficiary_noted(app: FastAPI, pid: str) -> bool:
    """Whether the service recorded the enrolment in its own history (not a candidate: the API rightly
    shows nothing)."""
    history = await app.state.runtime.store.read_stream(f"person-{pid}")
    return [e.envelope.type for e in history] == ["ddr.integration.ReinsertionEnrolmentNoted.v1"]


async def _has_status(nic: Api, pid: str, status: str) -> bool:
    response = await nic.get(f"/candidates/{pid}")
    return response.status_code == 200 and response.json()["status"] == status


# -- screening supersedes -------------------------------------------------------------------------------------


async def test_a_later_outcome_withdraws_the_candidacy_and_child_protection_means_never(
    programme: Programme, nic: Api
) -> None:
    await programme.quota("2022", 10)
    moved, child = await programme.candidates("MNLA", 2)
    assert (await status_of(nic, moved))["status"] == "accepted"
    await programme.screening.emit(
        moved, outcome(moved, "MNLA", track="reinsertion", by_appeal=True), occurred_at=at(date(2022, 3, 10))
    )
    await programme.screening.emit(
        child, outcome(child, "MNLA", track="child_protection"), occurred_at=at(date(2022, 3, 10))
    )
    await programme.screening.emit(
        child, outcome(child, "MNLA", track="integration"), occurred_at=at(date(2022, 3, 11))
    )
    await eventually(lambda: _has_status(nic, moved, "withdrawn"), "the withdrawal")

    async def child_gone() -> bool:
        return (await nic.get(f"/candidates/{child}")).status_code == 404

    await eventually(child_gone, "the child's record leaving the track")
    quota = (await nic.get("/quotas")).json()["items"][0]
    assert quota["used"] == 0  # both places given back


async def test_held_benefits_defer_acceptance_until_released(programme: Programme, nic: Api) -> None:
    await programme.quota("2022", 10)
    pid = "held-1"
    await programme.screening.emit(
        pid,
        BenefitsHeld(person_id=pid, decision_id="v-1", reason_code="vetting_pending"),
        outcome(pid, "HCUA"),
        occurred_at=at(OUTCOME_DAY),
    )
    await eventually(lambda: _has_status(nic, pid, "deferred"), "the deferral")
    assert (await status_of(nic, pid))["deferral_reason"] == "benefits_held"
    await programme.screening.emit(
        pid,
        BenefitsReleased(person_id=pid, decision_id="v-1", reason_code="cleared"),
        occurred_at=at(date(2022, 3, 4)),
    )
    await eventually(lambda: _has_status(nic, pid, "accepted"), "acceptance after release")


# -- other paths ---------------------------------------------------------------------------------------------


async def test_former_soldiers_are_recalled_and_civilian_cadres_listed_each_on_their_own_path(
    programme: Programme, nic: Api
) -> None:
    await programme.quota("2022", 10)
    [soldier] = await programme.candidates("MNLA", 1, category="former_armed_forces")
    [cadre] = await programme.candidates("MNLA", 1, category="civilian_cadre")
    assert (await status_of(nic, soldier))["path"] == "armed_forces_recall"
    assert (await status_of(nic, cadre))["path"] == "civil_service"
    wrong = await nic.post(
        f"/candidates/{cadre}/recall", {"destination": "Génie militaire", "effective_on": "2022-05-01"}
    )
    assert (wrong.status_code, wrong.json()["rule"]) == (422, "wrong_path")
    recalled = await nic.ok(
        f"/candidates/{soldier}/recall", {"destination": "Génie militaire", "effective_on": "2022-05-01"}
    )
    listed = await nic.ok(
        f"/candidates/{cadre}/civil-service", {"destination": "MFP-2022-list-3", "effective_on": "2022-05-01"}
    )
    assert (recalled["placement"], recalled["service_status"]) == ("Génie militaire", "serving")
    assert listed["placement"] == "MFP-2022-list-3"


async def test_a_rank_dispute_is_recorded_and_an_upheld_decision_reallocates(
    programme: Programme, nic: Api, client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer
) -> None:
    await programme.quota("2022", 10)
    await programme.rules()
    [pid] = await programme.candidates("MNLA", 1, rank="lieutenant")
    await nic.ok(
        f"/candidates/{pid}/rank",
        {"years_of_service": 4, "qualification": "none", "effective_on": "2022-03-15"},
    )
    assert (await status_of(nic, pid))["rank"] == "sergent"
    token = issuer.issue(
        subject="liaison-1", roles=[Role.MOVEMENT_LIAISON, Role.RECORDS_OFFICER], movement="MNLA"
    )
    liaison = RecordsOfficer(client, token)
    raised = await liaison.ok(
        f"/candidates/{pid}/rank-disputes",
        {
            "claimed_rank": "lieutenant",
            "claimed_command_function": "platoon_leader",
            "grounds_code": "years_understated",
            "effective_on": "2022-03-20",
        },
        201,
    )
    await nic.ok(
        f"/rank-disputes/{raised['dispute_id']}/decision",
        {"outcome": "upheld", "decision_ref": "CNI-2022-14", "effective_on": "2022-03-25"},
    )
    shown = await status_of(nic, pid)
    assert (shown["rank"], shown["command_function"]) == ("lieutenant", "platoon_leader")
    assert shown["rank_disputes"][0]["status"] == "upheld"


# -- roles ---------------------------------------------------------------------------------------------------


async def test_roles_nic_operates_mod_records_contingent_cts_sees_aggregates_liaison_own_members_auditor_reads(
    programme: Programme, nic: Api, mod: Api, client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer
) -> None:
    await programme.quota("2022", 10)
    [mnla] = await programme.candidates("MNLA", 1)
    [gatia] = await programme.candidates("GATIA", 1)
    cts = caller(client, issuer, Role.CTS_OFFICER)
    auditor = caller(client, issuer, Role.AUDITOR)
    liaison = caller(client, issuer, Role.MOVEMENT_LIAISON, movement="MNLA")

    assert (await cts.get("/candidates")).status_code == 403
    assert (await cts.get(f"/candidates/{mnla}")).status_code == 403
    assert (await cts.get("/figures")).json()["candidates_by_status_now"] == {"accepted": 2}
    own = (await liaison.get("/candidates")).json()["items"]
    assert [c["person_id"] for c in own] == [mnla]
    assert (await liaison.get("/candidates", movement="GATIA")).json()["items"] == own
    assert (await liaison.get(f"/candidates/{gatia}")).status_code == 404
    assert (await liaison.get(f"/candidates/{mnla}")).status_code == 200
    assert (
        await liaison.post(
            "/quotas/2022/decisions",
            {"limit": 99, "decision_ref": "x", "reason": "y", "effective_on": "2022-03-01"},
        )
    ).status_code == 403
    assert (await auditor.get(f"/candidates/{gatia}")).status_code == 200
    assert (
        await auditor.post(f"/candidates/{gatia}/acceptance", {"effective_on": "2022-03-01"})
    ).status_code == 403

    await unit(nic, "BATFAR-Kidal", 300)
    contingent = {"strength": 100, "command_posts": 10, "effective_on": "2022-07-01"}
    assert (await nic.post("/units/BATFAR-Kidal/armed-forces-contingent", contingent)).status_code == 403
    assert (await mod.post("/units/BATFAR-Kidal/armed-forces-contingent", contingent)).status_code == 200
    assert (
        await mod.post(
            "/quotas/2022/decisions",
            {"limit": 1, "decision_ref": "x", "reason": "y", "effective_on": "2022-03-01"},
        )
    ).status_code == 403
    assert (await cts.get("/units/BATFAR-Kidal/composition", as_of="2022-07-01")).json()["strength"][
        "armed_forces"
    ] == 100
    assert (await client.get("/figures")).status_code == 401


async def test_bad_input_is_a_4xx_naming_the_field(nic: Api) -> None:
    bad = await nic.post(
        "/quotas",
        {
            "quota_id": "q",
            "period_start": "2022-01-01",
            "period_end": "2021-01-01",
            "limit": 5,
            "decision_ref": "d",
            "reason": "r",
        },
    )
    assert (bad.status_code, bad.json()["rule"]) == (422, "quota_period")
    missing = await nic.post(
        "/cohorts", {"cohort_id": "c", "camp": "Kati", "capacity": 0, "starts_on": "2022-01-01"}
    )
    assert missing.status_code == 422
    assert "capacity" in json.dumps(missing.json())
    assert (
        await nic.post(
            "/units/nowhere/assignments", {"assignments": [{"person_id": "p"}], "effective_on": "2022-01-01"}
        )
    ).status_code == 404


def _published(bootstrap: str, topic: str, subject: str) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        consumer_timeout_ms=5000,
        enable_auto_commit=False,
    )
    try:
        envelopes = [json.loads(m.value) for m in consumer]
    finally:
        consumer.close()
    return [e for e in envelopes if e["subject"] == subject]
