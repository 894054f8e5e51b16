"""Issue 14's findings on reinsertion: volunteers are judged on the region the person's record holds, the
profile is behind the child rule, offsets are bounded, and reads of a beneficiary are in the read ledger."""

from __future__ import annotations

import uuid

import pytest

from ddr_runtime.auth.roles import Role

from .conftest import (
    SCREENED_AT,
    Service,
    enrolment,
    eventually,
    outcome,
    screened,
    setup_catalogue_and_line,
    stage_of,
    wait_for_stage,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def pid() -> str:
    return f"P-{uuid.uuid4().hex[:10]}"


async def test_an_officer_scoped_to_gao_cannot_list_a_kidal_person_as_a_volunteer_by_saying_gao(
    service: Service,
) -> None:
    """Finding 9: reinsertion's volunteers trusted the region in the body."""
    kidal = pid()
    await screened(service, outcome(kidal, track="integration", region="Kidal"))

    async def known() -> bool:
        region: str | None = await service.app.state.queries.region_of(kidal)
        return region == "Kidal"

    await eventually(known)
    gao_officer = service.as_(Role.REINSERTION_OFFICER, Role.RECORDS_OFFICER, regions=("Gao",))
    await service.officer.ok(
        "/rounds",
        {
            "round_id": "r-1",
            "title": "Tour",
            "regions": ["Gao", "Kidal"],
            "size_per_region": 10,
            "opened_on": "2020-02-01",
        },
        201,
    )
    volunteer = {"person_id": kidal, "region": "Gao", "sex": "M", "category": "combatant", "movement": "CMA"}
    stranger = {**volunteer, "person_id": pid()}

    answer = await gao_officer.ok(
        "/rounds/r-1/volunteers", {"listed_on": "2020-02-15", "volunteers": [volunteer, stranger]}
    )

    assert [(i["status"], i["rule"]) for i in answer["items"]] == [
        ("refused", "unknown-beneficiary"),
        ("recorded", None),
    ]
    assert await stage_of(service, kidal) is None


async def test_a_child_s_counselling_profile_answers_as_a_missing_one(service: Service) -> None:
    """Finding 15: reinsertion's profile ignored ``barred``."""
    await setup_catalogue_and_line(service)
    child = pid()
    await screened(service, outcome(child))
    await wait_for_stage(service, child, "waiting")
    await service.officer.ok(f"/beneficiaries/{child}/enrolment", enrolment(), 201)
    await screened(service, outcome(child, track="child_protection"), at=SCREENED_AT)
    await wait_for_stage(service, child, "withdrawn")

    profile = await service.officer.get(f"/beneficiaries/{child}/profile")
    missing = await service.officer.get(f"/beneficiaries/{pid()}/profile")

    assert (profile.status_code, profile.json()["detail"]) == (404, missing.json()["detail"])
    assert "Aljanabandja" not in profile.text


async def test_an_offset_beyond_the_bound_is_a_422_naming_the_offset(service: Service) -> None:
    """Finding 15: offset=1e20 gave a 500 on every list route."""
    answer = await service.officer.get("/beneficiaries", offset="100000000000000000000")

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["query.offset"]


async def test_reading_a_beneficiary_is_recorded_in_the_read_ledger(service: Service) -> None:
    """Finding 15: reads of a person were recorded only for pathway's paths."""
    person = pid()
    await screened(service, outcome(person))
    await wait_for_stage(service, person, "waiting")

    await service.officer.get(f"/beneficiaries/{person}")
    reads = (await service.auditor.get(f"/reads/{person}")).json()

    assert [(r["reader"], r["route"], r["outcome"]) for r in reads] == [
        ("reinsertion_officer-1", "GET /beneficiaries/{person_id}", "shown")
    ]
