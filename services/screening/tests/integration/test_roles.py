"""Who may do and see what: one test per role, over HTTP, on both backends."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from ddr_runtime.auth.roles import Role

from .conftest import Env
from .support import case_of, register

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def _adult_and_child(env: Env) -> tuple[str, str, str]:
    """An examined adult of MNLA, an adult of GATIA, a child of MNLA; their cases open."""
    adult, other, child = (str(uuid.uuid4()) for _ in range(3))
    await register(env.registration, adult)
    await register(env.registration, other, movement="GATIA")
    await register(env.registration, child, category="child", birth_year=datetime.now(UTC).year - 15)
    officer = env.as_role(Role.SCREENING_OFFICER)
    await case_of(officer, adult)
    await case_of(officer, other)
    await case_of(env.as_role(Role.CHILD_PROTECTION), child)
    examiner = env.as_role(Role.EXAMINER)
    answer = await examiner.post(
        f"/cases/{adult}/examinations", {"result": "temporarily_unfit", "details": "TB"}
    )
    assert answer.status_code == 201, answer.text
    return adult, other, child


async def test_roles_see_and_do_only_what_their_role_allows(env: Env) -> None:
    adult, other, child = await _adult_and_child(env)
    officer = env.as_role(Role.SCREENING_OFFICER)
    examiner = env.as_role(Role.EXAMINER)
    vetting = env.as_role(Role.VETTING_OFFICER)
    protection = env.as_role(Role.CHILD_PROTECTION)
    auditor = env.as_role(Role.AUDITOR)
    liaison = env.as_role(Role.MOVEMENT_LIAISON, movement="MNLA")
    donor = env.as_role(Role.DONOR)

    # screening_officer: an adult's case, medical as fit / unfit only; a child's case answers as a missing one.
    case = (await officer.get(f"/cases/{adult}")).json()
    exam = next(d for d in case["decisions"] if d["type"] == "MedicalExamined")
    assert case["medical"] == "unfit"
    assert "details" not in exam
    assert (await officer.get(f"/cases/{child}")).status_code == 404
    assert (
        await officer.post("/examinations/bulk", {"items": [{"person_id": adult, "result": "fit"}]})
    ).status_code == 403

    # examiner: details too, and records examinations; decides no vetting.
    assert (await examiner.get(f"/cases/{adult}")).json()["decisions"][-1]["details"] == "TB"
    refused = await examiner.post(
        f"/cases/{adult}/vetting-decisions", {"status": "excluded", "reason_code": "x"}
    )
    assert refused.status_code == 403

    # vetting_officer: fit / unfit only, no details; decides vetting; examines nobody.
    seen = (await vetting.get(f"/cases/{adult}")).json()
    assert seen["medical"] == "unfit"
    assert all("details" not in d for d in seen["decisions"])
    assert (await vetting.post(f"/cases/{adult}/examinations", {"result": "fit"})).status_code == 403
    held = await vetting.post(
        f"/cases/{adult}/vetting-decisions", {"status": "held", "reason_code": "new_allegation"}
    )
    assert held.status_code == 201, held.text

    # child_protection: the child's record in full, and only children's records (an adult's: 404).
    full = (await protection.get(f"/cases/{child}")).json()
    assert full["child"] is True
    assert full["track"] == "child_protection"
    assert full["decisions"]
    assert (await protection.get(f"/cases/{adult}")).status_code == 404
    handover_queue = (await protection.get("/queues/handover")).json()
    assert [i["person_id"] for i in handover_queue["items"]] == [child]
    assert (await officer.get("/queues/handover")).status_code == 403

    # auditor: reads everything but children's records, medical details included; writes nothing.
    audited = (await auditor.get(f"/cases/{adult}")).json()
    assert audited["medical"] == "temporarily_unfit"
    assert [d["details"] for d in audited["decisions"] if d["type"] == "MedicalExamined"] == ["TB"]
    assert (await auditor.get(f"/cases/{child}")).status_code == 404
    assert (await auditor.get("/figures")).json()["cases"] == 2
    for path, body in (
        (f"/cases/{adult}/examinations", {"result": "fit"}),
        (f"/cases/{adult}/appeals", {"decision_id": exam["decision_id"]}),
        ("/vetting-lists", {"source_ref": "x", "entries": []}),
    ):
        assert (await auditor.post(path, body)).status_code == 403

    # movement_liaison: outcomes of its own movement's members only; no decisions, no details, no children.
    await examiner.post(f"/cases/{adult}/examinations", {"result": "fit"})
    await examiner.post(f"/cases/{other}/examinations", {"result": "fit"})
    outcomes = (await liaison.get("/outcomes")).json()
    assert [o["person_id"] for o in outcomes] == [adult]
    mine = (await liaison.get(f"/cases/{adult}")).json()
    assert set(mine) == {"person_id", "ddr_id", "movement", "track", "reason"}
    assert (await liaison.get(f"/cases/{other}")).status_code == 404
    assert (await liaison.get(f"/cases/{child}")).status_code == 404
    assert (await liaison.get("/figures")).status_code == 403

    # a role screening does not serve, and no token at all.
    assert (await donor.get(f"/cases/{adult}")).status_code == 403
    assert (await env.client.get(f"/cases/{adult}")).status_code == 401


async def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(env: Env) -> None:
    adult, _, _ = await _adult_and_child(env)
    examiner = env.as_role(Role.EXAMINER)
    bad = await examiner.post(f"/cases/{adult}/examinations", {"result": "healthy"})
    assert bad.status_code == 422
    assert "result" in bad.text
    unknown = await examiner.post(f"/cases/{uuid.uuid4()}/examinations", {"result": "fit"})
    assert unknown.status_code == 404
    bulk = await examiner.client.post(
        "/examinations/bulk",
        params={"atomic": "true"},
        json={
            "items": [
                {"person_id": adult, "result": "fit"},
                {"person_id": str(uuid.uuid4()), "result": "fit"},
            ]
        },
        headers=examiner.headers,
    )
    assert bulk.status_code == 422
    assert bulk.json()["errors"][0]["field"] == "body.items[1]"
    case = (await examiner.get(f"/cases/{adult}")).json()
    assert case["medical"] == "temporarily_unfit"
    assert case["examinations"] == 1
