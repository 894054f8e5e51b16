"""Programme-scale behaviour: the 2020 roadmap's volunteer round, the ledger reconciled, dashboards by region
and sex."""

from __future__ import annotations

from decimal import Decimal

import pytest

from .conftest import Service, money, payment, setup_catalogue_and_line

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
        assert (listed["recorded"], listed["refused"]) == (900, 0)
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
    assert [(i["key"], i["rule"]) for i in one_too_many["items"]] == [("V-extra", "round_region_full")]

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
    timetables: dict[str, Decimal] = {}
    for start in range(0, len(enrolments), 600):
        answer = await service.officer.ok("/enrolments", {"enrolments": enrolments[start : start + 600]})
        assert (answer["recorded"], answer["refused"]) == (len(answer["items"]), 0)
        for item in answer["items"]:
            timetables[item["key"]] = money(item["result"]["timetable"][0]["amount"])
    assert len(timetables) == 1800

    for start in range(0, 1800, 600):
        batch = [payment(v["person_id"]) for v in volunteers[start : start + 600]]
        answer = await service.finance.ok("/disbursements/batch", {"disbursements": batch})
        assert (answer["recorded"], answer["refused"]) == (600, 0)
        assert all(money(i["result"]["amount"]) == timetables[i["key"]] for i in answer["items"])

    beneficiaries = [
        b
        for offset in (0, 1000)
        for b in await service.auditor.read("/beneficiaries", limit=1000, offset=offset)
    ]
    line = await service.finance.read("/budget-lines/wb-2020")
    dashboard = await service.donor.read("/dashboard")
    committed = sum(money(b["committed"]) for b in beneficiaries)
    paid = sum(money(b["disbursed"]) for b in beneficiaries)
    assert (len(beneficiaries), {b["stage"] for b in beneficiaries}) == (1800, {"active"})
    assert (money(line["committed"]), money(line["disbursed"])) == (committed, paid)
    assert paid == sum(timetables.values())
    assert (money(line["uncommitted"]), money(line["cash"])) == (
        1_200_000_000 - committed,
        700_000_000 - paid,
    )
    assert (dashboard["totals"]["active"], dashboard["totals"]["faga"]) == (1800, 360)
    assert (money(dashboard["totals"]["committed"]), money(dashboard["totals"]["disbursed"])) == (
        committed,
        paid,
    )
    packages = {p["package_id"]: (p["active"], money(p["disbursed"])) for p in dashboard["by_package"]}
    assert packages == {
        "faga-iga": (360, sum(a for p, a in timetables.items() if p.endswith(("0", "5")))),
        "small-trade": (1440, sum(a for p, a in timetables.items() if not p.endswith(("0", "5")))),
    }
    cells = {(c["region"], c["sex"]): c["active"] for c in dashboard["by_region_and_sex"]}
    assert cells == {(r, s): 60 if s == "F" else 240 for r in REGIONS for s in ("F", "M")}
    assert "person_id" not in str(dashboard)
    round_detail = await service.donor.read("/rounds/roadmap-2020")
    assert {r["region"]: r["listed"] for r in round_detail["regions"]} == dict.fromkeys(REGIONS, 300)
