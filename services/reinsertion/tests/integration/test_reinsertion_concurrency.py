"""Two offices paying from the same budget line at the same moment, on PostgreSQL: two app instances on one
database, their requests in flight together. The line's balance comes from its events only: each office
appends after the version it decided on, so one of two offices spending the same cash is decided again on
the line as the other left it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest

from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_testkit.services import service_client

from .conftest import (
    Caller,
    Service,
    enrolment,
    make_app,
    money,
    payment,
    setup_catalogue_and_line,
    volunteers,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def database_url(fresh_postgres_database: str) -> str:
    return fresh_postgres_database


@pytest.fixture
async def second_office(
    settings: Settings, service: Service, token_verifier: TokenVerifier
) -> AsyncIterator[httpx.AsyncClient]:
    async with service_client(make_app(settings, token_verifier), "http://office-2") as client:
        yield client


def bamako(service: Service, client: httpx.AsyncClient) -> Caller:
    office = service.as_(Role.FINANCE_OFFICER, Role.RECORDS_OFFICER, subject="finance-bamako")
    return Caller(client, office.headers["Authorization"].removeprefix("Bearer "))


async def enrol_volunteers(service: Service, people: list[str]) -> None:
    await volunteers(service, "r", people)
    answer = await service.officer.ok(
        "/enrolments", {"enrolments": [{**enrolment(dependants=0), "person_id": p} for p in people]}
    )
    assert (answer["recorded"], answer["refused"]) == (len(people), 0)


async def test_two_offices_disbursing_the_last_funds_at_once_one_succeeds_one_is_refused(
    service: Service, second_office: httpx.AsyncClient
) -> None:
    # Cash on the line for exactly one first tranche (200,000) of the two beneficiaries' packages.
    await setup_catalogue_and_line(service, allotted=10_000_000, received=200_000)
    await enrol_volunteers(service, ["P-a", "P-b"])
    office_gao, office_bamako = service.finance, bamako(service, second_office)

    first, second = await asyncio.gather(
        office_gao.post("/disbursements", payment("P-a")),
        office_bamako.post("/disbursements", payment("P-b")),
    )

    assert sorted([first.status_code, second.status_code]) == [201, 422]
    refused = first if first.status_code == 422 else second
    assert refused.json()["rule"] == "insufficient_funds"
    line = await service.finance.read("/budget-lines/wb-2020")
    assert (line["received"], line["disbursed"], line["cash"]) == ("200000", "200000", "0")
    paid = [b for b in await service.auditor.read("/beneficiaries") if money(b["disbursed"])]
    assert [b["disbursed"] for b in paid] == ["200000"]


async def test_many_concurrent_disbursements_never_overdraw_the_line(
    service: Service, second_office: httpx.AsyncClient
) -> None:
    people = [f"P-{n:02d}" for n in range(24)]
    await setup_catalogue_and_line(service, allotted=100_000_000, received=10 * 200_000 + 50_000)
    await enrol_volunteers(service, people)
    offices = [service.finance, bamako(service, second_office)]

    answers = await asyncio.gather(
        *(offices[n % 2].post("/disbursements", payment(p)) for n, p in enumerate(people))
    )

    statuses = [a.status_code for a in answers]
    assert (statuses.count(201), statuses.count(422)) == (10, 14)
    assert {a.json()["rule"] for a in answers if a.status_code == 422} == {"insufficient_funds"}
    line = await service.finance.read("/budget-lines/wb-2020")
    assert (line["disbursed"], line["cash"]) == ("2000000", "50000")
    total = sum(money(b["disbursed"]) for b in await service.auditor.read("/beneficiaries"))
    assert total == money(line["disbursed"])


async def test_one_tranche_asked_by_two_offices_at_once_is_paid_once(
    service: Service, second_office: httpx.AsyncClient
) -> None:
    await setup_catalogue_and_line(service)
    await enrol_volunteers(service, ["P-once"])

    first, second = await asyncio.gather(
        service.finance.post("/disbursements", payment("P-once")),
        bamako(service, second_office).post("/disbursements", payment("P-once")),
    )

    assert sorted([first.status_code, second.status_code]) == [201, 409]
    refused = first if first.status_code == 409 else second
    assert refused.json()["rule"] == "tranche_already_paid"
    line = await service.finance.read("/budget-lines/wb-2020")
    assert line["disbursed"] == "200000"
