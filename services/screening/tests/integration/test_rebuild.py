"""The read model is a projection of screening's own events: rebuilt while serving, it equals the live one."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from ddr_contracts.registration import PersonDetailsCorrected, PersonMergedInto
from ddr_runtime.auth.roles import Role
from ddr_screening.adapters.tables import READ_MODEL

from .conftest import Env
from .support import case_of, eventually, register

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def read_model_rows(env: Env) -> dict[str, list[dict[str, Any]]]:
    async with env.app.state.runtime.engine.connect() as conn:
        return {
            table.name: [
                dict(row._mapping)
                for row in await conn.execute(select(table).order_by(*table.primary_key.columns))
            ]
            for table in READ_MODEL
        }


async def main_scenarios(env: Env) -> None:
    """Children, unknown ages, vetting holds, examinations and re-examinations, appeals, corrections, merges,
    handovers and a new rule set: every kind of event the read model follows."""
    officer = env.as_role(Role.SCREENING_OFFICER)
    examiner = env.as_role(Role.EXAMINER)
    vetting = env.as_role(Role.VETTING_OFFICER)
    protection = env.as_role(Role.CHILD_PROTECTION)
    fit, unfit, alleged, unknown, child, cadre, duplicate = (str(uuid.uuid4()) for _ in range(7))
    await vetting.ok(
        "/vetting-lists",
        {
            "source_ref": "HRDDP-1",
            "entries": [{"person_id": alleged, "allegation_ref": "HR-1", "status": "alleged"}],
        },
        status=201,
    )
    week_ago = datetime.now(UTC) - timedelta(days=7)
    for person in (fit, unfit, alleged, duplicate):
        await register(env.registration, person, at=week_ago)
    await register(env.registration, unknown, at=week_ago, birth_kind="unknown", birth_year=None)
    await register(
        env.registration, child, at=week_ago, category="child", birth_year=datetime.now(UTC).year - 15
    )
    await register(env.registration, cadre, at=week_ago, category="civilian_cadre", armed_with_weapon=False)
    for person in (fit, unfit, alleged, cadre, duplicate):
        await case_of(officer, person)
    for person in (unknown, child):
        await case_of(protection, person)
    await examiner.ok(
        "/examinations/bulk",
        {"items": [{"person_id": fit, "result": "fit"}, {"person_id": unfit, "result": "unfit"}]},
    )
    exam = await examiner.ok(f"/cases/{alleged}/examinations", {"result": "unfit"}, status=201)
    appeal = await officer.ok(f"/cases/{alleged}/appeals", {"decision_id": exam["decision_id"]}, status=201)
    await officer.ok(
        f"/cases/{alleged}/appeals/{appeal['appeal_id']}/decision",
        {"overturned": True, "replacement": "fit"},
        status=201,
    )
    await vetting.ok(
        f"/cases/{alleged}/vetting-decisions", {"status": "cleared", "reason_code": "unfounded"}, status=201
    )
    await officer.ok(f"/cases/{unfit}/re-examination-requests", {"reason": "disputed"}, status=201)
    await protection.ok(
        f"/cases/{unknown}/age-assessments", {"method": "medical", "youngest_age": 26}, status=201
    )
    await protection.ok(f"/cases/{child}/handover", {"receiving_actor": "UNICEF Gao"}, status=201)
    await officer.ok(f"/cases/{cadre}/handling-tests", {"passed": True}, status=201)
    await officer.ok(f"/cases/{cadre}/reinsertion-choice", status=201)
    await env.registration.emit(
        fit,
        PersonDetailsCorrected(
            person_id=fit,
            corrected_fields=("region",),
            region="Gao",
            full_name=None,
            full_name_arabic=None,
            birth_date=None,
            commune=None,
            reason=None,
        ),
    )
    await env.registration.emit(
        duplicate, PersonMergedInto(person_id=duplicate, into_person_id=fit, case_id="d-1")
    )
    rules = (await officer.get("/rule-sets")).json()
    await officer.ok(
        "/rule-sets", {**rules[-1], "rule_version": "2024", "effective_from": "2024-01-01"}, status=201
    )

    async def followed() -> bool:
        return bool((await officer.get(f"/cases/{duplicate}")).json()["merged_into"] == fit) and (
            (await officer.get(f"/cases/{fit}")).json()["region"] == "Gao"
        )

    await eventually(followed)


async def test_a_rebuilt_read_model_equals_the_live_one(env: Env) -> None:
    await main_scenarios(env)
    live = await read_model_rows(env)
    operator = env.as_role(Role.OPERATOR)

    started = await operator.post("/read-model/rebuild")
    status = (await operator.get("/read-model/rebuild")).json()
    while status["status"] == "running":
        await asyncio.sleep(0.1)
        status = (await operator.get("/read-model/rebuild")).json()

    assert started.status_code == 202
    assert (status["status"], status["swapped"]) == ("done", True)
    assert len(live["scr_cases"]) == 7
    assert len(live["scr_rule_sets"]) == 3
    assert await read_model_rows(env) == live
