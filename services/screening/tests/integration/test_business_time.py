"""Business time through the API: every dated decision states when it happened, and the kernel's rules hold
(never in the future, never before the fact it depends on, older than the window only for a records officer
with a reason); deadlines and outcomes run from business time, not from data entry."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ddr_contracts.registration import WeaponHandedOver
from ddr_runtime.auth.roles import Role
from ddr_testkit.services import Api

from .conftest import Env
from .support import case_of, eventually, register, weapon

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

REGISTERED = datetime(2019, 11, 4, 9, 30, tzinfo=UTC)  # the accelerated DDR's registrations, back-recorded
REASON = {"back_recording_reason": "migrated from the CNDDR's 2019 screening registers"}


def day(offset: int) -> str:
    return (REGISTERED.date() + timedelta(days=offset)).isoformat()


def when(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["occurred_at"])


def decision(case: dict[str, Any], kind: str) -> dict[str, Any]:
    return next(d for d in reversed(case["decisions"]) if d["type"] == kind)


async def registered_in_2019(env: Env, **facts: Any) -> str:
    person = str(uuid.uuid4())
    await register(env.registration, person, at=REGISTERED, **facts)
    await case_of(env.as_role(Role.SCREENING_OFFICER), person)
    return person


async def test_a_back_recorded_examination_needs_a_records_officer_and_a_reason(env: Env) -> None:
    person = await registered_in_2019(env)
    examiner = env.as_role(Role.EXAMINER)
    records = env.as_role(Role.EXAMINER, Role.RECORDS_OFFICER)
    exam = {"result": "fit", "examined_on": day(2)}

    without_role = await examiner.post(f"/cases/{person}/examinations", exam, **REASON)
    without_reason = await records.post(f"/cases/{person}/examinations", exam)
    accepted = await records.post(f"/cases/{person}/examinations", exam, **REASON)

    assert without_role.status_code == without_reason.status_code == 422
    assert without_role.json()["rule"] == "back-recording-not-authorised"
    assert without_role.json()["occurred_at"] == "2019-11-06T00:00:00Z"
    assert accepted.status_code == 201, accepted.text
    stored = await env.app.state.runtime.store.read_stream(person)
    examined = next(r.envelope for r in stored if r.envelope.type.startswith("ddr.screening.MedicalExamined"))
    assert examined.occurredat == datetime(2019, 11, 6, tzinfo=UTC)
    assert (examined.backrecordrole, examined.backrecordreason) == (
        "records_officer",
        REASON["back_recording_reason"],
    )


@pytest.mark.parametrize(
    ("path", "roles", "body"),
    [
        ("examinations", (Role.EXAMINER,), {"result": "fit", "examined_on": day(-1)}),
        (
            "age-assessments",
            (Role.CHILD_PROTECTION,),
            {"method": "interview", "youngest_age": 30, "assessed_on": day(-1)},
        ),
        (
            "vetting-decisions",
            (Role.VETTING_OFFICER,),
            {"status": "excluded", "reason_code": "x", "decided_on": day(-1)},
        ),
        (
            "membership-decisions",
            (Role.SCREENING_OFFICER,),
            {"verified": False, "reason_code": "x", "decided_on": day(-1)},
        ),
        ("handling-tests", (Role.SCREENING_OFFICER,), {"passed": True, "tested_on": day(-1)}),
        ("reinsertion-choice", (Role.SCREENING_OFFICER,), {"chosen_on": day(-1)}),
    ],
)
async def test_a_decision_dated_before_the_registration_is_refused_naming_both_dates(
    env: Env, path: str, roles: tuple[Role, ...], body: dict[str, Any]
) -> None:
    person = await registered_in_2019(env)
    caller = env.as_role(*roles, Role.RECORDS_OFFICER)

    refused = await caller.post(f"/cases/{person}/{path}", body, **REASON)

    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert (problem["rule"], problem["not_before"], problem["depends_on"]) == (
        "occurred-before-dependency",
        "2019-11-04T09:30:00Z",
        "the registration",
    )
    assert problem["occurred_at"] == "2019-11-03T00:00:00Z"


async def test_a_decision_dated_in_the_future_is_refused(env: Env) -> None:
    person = str(uuid.uuid4())
    await register(env.registration, person)
    examiner = env.as_role(Role.EXAMINER)
    await case_of(examiner, person)

    refused = await examiner.post(
        f"/cases/{person}/examinations",
        {"result": "fit", "examined_on": (date.today() + timedelta(days=3)).isoformat()},
    )

    assert refused.status_code == 422
    assert refused.json()["rule"] == "occurred-in-future"


async def test_a_re_examination_dated_before_the_examination_it_follows_is_refused(env: Env) -> None:
    person = await registered_in_2019(env)
    examiner = env.as_role(Role.EXAMINER, Role.RECORDS_OFFICER)
    await examiner.ok(
        f"/cases/{person}/examinations",
        {"result": "temporarily_unfit", "examined_on": day(5)},
        status=201,
        **REASON,
    )

    refused = await examiner.post(
        f"/cases/{person}/examinations", {"result": "fit", "examined_on": day(4)}, **REASON
    )

    assert refused.status_code == 422
    assert (refused.json()["depends_on"], refused.json()["not_before"]) == (
        "the previous examination",
        "2019-11-09T00:00:00Z",
    )


async def test_an_appeal_lodged_before_the_decision_it_appeals_is_refused(env: Env) -> None:
    person = await registered_in_2019(env)
    examiner = env.as_role(Role.EXAMINER, Role.RECORDS_OFFICER)
    officer = env.as_role(Role.SCREENING_OFFICER, Role.RECORDS_OFFICER)
    unfit = await examiner.ok(
        f"/cases/{person}/examinations", {"result": "unfit", "examined_on": day(3)}, status=201, **REASON
    )

    refused = await officer.post(
        f"/cases/{person}/appeals", {"decision_id": unfit["decision_id"], "lodged_on": day(2)}, **REASON
    )

    assert refused.status_code == 422
    assert refused.json()["depends_on"] == "the decision appealed"


async def test_an_appeal_decided_before_it_was_lodged_is_refused(env: Env) -> None:
    person = await registered_in_2019(env)
    examiner = env.as_role(Role.EXAMINER, Role.RECORDS_OFFICER)
    officer = env.as_role(Role.SCREENING_OFFICER, Role.RECORDS_OFFICER)
    unfit = await examiner.ok(
        f"/cases/{person}/examinations", {"result": "unfit", "examined_on": day(3)}, status=201, **REASON
    )
    appeal = await officer.ok(
        f"/cases/{person}/appeals",
        {"decision_id": unfit["decision_id"], "lodged_on": day(10)},
        status=201,
        **REASON,
    )

    refused = await officer.post(
        f"/cases/{person}/appeals/{appeal['appeal_id']}/decision",
        {"overturned": True, "replacement": "fit", "decided_on": day(9)},
        **REASON,
    )

    assert refused.status_code == 422
    assert (refused.json()["depends_on"], refused.json()["not_before"]) == (
        "the appeal",
        "2019-11-14T00:00:00Z",
    )


async def test_an_outcome_takes_the_business_time_of_the_decision_it_follows(env: Env) -> None:
    person = await registered_in_2019(env)
    examiner = env.as_role(Role.EXAMINER, Role.RECORDS_OFFICER)
    await examiner.ok(
        f"/cases/{person}/examinations", {"result": "fit", "examined_on": day(2)}, status=201, **REASON
    )

    case = await case_of(env.as_role(Role.SCREENING_OFFICER), person)

    outcome = decision(case, "ScreeningOutcomeDecided")
    assert outcome["track"] == "integration"
    assert when(outcome) == datetime(2019, 11, 6, tzinfo=UTC)
    assert when(decision(case, "ScreeningCaseOpened")) == REGISTERED


async def test_a_weapon_handed_over_before_the_registration_but_told_after_it_is_noted_at_the_registration(
    env: Env,
) -> None:
    person = await registered_in_2019(env, armed_with_weapon=False)
    officer = env.as_role(Role.SCREENING_OFFICER)
    handed: WeaponHandedOver = weapon(person)

    await env.registration.emit(person, handed, occurred_at=REGISTERED - timedelta(days=2))

    async def noted() -> bool:
        return any(
            d["type"] == "WeaponHandoverNoted"
            for d in (await officer.get(f"/cases/{person}")).json()["decisions"]
        )

    await eventually(noted)
    case = (await officer.get(f"/cases/{person}")).json()
    assert when(decision(case, "WeaponHandoverNoted")) == REGISTERED
    assert when(decision(case, "EligibilityDetermined")) == REGISTERED


async def test_a_child_identified_by_a_back_dated_assessment_is_overdue_48_hours_after_that_day(
    env: Env,
) -> None:
    person = str(uuid.uuid4())
    registered = datetime.now(UTC) - timedelta(days=6)
    await register(env.registration, person, at=registered, birth_kind="unknown", birth_year=None)
    protection = env.as_role(Role.CHILD_PROTECTION)
    await case_of(protection, person)
    assessed_on = (registered + timedelta(days=1)).date()

    answer = await protection.ok(
        f"/cases/{person}/age-assessments",
        {"method": "medical", "youngest_age": 15, "assessed_on": assessed_on.isoformat()},
        status=201,
    )

    assert answer["effect"] == "child_identified"
    overdue = (await protection.get("/children/overdue-handovers")).json()
    [item] = [i for i in overdue["items"] if i["person_id"] == person]
    deadline = max(datetime.combine(assessed_on, datetime.min.time(), UTC), registered) + timedelta(hours=48)
    assert datetime.fromisoformat(item["handover_deadline"]) == deadline


async def test_a_handover_dated_before_the_separation_is_refused(env: Env) -> None:
    child = str(uuid.uuid4())
    await register(
        env.registration, child, at=datetime.now(UTC) - timedelta(days=2), category="child", birth_year=2010
    )
    protection: Api = env.as_role(Role.CHILD_PROTECTION)
    await case_of(protection, child)

    refused = await protection.post(
        f"/cases/{child}/handover",
        {
            "receiving_actor": "UNICEF Gao",
            "handed_over_at": (datetime.now(UTC) - timedelta(days=3)).isoformat(),
        },
    )

    assert refused.status_code == 422
    assert refused.json()["depends_on"] == "the child's identification"
