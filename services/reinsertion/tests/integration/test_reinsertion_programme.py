"""Programme-scale behaviour: the 2020 roadmap's volunteer round, the ledger reconciled, dashboards by region
and sex."""

from __future__ import annotations

import pytest

from .conftest import Service, payment, setup_catalogue_and_line

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

REGIONS = ("Gao", "Kidal", "Ménaka", "Mopti", "Ségou", "Tombouctou")


async def test_the_1800_volunteers_of_the_2020_roadmap_enrol_choose_packages_and_reconcile_with_the_ledger(
    service: Service,
) -> None:
    await setup_catalogue_and_line(service, allotted=1_200_000_000, received=700_000_000)
    await service.officer.ok(
        "/rounds",
        {
            "round_id": "roadmap-2020",
            "title": "Feuille de route 2020",
            "regions": list(REGIONS),
            "size_per_region": 300,
            "opened_on": "2020-02-01",
        },
        201,
    )
    volunteers = [
        {
            "person_id": f"V-{region[:3]}-{n:03d}",
            "region": region,
            "sex": "F" if n % 5 == 0 else "M",
            "category": "associated_woman" if n % 5 == 0 else "combatant",
            "movement": "CMA" if n % 2 else "Plateforme",
            "rank": "capitaine" if n % 50 == 0 and n % 5 else "soldat",
        }
        for region in REGIONS
        for n in range(300)
    ]
    for start in range(0, len(volunteers), 900):
        listed = await service.officer.ok(
            "/rounds/roadmap-2020/volunteers",
            {"listed_on": "2020-02-15", "volunteers": volunteers[start : start + 900]},
        )
        assert listed == {"listed": 900, "refused": []}
    one_too_many = await service.officer.ok(
        "/rounds/roadmap-2020/volunteers",
        {
            "listed_on": "2020-02-16",
            "volunteers": [
                {
                    "person_id": "V-extra",
                    "region": "Gao",
                    "sex": "M",
                    "category": "combatant",
                    "movement": "CMA",
                }
            ],
        },
    )
    assert one_too_many["refused"][0]["rule"] == "round_region_full"

    enrolments = [
        {
            "person_id": v["person_id"],
            "package_id": "faga-iga" if v["category"] == "associated_woman" else "small-trade",
            "line_id": "wb-2020",
            "skills": ["couture"] if v["sex"] == "F" else ["élevage"],
            "literacy": "basic",
            "area_of_return": f"{v['region']}, commune {n % 7}",
            "dependants": n % 6,
            "enrolled_on": "2020-03-01",
        }
        for n, v in enumerate(volunteers)
    ]
    timetables: dict[str, int] = {}
    for start in range(0, len(enrolments), 600):
        answer = await service.officer.ok("/enrolments", {"enrolments": enrolments[start : start + 600]})
        for result in answer["results"]:
            assert result["status"] == "enrolled", result
            timetables[result["person_id"]] = result["timetable"][0]["amount"]
    assert len(timetables) == 1800

    for start in range(0, 1800, 600):
        batch = [payment(v["person_id"]) for v in volunteers[start : start + 600]]
        answer = await service.finance.ok("/disbursements/batch", {"disbursements": batch})
        assert {r["status"] for r in answer["results"]} == {"paid"}
        assert all(r["amount"] == timetables[r["person_id"]] for r in answer["results"])

    beneficiaries = await service.auditor.read("/beneficiaries", limit=5000)
    line = await service.finance.read("/budget-lines/wb-2020")
    dashboard = await service.donor.read("/dashboard")
    committed = sum(b["committed"] for b in beneficiaries)
    paid = sum(b["disbursed"] for b in beneficiaries)
    assert (len(beneficiaries), {b["stage"] for b in beneficiaries}) == (1800, {"active"})
    assert (line["committed"], line["disbursed"]) == (committed, paid)
    assert paid == sum(timetables.values())
    assert (line["uncommitted"], line["cash"]) == (1_200_000_000 - committed, 700_000_000 - paid)
    assert (dashboard["totals"]["active"], dashboard["totals"]["faga"]) == (1800, 360)
    assert (dashboard["totals"]["committed"], dashboard["totals"]["disbursed"]) == (committed, paid)
    cells = {(c["region"], c["sex"]): c["active"] for c in dashboard["by_region_and_sex"]}
    assert cells == {(r, s): 60 if s == "F" else 240 for r in REGIONS for s in ("F", "M")}
    assert "person_id" not in str(dashboard)
    round_detail = await service.donor.read("/rounds/roadmap-2020")
    assert {r["region"]: r["listed"] for r in round_detail["regions"]} == dict.fromkeys(REGIONS, 300)
