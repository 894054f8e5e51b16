"""Two offices paying from the same budget line at the same moment, on PostgreSQL: two app instances on one
database, their requests in flight together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings

from .conftest import Service, caller, enrolment, make_app, payment, setup_catalogue_and_line

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def database_url(fresh_postgres_database: str) -> str:
    return fresh_postgres_database


@pytest.fixture
async def second_office(settings: Settings, service: Service) -> AsyncIterator[httpx.AsyncClient]:
    app = make_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://office-2") as client,
    ):
        yield client


async def enrol_volunteers(service: Service, people: list[str]) -> None:
    await service.officer.ok(
        "/rounds",
        {
            "round_id": "r",
            "title": "R",
            "regions": ["Gao"],
            "size_per_region": 300,
            "opened_on": "2020-02-01",
        },
        201,
    )
    await service.officer.ok(
        "/rounds/r/volunteers",
        {
            "listed_on": "2020-02-02",
            "volunteers": [
                {"person_id": p, "region": "Gao", "sex": "M", "category": "combatant", "movement": "CMA"}
                for p in people
            ],
        },
    )
    answer = await service.officer.ok(
        "/enrolments", {"enrolments": [{**enrolment(dependants=0), "person_id": p} for p in people]}
    )
    assert {r["status"] for r in answer["results"]} == {"enrolled"}


async def test_two_offices_disbursing_the_last_funds_at_once_one_succeeds_one_is_refused(
    service: Service, second_office: httpx.AsyncClient
) -> None:
    # Cash on the line for exactly one first tranche (200,000) of the two beneficiaries' packages.
    await setup_catalogue_and_line(service, allotted=10_000_000, received=200_000)
    await enrol_volunteers(service, ["P-a", "P-b"])
    office_gao = service.finance
    office_bamako = caller(second_office, Role.FINANCE_OFFICER, "finance-bamako")

    first, second = await asyncio.gather(
        office_gao.post("/disbursements", payment("P-a")),
        office_bamako.post("/disbursements", payment("P-b")),
    )

    assert sorted([first.status_code, second.status_code]) == [201, 422]
    refused = first if first.status_code == 422 else second
    assert refused.json()["rule"] == "insufficient_funds"
    line = await service.finance.read("/budget-lines/wb-2020")
    assert (line["received"], line["disbursed"], line["cash"]) == (200_000, 200_000, 0)
    paid = [b for b in await service.auditor.read("/beneficiaries") if b["disbursed"]]
    assert [b["disbursed"] for b in paid] == [200_000]


async def test_many_concurrent_disbursements_never_overdraw_the_line(
    service: Service, second_office: httpx.AsyncClient
) -> None:
    people = [f"P-{n:02d}" for n in range(24)]
    await setup_catalogue_and_line(service, allotted=100_000_000, received=10 * 200_000 + 50_000)
    await enrol_volunteers(service, people)
    offices = [service.finance, caller(second_office, Role.FINANCE_OFFICER, "finance-bamako")]

    answers = await asyncio.gather(
        *(offices[n % 2].post("/disbursements", payment(p)) for n, p in enumerate(people))
    )

    statuses = [a.status_code for a in answers]
    assert (statuses.count(201), statuses.count(422)) == (10, 14)
    assert {a.json()["rule"] for a in answers if a.status_code == 422} == {"insufficient_funds"}
    line = await service.finance.read("/budget-lines/wb-2020")
    assert (line["disbursed"], line["cash"]) == (2_000_000, 50_000)
    total = sum(b["disbursed"] for b in await service.auditor.read("/beneficiaries"))
    assert total == line["disbursed"]


async def test_a_stale_append_to_a_budget_line_is_retried_on_a_fresh_read(service: Service) -> None:
    """Transaction B reads the line before A commits, so it decides on a stale version: its append fails (it
    waits on A's row of the same version, then meets A's commit) and it is decided again on what A left."""
    from ddr_contracts.reinsertion import FundsDisbursed
    from ddr_reinsertion.domain.ledger import BudgetLine
    from ddr_reinsertion.service_layer.unit import LineDecision, change_line
    from ddr_runtime.eventstore.store import Causation

    await setup_catalogue_and_line(service, allotted=1_000_000, received=300_000)
    unit = service.app.state.reinsertion
    attempts: list[int] = []

    def pay(amount: int, label: str):  # type: ignore[no-untyped-def]
        def decide(line: BudgetLine) -> LineDecision[str]:
            attempts.append(line.version)
            event = FundsDisbursed(
                line_id=line.line_id, commitment_id=label, disbursement_id=label, amount=amount
            )
            return line.disburse(amount), [event], label

        return decide

    async with unit.engine.connect() as a:
        transaction = await a.begin()
        await change_line(unit.store, a, "wb-2020", pay(200_000, "A"), Causation("office-a"))

        async def office_b() -> str:
            async with unit.engine.begin() as b:
                result: str = await change_line(
                    unit.store, b, "wb-2020", pay(200_000, "B"), Causation("office-b")
                )
                return result

        b_task = asyncio.create_task(office_b())
        for _ in range(600):  # B decides on the line as it stood before A commits
            if len(attempts) == 2:
                break
            await asyncio.sleep(0.05)
        assert len(attempts) == 2, "office B never read the line"
        await transaction.commit()
        with pytest.raises(Exception) as refused:
            await b_task

    assert getattr(refused.value, "rule", None) == "insufficient_funds"
    assert attempts == [2, 2, 3]  # A on version 2; B first on the stale 2, then on A's 3
    line = await service.finance.read("/budget-lines/wb-2020")
    assert (line["disbursed"], line["cash"], line["version"]) == (200_000, 100_000, 3)
