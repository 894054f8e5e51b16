"""Money is counted in money: tranches given as amounts of the package's currency, sums checked exactly, no
drift (issue 12, section 7)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from .conftest import Service, enrolment, money, payment, refusal, setup_catalogue_and_line, volunteers

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def usd_package(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "package_id": "usd-1500",
        "kind": "income_generating_activity",
        "title": "AGR, USD 1,500 in three",
        "caseloads": ["ex_combatant"],
        "currency": "USD",
        "base_amount": "1500.00",
        "per_dependant_amount": "25.50",
        "max_dependants": 4,
        "tranches": [
            {"number": 1, "amount": "500.00", "due_after_days": 0},
            {"number": 2, "amount": "500.00", "due_after_days": 0},
            {"number": 3, "amount": "500.00", "due_after_days": 0},
        ],
        "effective_on": "2020-01-01",
    }
    values.update(overrides)
    return values


async def usd_line(service: Service) -> None:
    await service.finance.ok(
        "/budget-lines",
        {
            "line_id": "usd",
            "funding_source": "World Bank",
            "title": "USD line",
            "currency": "USD",
            "allotted": "1000000",
            "opened_on": "2020-01-15",
        },
        201,
    )
    await service.finance.ok(
        "/budget-lines/usd/receipts", {"amount": "1000000", "reference": "DA", "received_on": "2020-01-20"}
    )


async def test_a_package_of_usd_1500_is_paid_as_500_500_500_exactly(service: Service) -> None:
    await service.officer.ok("/packages", usd_package(), 201)
    await usd_line(service)
    people = [f"P-usd-{n}" for n in range(3)]
    await volunteers(service, "r-usd", people)

    for person in people:
        granted = await service.officer.ok(
            f"/beneficiaries/{person}/enrolment",
            enrolment(package_id="usd-1500", line_id="usd", dependants=0),
            201,
        )
        assert [t["amount"] for t in granted["timetable"]] == ["500.00", "500.00", "500.00"]
        for tranche in (1, 2, 3):
            paid = await service.finance.ok("/disbursements", payment(person, tranche), 201)
            assert paid["amount"] == "500.00"

    line = await service.finance.read("/budget-lines/usd")
    assert (money(line["committed"]), money(line["disbursed"])) == (Decimal("4500"), Decimal("4500"))


async def test_supplements_are_paid_with_the_first_tranche_to_the_cent(service: Service) -> None:
    await service.officer.ok("/packages", usd_package(), 201)
    await usd_line(service)
    await volunteers(service, "r-cents", ["P-cents"])

    granted = await service.officer.ok(
        "/beneficiaries/P-cents/enrolment", enrolment(package_id="usd-1500", line_id="usd", dependants=3), 201
    )

    assert granted["amount"] == "1576.50"
    assert [t["amount"] for t in granted["timetable"]] == ["576.50", "500.00", "500.00"]


async def test_tranche_amounts_that_do_not_add_up_to_the_package_are_refused_with_both_sums(
    service: Service,
) -> None:
    short = usd_package(
        tranches=[
            {"number": 1, "amount": "500.00", "due_after_days": 0},
            {"number": 2, "amount": "500.00", "due_after_days": 30},
            {"number": 3, "amount": "499.99", "due_after_days": 60},
        ]
    )
    mixed = usd_package(
        tranches=[
            {"number": 1, "amount": "1000.00", "due_after_days": 0},
            {"number": 2, "share_percent": 50, "due_after_days": 30},
        ]
    )

    refused = await service.officer.post("/packages", short)
    mixed_refused = await service.officer.post("/packages", mixed)

    assert refusal(refused) == (422, "tranches")
    assert (refused.json()["total"], refused.json()["base_amount"]) == ("1499.99", "1500.00")
    assert refusal(mixed_refused) == (422, "tranches")
    assert await service.officer.read("/packages") == []


async def test_shares_in_percent_still_add_up_to_the_entitlement_to_the_unit(service: Service) -> None:
    thirds = usd_package(
        package_id="thirds",
        base_amount="1000.00",
        tranches=[
            {"number": 1, "share_percent": "33.3333", "due_after_days": 0},
            {"number": 2, "share_percent": "33.3333", "due_after_days": 30},
            {"number": 3, "share_percent": "33.3334", "due_after_days": 60},
        ],
    )
    await service.officer.ok("/packages", thirds, 201)
    await usd_line(service)
    await volunteers(service, "r-thirds", ["P-thirds"])

    granted = await service.officer.ok(
        "/beneficiaries/P-thirds/enrolment", enrolment(package_id="thirds", line_id="usd", dependants=0), 201
    )

    assert [t["amount"] for t in granted["timetable"]] == ["333.33", "333.33", "333.34"]


async def test_thousands_of_tranches_paid_leave_no_drift_between_the_plan_and_the_ledger(
    service: Service,
) -> None:
    await setup_catalogue_and_line(service, allotted=2_000_000_000)
    await service.officer.ok("/packages", usd_package(currency="XOF", base_amount="1500", tranches=[
        {"number": 1, "amount": "500", "due_after_days": 0},
        {"number": 2, "amount": "500", "due_after_days": 0},
        {"number": 3, "amount": "500", "due_after_days": 0},
    ]), 201)  # fmt: skip
    people = [f"P-d-{n:04d}" for n in range(300)]
    await volunteers(service, "r-drift", people)
    enrolled = await service.officer.ok(
        "/enrolments",
        {"enrolments": [{**enrolment(package_id="usd-1500", dependants=0), "person_id": p} for p in people]},
    )
    assert enrolled["recorded"] == 300
    for tranche in (1, 2, 3):
        paid = await service.finance.ok(
            "/disbursements/batch", {"disbursements": [payment(p, tranche) for p in people]}
        )
        assert paid["recorded"] == 300

    line = await service.finance.read("/budget-lines/wb-2020")
    assert money(line["disbursed"]) == 300 * 1500
    assert money(line["outstanding_commitments"]) == 0
