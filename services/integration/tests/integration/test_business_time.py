"""Issue 12 for integration, through the API: every dated decision takes its business date, never before the
fact it depends on, never in the future, older than the window only for a records officer with a reason;
cohorts last a number of days; figures as of a date count every dated fact up to it; bulk routes answer item
by item, or all or nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_testkit.services import Api, caller_of
from ddr_testkit.upstream import UpstreamService

from .conftest import (
    REASON,
    Programme,
    assign,
    caller,
    coalitions,
    cohort,
    items_of,
    status_of,
    unit,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
COALITIONS = {"MNLA": "CMA", "GATIA": "Platform"}


async def _deferred(programme: Programme) -> str:
    """A candidate screened on 1 March 2022, deferred because the only quota was full."""
    await programme.quota("2022", 1)
    first, second = await programme.candidates("MNLA", 2)
    for pid in (first, second):
        if (await status_of(programme.nic, pid))["status"] == "deferred":
            await programme.nic.ok(
                "/quotas/2022/decisions",
                {"limit": 2, "decision_ref": "NIC-2022-3", "reason": "raised", "effective_on": "2022-03-02"},
            )
            return pid
    raise AssertionError("nobody was deferred")


async def test_an_acceptance_older_than_the_window_needs_the_records_officer_and_a_reason(
    programme: Programme, client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer, app: FastAPI
) -> None:
    pid = await _deferred(programme)
    officer = caller(client, issuer, Role.NIC_OFFICER)
    records_officer = caller_of(client, issuer)(Role.NIC_OFFICER, Role.RECORDS_OFFICER, subject="nic-2")
    body = {"effective_on": "2022-03-02"}

    without_role = await officer.post(f"/candidates/{pid}/acceptance", body, back_recording_reason=REASON)
    without_reason = await records_officer.post(f"/candidates/{pid}/acceptance", body)
    accepted = await programme.nic.post(f"/candidates/{pid}/acceptance", body)

    assert (without_role.status_code, without_role.json()["rule"]) == (422, "back-recording-not-authorised")
    assert without_role.json()["occurred_at"] == "2022-03-02T00:00:00Z"
    assert (without_reason.status_code, without_reason.json()["rule"]) == (
        422,
        "back-recording-not-authorised",
    )
    assert accepted.status_code == 200, accepted.text
    history = await app.state.runtime.store.read_stream(f"person-{pid}")
    envelope = history[-1].envelope
    assert envelope.type == "ddr.integration.CandidateAccepted.v1"
    assert (envelope.backrecordrole, envelope.backrecordreason) == ("records_officer", REASON)
    assert envelope.occurredat == datetime(2022, 3, 2, tzinfo=UTC)


async def test_an_acceptance_before_the_screening_outcome_is_refused_naming_both_dates(
    programme: Programme,
) -> None:
    pid = await _deferred(programme)

    early = await programme.nic.post(f"/candidates/{pid}/acceptance", {"effective_on": "2022-02-28"})

    assert early.status_code == 422
    problem = early.json()
    assert problem["rule"] == "occurred-before-dependency"
    assert (problem["occurred_at"], problem["not_before"]) == ("2022-02-28T00:00:00Z", "2022-03-01T09:00:00Z")
    assert problem["depends_on"] == "the screening outcome"


async def test_a_rank_allocated_in_the_future_is_refused(programme: Programme) -> None:
    await programme.quota("2022", 5)
    await programme.rules()
    [pid] = await programme.candidates("MNLA", 1)

    future = await programme.nic.post(
        f"/candidates/{pid}/rank", {"years_of_service": 2, "qualification": "none", "effective_on": TOMORROW}
    )

    assert (future.status_code, future.json()["rule"]) == (422, "occurred-in-future")
    assert (await status_of(programme.nic, pid))["rank"] is None


async def _serving(
    programme: Programme, nic: Api, mod: Api, registration: UpstreamService, count: int = 2
) -> tuple[list[str], list[str]]:
    """MNLA (CMA) and GATIA (Platform) members trained in a 91-day cohort from 1 April 2022 (ends 30 June)
    and assigned to BATFAR-Gao on 1 July 2022."""
    await coalitions(registration, nic, COALITIONS, date(2015, 6, 20))
    await programme.quota("2022", 100)
    await programme.rules()
    await cohort(nic, "kati-1", 250)
    cma = await programme.candidates("MNLA", count)
    platform = await programme.candidates("GATIA", count)
    await programme.trained(cma + platform, "kati-1")
    await unit(nic, "BATFAR-Gao", 100)
    await mod.ok(
        "/units/BATFAR-Gao/armed-forces-contingent",
        {"strength": count, "command_posts": 0, "effective_on": "2022-07-01"},
    )
    answer = (await assign(nic, "BATFAR-Gao", cma + platform, "2022-07-01")).json()
    assert answer["recorded"] == 2 * count, answer
    return cma, platform


async def test_an_assignment_before_training_ended_and_a_desertion_before_the_assignment_are_refused(
    programme: Programme, nic: Api
) -> None:
    await programme.quota("2022", 10)
    await programme.rules()
    await cohort(nic, "kati-1", 250)
    [pid] = await programme.candidates("MNLA", 1)
    await programme.trained([pid], "kati-1")  # completed on 30 June 2022
    await unit(nic, "Menaka-company", 50)
    await nic.ok(
        "/units",
        {
            "unit_id": "autres",
            "display_name": "other units",
            "kind": "other",
            "location": "Bamako",
            "establishment": 10,
            "thirds_applies": False,
            "established_on": "2022-01-01",
        },
        201,
    )

    early = (await assign(nic, "autres", [pid], "2022-06-29")).json()
    await assign(nic, "autres", [pid], "2022-07-01")
    deserted = await nic.ok(
        "/service-records",
        {"entries": [{"person_id": pid, "status": "deserted"}], "effective_on": "2022-06-30"},
    )

    assert items_of(early) == [(pid, "refused", "occurred-before-dependency")]
    assert early["items"][0]["figures"]["depends_on"] == "the end of training"
    assert items_of(deserted) == [(pid, "refused", "occurred-before-dependency")]
    assert deserted["items"][0]["figures"]["not_before"] == "2022-07-01T00:00:00Z"
    assert (await status_of(nic, pid))["service_status"] == "serving"


async def test_a_91_day_cohort_ends_on_its_91st_day_and_completes_on_it_not_the_day_before(
    programme: Programme, nic: Api
) -> None:
    await programme.quota("2022", 10)
    await programme.rules()
    opened = await cohort(nic, "kati-2019-01", 250, starts_on="2022-04-04", duration_days=91)
    ids = await programme.candidates("MNLA", 2)
    await nic.ok(
        "/rank-allocations",
        {
            "entries": [{"person_id": p, "years_of_service": 1, "qualification": "none"} for p in ids],
            "effective_on": "2022-04-01",
        },
    )
    await nic.ok("/cohorts/kati-2019-01/enrolments", {"person_ids": ids, "effective_on": "2022-04-04"})

    day_90 = await nic.ok(
        "/cohorts/kati-2019-01/outcomes",
        {"outcomes": [{"person_id": ids[0], "outcome": "completed"}], "effective_on": "2022-07-02"},
    )
    day_91 = await nic.ok(
        "/cohorts/kati-2019-01/outcomes",
        {"outcomes": [{"person_id": p, "outcome": "completed"} for p in ids], "effective_on": "2022-07-03"},
    )

    assert (opened["duration_days"], opened["ends_on"]) == (91, "2022-07-03")
    assert items_of(day_90) == [(ids[0], "refused", "training_not_over")]
    assert day_90["items"][0]["figures"] == {"ends_on": "2022-07-03", "on": "2022-07-02"}
    assert items_of(day_91) == [(ids[0], "recorded", None), (ids[1], "recorded", None)]


async def test_figures_as_of_a_date_count_a_deserter_out_from_the_day_of_desertion(
    programme: Programme, nic: Api, mod: Api, registration: UpstreamService
) -> None:
    cma, _ = await _serving(programme, nic, mod, registration)
    await nic.ok(
        "/service-records",
        {"entries": [{"person_id": cma[0], "status": "deserted"}], "effective_on": "2023-10-15"},
    )

    before = (await nic.get("/figures", as_of="2023-10-14")).json()
    after = (await nic.get("/figures", as_of="2023-11-30")).json()
    early = (await nic.get("/figures", as_of="2022-03-01")).json()

    assert before["active_members_by_movement"] == {"MNLA": 2, "GATIA": 2}
    assert after["active_members_by_movement"] == {"MNLA": 1, "GATIA": 2}
    assert after["active_members_by_path"] == {"reconstituted_forces": 3}
    assert after["members_by_service_status"] == {"serving": 3, "deserted": 1}
    assert (before["unit_strength"], after["unit_strength"]) == ({"BATFAR-Gao": 6}, {"BATFAR-Gao": 5})
    assert early["candidates_by_status"] == {"accepted": 4}
    assert early["unit_strength"] == {"BATFAR-Gao": 0}
    assert early["quotas"] == [{"quota_id": "2022", "movement": None, "limit": 100, "used": 4}]
    assert early["cohorts"] == {}


async def test_a_bulk_record_answers_each_item_naming_the_person_refused_and_atomic_records_nothing(
    programme: Programme, nic: Api, mod: Api, registration: UpstreamService
) -> None:
    cma, platform = await _serving(programme, nic, mod, registration)
    [stranger] = await programme.candidates("MNLA", 1)  # accepted, never placed
    entries: list[dict[str, Any]] = [
        {"person_id": cma[0], "status": "deserted"},
        {"person_id": stranger, "status": "deserted"},
        {"person_id": platform[0], "status": "absent"},
    ]
    batch = {"entries": entries, "effective_on": "2023-10-15"}

    atomic = await nic.post("/service-records?atomic=true", batch)
    answered = await nic.ok("/service-records", batch)
    again = await nic.ok("/service-records", batch)

    assert atomic.status_code == 422
    assert [(i["index"], i["status"], i["rule"]) for i in atomic.json()["items"]] == [
        (0, "recorded", None),
        (1, "refused", "not_in_service"),
        (2, "recorded", None),
    ]
    assert atomic.json()["errors"][0]["field"] == "body.items[1]"
    assert items_of(answered) == [
        (cma[0], "recorded", None),
        (stranger, "refused", "not_in_service"),
        (platform[0], "recorded", None),
    ]
    assert items_of(again) == [
        (cma[0], "refused", "service_transition"),
        (stranger, "refused", "not_in_service"),
        (platform[0], "refused", "service_transition"),
    ]
    assert [e["status"] for e in (await status_of(nic, cma[0]))["service_record"]] == ["serving", "deserted"]


async def test_a_quota_decision_dated_before_the_quota_was_set_is_refused(programme: Programme) -> None:
    await programme.quota("2022", 10)  # decided on 15 December 2021

    early = await programme.nic.post(
        "/quotas/2022/decisions",
        {"limit": 20, "decision_ref": "NIC-1", "reason": "raised", "effective_on": "2021-12-01"},
    )

    assert (early.status_code, early.json()["rule"]) == (422, "occurred-before-dependency")
    assert early.json()["not_before"] == "2021-12-15T00:00:00Z"
    assert (await programme.nic.get("/quotas/2022")).json()["limit"] == 10
