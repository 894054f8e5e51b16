"""Who may do what: officers enrol, finance pays, donors see aggregates only, auditors read only."""

from __future__ import annotations

import pytest

from ddr_runtime.auth.roles import Role

from .conftest import PACKAGE, Service, enrolment, payment, refusal, setup_catalogue_and_line

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def listed_volunteer(service: Service, person: str, region: str = "Gao") -> None:
    await service.officer.ok(
        "/rounds",
        {
            "round_id": f"r-{person}",
            "title": "R",
            "regions": [region],
            "size_per_region": 5,
            "opened_on": "2020-02-01",
        },
        201,
    )
    await service.officer.ok(
        f"/rounds/r-{person}/volunteers",
        {
            "listed_on": "2020-02-02",
            "volunteers": [
                {
                    "person_id": person,
                    "region": region,
                    "sex": "F",
                    "category": "combatant",
                    "movement": "CMA",
                }
            ],
        },
    )


async def test_donors_see_aggregates_and_never_a_person(service: Service) -> None:
    await setup_catalogue_and_line(service)
    await listed_volunteer(service, "P-donor-1")
    await service.officer.ok("/beneficiaries/P-donor-1/enrolment", enrolment(), 201)

    for path in (
        "/beneficiaries",
        "/beneficiaries/P-donor-1",
        "/beneficiaries/P-donor-1/profile",
        "/tranches/due",
        "/visits/overdue",
    ):
        response = await service.donor.get(path, as_of="2020-12-31")
        assert response.status_code == 403, path
    dashboard = await service.donor.read("/dashboard")
    lines = await service.donor.read("/budget-lines")
    assert (dashboard["totals"]["active"], lines[0]["committed"]) == (1, "420000")
    assert "P-donor-1" not in str(dashboard) + str(lines)
    assert (await service.donor.post("/disbursements", payment("P-donor-1"))).status_code == 403


async def test_the_auditor_reads_everything_and_changes_nothing(service: Service) -> None:
    await setup_catalogue_and_line(service)
    await listed_volunteer(service, "P-audit-1")
    await service.officer.ok("/beneficiaries/P-audit-1/enrolment", enrolment(), 201)

    assert (await service.auditor.read("/beneficiaries/P-audit-1/profile"))["literacy"] == "basic"
    assert len(await service.auditor.read("/tranches/due", as_of="2020-03-01")) == 1
    for path, body in (
        ("/packages", PACKAGE),
        ("/disbursements", payment("P-audit-1")),
        ("/beneficiaries/P-audit-1/exit", {"reason": "withdrawn", "effective_on": "2020-04-01"}),
    ):
        assert (await service.auditor.post(path, body)).status_code == 403, path


async def test_finance_pays_but_does_not_enrol_and_officers_enrol_but_do_not_pay(service: Service) -> None:
    await setup_catalogue_and_line(service)
    await listed_volunteer(service, "P-split-1")

    assert (await service.finance.post("/beneficiaries/P-split-1/enrolment", enrolment())).status_code == 403
    await service.officer.ok("/beneficiaries/P-split-1/enrolment", enrolment(), 201)
    assert (await service.officer.post("/disbursements", payment("P-split-1"))).status_code == 403
    assert (await service.finance.get("/beneficiaries/P-split-1/profile")).status_code == 403
    await service.finance.ok("/disbursements", payment("P-split-1"), 201)
    anonymous = await service.client.get("/dashboard")
    assert anonymous.status_code == 401


async def test_an_officer_of_one_region_neither_sees_nor_enrols_another_regions_people(
    service: Service,
) -> None:
    await setup_catalogue_and_line(service)
    await listed_volunteer(service, "P-kidal-1", region="Kidal")
    gao_officer = service.as_(
        Role.REINSERTION_OFFICER, Role.RECORDS_OFFICER, subject="officer-gao", regions=("Gao",)
    )

    assert (await gao_officer.get("/beneficiaries/P-kidal-1")).status_code == 404
    assert (await gao_officer.post("/beneficiaries/P-kidal-1/enrolment", enrolment())).status_code == 404
    assert await gao_officer.read("/beneficiaries") == []


async def test_bad_input_is_a_4xx_naming_the_field_and_writes_nothing(service: Service) -> None:
    await setup_catalogue_and_line(service)
    bad_shares = {
        **PACKAGE,
        "package_id": "bad",
        "tranches": [{"number": 1, "share_percent": 90, "due_after_days": 0}],
    }
    response = await service.officer.post("/packages", bad_shares)
    assert refusal(response) == (422, "tranches")
    response = await service.officer.post("/packages", {**PACKAGE, "kind": "lottery"})
    assert response.status_code == 422
    assert any("kind" in e["field"] for e in response.json()["errors"])
    response = await service.finance.post(
        "/budget-lines/nope/receipts", {"amount": 5, "reference": "x", "received_on": "2020-01-01"}
    )
    assert response.status_code == 404
    assert [p["package_id"] for p in await service.officer.read("/packages")] == ["faga-iga", "small-trade"]
