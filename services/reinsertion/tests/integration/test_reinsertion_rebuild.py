"""The read model is a projection of the service's own events: rebuilt from its store while it serves, it
equals the live one, table by table and row by row, after the service's main scenarios."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from ddr_contracts.integration import CandidateAccepted, ServiceStatusChanged
from ddr_contracts.screening import BenefitsHeld
from ddr_reinsertion.adapters.tables import READ_MODEL
from ddr_runtime.auth.roles import Role
from ddr_testkit.upstream import UpstreamService

from .conftest import (
    Service,
    enrolment,
    outcome,
    payment,
    screened,
    setup_catalogue_and_line,
    volunteers,
    wait_for_stage,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def read_model(service: Service) -> dict[str, list[tuple[Any, ...]]]:
    async with service.app.state.runtime.engine.connect() as conn:
        return {
            table.name: sorted(tuple(row) for row in (await conn.execute(select(table))).all())
            for table in READ_MODEL
        }


async def scenarios(service: Service) -> None:
    """Screening outcomes (a child among them), a hold, an integration discharge, a volunteer round,
    enrolments, payments, training, visits, a dropout, a completion and an appeal to integration."""
    await setup_catalogue_and_line(service)
    await screened(service, outcome("S-1"), outcome("S-2"), outcome("S-child", track="child_protection"))
    async with UpstreamService("integration", service.settings) as integration:
        await integration.emit(
            "I-1",
            CandidateAccepted(
                person_id="I-1", movement="CMA", path="reconstituted_forces", quota_id="q",
                screening_decision_id="d", effective_on=date(2019, 11, 1),
            ),
            occurred_at=datetime(2019, 11, 1, tzinfo=UTC),
        )  # fmt: skip
        await integration.emit(
            "I-1",
            ServiceStatusChanged(
                person_id="I-1", unit="BATFAR Gao", status="discharged", effective_on=date(2020, 2, 1),
                discharge_kind="medical", referred_to_reinsertion=True,
            ),
            occurred_at=datetime(2020, 2, 1, tzinfo=UTC),
        )  # fmt: skip
    async with UpstreamService("screening", service.settings) as screening:
        await screening.emit(
            "S-2", BenefitsHeld(person_id="S-2", decision_id="v-1", reason_code="vetting_pending")
        )
    await wait_for_stage(service, "S-1", "waiting")
    await wait_for_stage(service, "I-1", "waiting")
    await volunteers(service, "r-1", ["V-1", "V-2", "V-3"])
    people = ["S-1", "S-2", "I-1", "V-1", "V-2", "V-3"]
    await service.officer.ok(
        "/enrolments", {"enrolments": [{**enrolment(dependants=1), "person_id": p} for p in people]}
    )
    await service.finance.ok("/disbursements/batch", {"disbursements": [payment(p) for p in people]})
    await service.officer.ok(
        "/beneficiaries/V-1/training", {"provider": "CFP", "attended_on": "2020-04-01"}, 204
    )
    await service.finance.ok("/disbursements", payment("V-1", 2, paid_on="2020-05-01"), 201)
    visit = {"visit_id": "v-1", "outcome": "business_running", "visited_on": "2020-06-01"}
    await service.officer.ok("/beneficiaries/V-1/visits", visit, 204)
    await service.finance.ok("/disbursements", payment("V-1", 3, paid_on="2020-07-01"), 201)
    await service.officer.ok(
        "/beneficiaries/V-1/exit", {"reason": "completed", "effective_on": "2020-07-02"}, 204
    )
    dropout = {"visit_id": "v-2", "outcome": "dropped_out", "visited_on": "2020-06-10"}
    await service.officer.ok("/beneficiaries/V-2/visits", dropout, 204)
    await screened(
        service, outcome("S-1", track="integration", by_appeal=True), at=datetime(2020, 8, 1, tzinfo=UTC)
    )
    await wait_for_stage(service, "S-1", "moved_to_integration")


async def test_a_rebuilt_read_model_equals_the_live_one_after_the_services_scenarios(
    service: Service,
) -> None:
    await scenarios(service)
    live = await read_model(service)
    operator = service.as_(Role.OPERATOR, subject="operator-1", reason=None)

    started = await operator.post("/read-model/rebuild")
    status = await operator.read("/read-model/rebuild")
    while status["status"] == "running":
        await asyncio.sleep(0.05)
        status = await operator.read("/read-model/rebuild")

    assert started.status_code == 202
    assert (status["status"], status["swapped"]) == ("done", True)
    rebuilt = await read_model(service)
    assert rebuilt == live
    assert {name: len(rows) for name, rows in live.items()} == {
        "rs_beneficiaries": 7,
        "rs_tranches": 18,
        "rs_visits": 12,
        "rs_packages": 2,
        "rs_budget_lines": 1,
        "rs_rounds": 1,
        "rs_round_regions": 1,
    }
