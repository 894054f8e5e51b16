"""Every table of the read model is a projection of the service's own history: after the service's main
scenarios, a rebuild while it serves gives the same rows as the live model, table by table."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from ddr_contracts.reinsertion import BeneficiaryEnrolled
from ddr_contracts.screening import BenefitsHeld, BenefitsReleased
from ddr_integration.adapters.tables import READ_MODEL
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_testkit.services import Api
from ddr_testkit.upstream import UpstreamService

from .conftest import Programme, assign, at, caller, coalitions, cohort, eventually, outcome, status_of, unit

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def _rows(app: FastAPI) -> dict[str, list[tuple[Any, ...]]]:
    async with app.state.runtime.engine.connect() as conn:
        return {
            table.name: sorted((tuple(row) for row in await conn.execute(select(table))), key=repr)
            for table in READ_MODEL
        }


async def _programme_history(
    programme: Programme, nic: Api, mod: Api, registration: UpstreamService, reinsertion: UpstreamService
) -> None:
    """Quotas, rules, candidates accepted and deferred, holds, a reinsertion beneficiary, ranks and a
    dispute, a cohort with a withdrawal, a unit in thirds, desertion and return, discharge, recall."""
    await coalitions(registration, nic, {"MNLA": "CMA", "GATIA": "Platform"}, date(2015, 6, 20))
    await programme.quota("2022", 9)
    await programme.quota("2022-GATIA", 3, movement="GATIA")
    await programme.rules()
    await cohort(nic, "kati-1", 250)
    cma = await programme.candidates("MNLA", 4)
    platform = await programme.candidates("GATIA", 4)  # one deferred: GATIA's quota is 3
    [soldier] = await programme.candidates("MNLA", 1, category="former_armed_forces")
    accepted = [p for p in platform if (await status_of(nic, p))["status"] == "accepted"]
    await programme.screening.emit(
        "held-1",
        BenefitsHeld(person_id="held-1", decision_id="v-1", reason_code="vetting_pending"),
        BenefitsReleased(person_id="held-1", decision_id="v-1", reason_code="cleared"),
        occurred_at=at(date(2022, 3, 2)),
    )
    await reinsertion.emit(
        "beneficiary-1",
        BeneficiaryEnrolled(
            person_id="beneficiary-1",
            source="screening",
            round_id=None,
            region="Gao",
            sex="F",
            category="combatant",
            movement="GATIA",
            effective_on=date(2022, 1, 10),
        ),
    )
    await programme.trained(cma[:3] + accepted[:3], "kati-1")
    await nic.ok(
        f"/candidates/{cma[3]}/rank",
        {"years_of_service": 4, "qualification": "none", "effective_on": "2022-04-01"},
    )
    await nic.ok("/cohorts/kati-1/enrolments", {"person_ids": [cma[3]], "effective_on": "2022-04-02"})
    await programme.screening.emit(
        cma[3], outcome(cma[3], "MNLA", track="reinsertion", by_appeal=True), occurred_at=at(date(2022, 5, 1))
    )
    dispute = await nic.ok(
        f"/candidates/{cma[0]}/rank-disputes",
        {
            "claimed_rank": "caporal",
            "claimed_command_function": "none",
            "grounds_code": "years",
            "effective_on": "2022-04-05",
        },
        201,
    )
    await nic.ok(
        f"/rank-disputes/{dispute['dispute_id']}/decision",
        {"outcome": "upheld", "decision_ref": "CNI-1", "effective_on": "2022-04-06"},
    )
    await nic.ok(
        f"/candidates/{soldier}/recall", {"destination": "Génie militaire", "effective_on": "2022-05-01"}
    )
    await unit(nic, "BATFAR-Gao", 50)
    await mod.ok(
        "/units/BATFAR-Gao/armed-forces-contingent",
        {"strength": 3, "command_posts": 1, "effective_on": "2022-07-01"},
    )
    await assign(nic, "BATFAR-Gao", cma[:3] + accepted[:3], "2022-07-01", command_posts=1)
    await nic.ok(
        "/service-records",
        {"entries": [{"person_id": cma[0], "status": "deserted"}], "effective_on": "2023-10-15"},
    )
    await nic.ok(
        "/service-records",
        {"entries": [{"person_id": cma[0], "status": "returned"}], "effective_on": "2023-12-01"},
    )
    await nic.ok(
        "/service-records",
        {
            "entries": [{"person_id": cma[1], "status": "discharged", "discharge_kind": "medical"}],
            "effective_on": "2024-01-10",
        },
    )

    async def withdrawn() -> bool:
        return bool((await status_of(nic, cma[3]))["status"] == "withdrawn")

    await eventually(withdrawn, "the withdrawal of the trainee screened again")


async def test_a_rebuild_while_serving_gives_the_live_read_model_table_by_table(
    programme: Programme,
    nic: Api,
    mod: Api,
    registration: UpstreamService,
    reinsertion: UpstreamService,
    client: httpx.AsyncClient,
    issuer: DevelopmentTokenIssuer,
    app: FastAPI,
) -> None:
    await _programme_history(programme, nic, mod, registration, reinsertion)
    live = await _rows(app)
    operator = caller(client, issuer, Role.OPERATOR)

    started = await operator.post("/read-model/rebuild")

    async def done() -> bool:
        return bool((await operator.get("/read-model/rebuild")).json()["status"] == "done")

    assert started.status_code == 202, started.text
    await eventually(done, "the rebuild")
    rebuilt = await _rows(app)
    assert {name: len(rows) for name, rows in rebuilt.items()} == {
        name: len(rows) for name, rows in live.items()
    }
    for table in READ_MODEL:
        assert rebuilt[table.name] == live[table.name], table.name
    assert all(live[name] for name in ("int_people", "int_postings", "int_quota_places", "int_trainees"))
