"""The CVR read model is a projection of CVR's own events: rebuilt while serving, it equals the live one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from sqlalchemy import select, update

from ddr_cvr.adapters.tables import READ_MODEL, child_persons, figures, projects
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.unit import UnitOfWork
from ddr_testkit.services import Api, Caller
from ddr_testkit.upstream import UpstreamService

from .support import approve, decision, eventually, ngo, pre_registered, proposal
from .test_participants_api import announce

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def tables(unit: UnitOfWork) -> dict[str, list[tuple[Any, ...]]]:
    async with unit.reading() as conn:
        return {
            table.name: sorted((tuple(row) for row in await conn.execute(select(table))), key=repr)
            for table in READ_MODEL
        }


async def scenario(officer: Api, committee: Api, partner: Api) -> None:
    """Partners and a consortium; projects returned and resubmitted, approved with participants (one of them
    an ex-combatant, one withdrawn), paid, counted, collecting weapons, completed, handed over and visited."""
    for partner_id in ("ong-1", "ong-2"):
        await ngo(officer, partner_id)
    await officer.ok(
        "/partners/consortia",
        {
            "partner_id": "cons-12",
            "display_name": "Consortium",
            "lead_partner_id": "ong-1",
            "member_partner_ids": ["ong-1", "ong-2"],
            "registered_on": "2016-01-01",
        },
        201,
    )
    await officer.ok(
        "/partners/ong-1/capacity-assessments",
        {
            "assessed_on": "2016-02-01",
            "rating": "adequate",
            "financial_management": "weak",
            "staff_count": 8,
            "assessor": "x",
        },
    )
    returned = (
        await partner.ok("/projects", proposal(programme="northern", region="Gao", cercle="Gao"), 201)
    )["project_id"]
    await committee.ok(f"/projects/{returned}/decisions", decision("local_review", "2022-01-20", "returned"))
    await partner.ok(
        f"/projects/{returned}/resubmission", proposal(budget="60000", submitted_on="2022-01-25")
    )
    pid = (await officer.ok("/projects", proposal(partner_id="cons-12", budget="250000"), 201))["project_id"]
    batch = [
        {
            "participant_id": "x-1",
            "category": "ex_combatant",
            "sex": "M",
            "person_id": "p-1",
            "enrolled_on": "2022-01-15",
            "full_name": "A",
        },
        {
            "participant_id": "c-1",
            "category": "community",
            "sex": "F",
            "enrolled_on": "2022-01-15",
            "telephone": "+22370000001",
        },
        {"participant_id": "c-2", "category": "community", "sex": "M", "enrolled_on": "2022-03-15"},
    ]
    assert (await officer.ok(f"/projects/{pid}/participants", {"participants": batch}))["recorded"] == 3
    await approve(committee, pid, on="2022-02-01")
    await officer.ok("/participants/c-2/withdrawal", {"withdrawn_on": "2022-04-01", "reason": "moved"})
    for path, body in (
        ("tranches", {"amount": "100000", "currency": "USD", "paid_on": "2022-02-10"}),
        ("progress-reports", {"reported_on": "2022-05-01", "percent_complete": 40, "summary": "x"}),
        (
            "beneficiary-counts",
            {"counted_on": "2022-06-01", "direct": 900, "direct_women": 460, "indirect": 3000},
        ),
        (
            "wam-collections",
            {
                "collected_on": "2022-06-02",
                "custodian": "CNDDR",
                "items": [
                    {"kind": "weapon", "type": "AK", "calibre": "7.62", "quantity": 2, "condition": "ok"}
                ],
            },
        ),
        ("completion", {"completed_on": "2022-10-30"}),
        ("handover", {"handed_over_on": "2022-11-15", "handed_over_to": "commune"}),
        ("monitoring-visits", {"visit_kind": "on_site", "visited_on": "2023-11-01", "findings": "x"}),
    ):
        await officer.ok(f"/projects/{pid}/{path}", body)


async def children_noted(unit: UnitOfWork) -> bool:
    async with unit.store.engine.connect() as conn:
        return bool((await conn.execute(select(child_persons))).all())


async def test_a_rebuild_while_serving_gives_read_model_tables_equal_to_the_live_ones(
    officer: Api, committee: Api, historian: Caller, caller: Caller, settings: Settings, unit: UnitOfWork
) -> None:
    await announce(settings, unit, ["p-1", "p-0"], {"p-0": "p-1"})  # a merge fills cvr_person_merges
    async with UpstreamService("registration", settings) as registration:  # a child fills cvr_child_persons
        await registration.emit("p-kid", pre_registered("p-kid").model_copy(update={"birth_year": 2010}))
    assert await eventually(lambda: children_noted(unit))
    await scenario(officer, committee, historian(Role.CVR_PARTNER, partner="ong-2"))
    live = await tables(unit)
    async with unit.transaction() as session:  # damage the live model: the rebuild must not copy it
        await session.conn.execute(update(projects).values(title="damaged"))
        await session.conn.execute(update(figures).values(direct=0))
    operator = caller(Role.OPERATOR)

    started = await operator.post("/read-model/rebuild")
    status = (await operator.get("/read-model/rebuild")).json()
    while status["status"] == "running":
        await asyncio.sleep(0.1)
        status = (await operator.get("/read-model/rebuild")).json()

    assert started.status_code == 202
    assert (status["status"], status["swapped"]) == ("done", True)
    assert await tables(unit) == live
    assert all(live[table.name] for table in READ_MODEL)
