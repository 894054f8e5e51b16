"""Bulk routes answer item by item by default, each refusal naming its item and person; ``?atomic=true``
records all or nothing; and the dashboard counts per package (issue 12, sections 7 and 9)."""

from __future__ import annotations

import pytest

from .conftest import Service, enrolment, money, payment, setup_catalogue_and_line, volunteers

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_a_batch_of_enrolments_records_the_valid_ones_and_names_each_refused_person(
    service: Service,
) -> None:
    await setup_catalogue_and_line(service)
    await volunteers(service, "r-bulk", ["P-1", "P-2"])
    batch = [
        {**enrolment(), "person_id": "P-1"},
        {**enrolment(), "person_id": "P-unknown"},
        {**enrolment(package_id="faga-iga"), "person_id": "P-2"},
        {**enrolment(), "person_id": "P-2"},
    ]

    answer = await service.officer.ok("/enrolments", {"enrolments": batch})
    again = await service.officer.ok("/enrolments", {"enrolments": batch})

    assert (answer["recorded"], answer["refused"]) == (2, 2)
    assert [(i["index"], i["key"], i["status"], i["rule"]) for i in answer["items"]] == [
        (0, "P-1", "recorded", None),
        (1, "P-unknown", "refused", "not_a_candidate"),
        (2, "P-2", "refused", "package_not_for_caseload"),
        (3, "P-2", "recorded", None),
    ]
    assert [(i["key"], i["rule"]) for i in again["items"]] == [
        ("P-1", "already_enrolled"),
        ("P-unknown", "not_a_candidate"),
        ("P-2", "already_enrolled"),
        ("P-2", "already_enrolled"),
    ]
    line = await service.finance.read("/budget-lines/wb-2020")
    assert money(line["committed"]) == 2 * 420_000


async def test_an_atomic_batch_with_one_refusal_records_nothing_and_names_the_item(service: Service) -> None:
    await setup_catalogue_and_line(service)
    await volunteers(service, "r-atomic", ["P-a1", "P-a2"])
    await service.officer.ok(
        "/enrolments", {"enrolments": [{**enrolment(), "person_id": p} for p in ("P-a1", "P-a2")]}
    )
    batch = [payment("P-a1"), payment("P-a2", tranche=2)]

    refused = await service.finance.client.post(
        "/disbursements/batch",
        params={"atomic": "true"},
        json={"disbursements": batch},
        headers={**service.finance.headers, "Back-Recording-Reason": "migrated registers"},
    )

    assert refused.status_code == 422
    assert [(i["index"], i["key"], i["status"], i["rule"]) for i in refused.json()["items"]] == [
        (0, "P-a1", "recorded", None),
        (1, "P-a2", "refused", "earlier_tranche_unpaid"),
    ]
    line = await service.finance.read("/budget-lines/wb-2020")
    assert line["disbursed"] == "0"


async def test_a_retried_batch_of_payments_pays_each_tranche_once(service: Service) -> None:
    await setup_catalogue_and_line(service)
    await volunteers(service, "r-retry", ["P-r1", "P-r2"])
    await service.officer.ok(
        "/enrolments", {"enrolments": [{**enrolment(), "person_id": p} for p in ("P-r1", "P-r2")]}
    )
    batch = {"disbursements": [payment("P-r1"), payment("P-r2")]}

    first = await service.finance.ok("/disbursements/batch", batch)
    again = await service.finance.ok("/disbursements/batch", batch)

    assert first["recorded"] == again["recorded"] == 2
    assert [i["result"]["replayed"] for i in again["items"]] == [True, True]
    assert [i["result"]["disbursement_id"] for i in again["items"]] == [
        i["result"]["disbursement_id"] for i in first["items"]
    ]
    line = await service.finance.read("/budget-lines/wb-2020")
    assert money(line["disbursed"]) == 2 * 210_000


async def test_the_dashboard_counts_per_package(service: Service) -> None:
    await setup_catalogue_and_line(service)
    await volunteers(service, "r-men", ["P-m1", "P-m2"])
    await volunteers(service, "r-women", ["P-w1"], sex="F")
    await service.officer.ok(
        "/enrolments", {"enrolments": [{**enrolment(dependants=0), "person_id": p} for p in ("P-m1", "P-m2")]}
    )
    await service.finance.ok("/disbursements", payment("P-m1"), 201)

    dashboard = await service.donor.read("/dashboard")

    assert dashboard["by_package"] == [
        {
            "package_id": "small-trade", "package_kind": "small_trade", "currency": "XOF", "waiting": 0,
            "active": 2, "completed": 0, "dropped_out": 0, "ever_enrolled": 2, "faga": 0,
            "committed": "800000", "disbursed": "200000",
        }
    ]  # fmt: skip
    assert dashboard["totals"]["waiting"] == 1
