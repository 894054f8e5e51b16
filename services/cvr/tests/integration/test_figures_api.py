"""The programme's CVR figures: counts and targets entered as data come back identical, by programme, cercle
and period, as of any date; monitoring visits overdue a year after completion."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ddr_runtime.auth.roles import Role
from ddr_testkit.services import Api, Caller

from .support import approve, ngo, proposal

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

CENTRAL_CERCLES = {
    "Mopti": ("Mopti", 36),
    "Bandiagara": ("Mopti", 13),
    "Douentza": ("Mopti", 10),
    "Ségou": ("Ségou", 4),
    "San": ("Ségou", 2),
}


def split(total: int, parts: int) -> list[int]:
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


async def counted_project(
    officer: Api, committee: Api, year: int, counts: dict[str, int], **body: Any
) -> None:
    submission = proposal(submitted_on=f"{year}-01-10", budget="45000", **body)
    pid = (await officer.ok("/projects", submission, 201))["project_id"]
    await approve(committee, pid, on=f"{year}-03-01")
    await officer.ok(
        f"/projects/{pid}/beneficiary-counts",
        {"counted_on": f"{year}-12-01", "source": "programme_records", **counts},
    )


async def test_the_central_mali_figures_and_targets_entered_as_data_come_back_identical_by_programme(
    officer: Api, committee: Api, caller: Caller
) -> None:
    ngos = [f"ong-centre-{i:02d}" for i in range(23)]
    for partner_id in ngos:
        await ngo(officer, partner_id)
    places = [(cercle, region) for cercle, (region, count) in CENTRAL_CERCLES.items() for _ in range(count)]
    direct, women = split(54_131, 65), split(28_148, 65)
    for k, (cercle, region) in enumerate(places):
        await counted_project(
            officer,
            committee,
            2015 + k % 9,
            {"direct": direct[k], "direct_women": women[k]},
            partner_id=ngos[k % 23],
            programme="crp",
            region=region,
            cercle=cercle,
            commune=cercle,
            direct_beneficiaries_target=direct[k],
            women_target=women[k],
        )
    for k in range(3):
        north = {"region": "Gao", "cercle": "Gao", "commune": "Gao", "direct_beneficiaries_target": 500}
        await counted_project(
            officer,
            committee,
            2022,
            {"direct": 480, "direct_women": 250},
            partner_id=ngos[k],
            programme="northern",
            **north,
        )
    donor = caller(Role.DONOR)

    by_cercle = (
        await donor.get(
            "/reports/projects",
            group_by="cercle",
            programme=["crp"],
            from_year=2015,
            to_year=2023,
            as_of="2024-01-01",
        )
    ).json()
    by_programme = (await donor.get("/reports/projects", group_by="programme", as_of="2024-01-01")).json()
    period = (
        await donor.get("/reports/projects", periods="2015-2023", programme=["crp"], as_of="2024-01-01")
    ).json()

    rows = {row["key"]: row for row in by_cercle["rows"]}
    assert {c: rows[c]["projects"] for c in CENTRAL_CERCLES} == {
        c: n for c, (_, n) in CENTRAL_CERCLES.items()
    }
    total = by_cercle["total"]
    assert (total["projects"], total["ngos"], total["beneficiaries"], total["beneficiaries_women"]) == (
        65,
        23,
        54_131,
        28_148,
    )
    assert (total["target_beneficiaries"], total["target_women"]) == (54_131, 28_148)
    assert [
        (r["key"], r["projects"], r["target_women"], r["beneficiaries_women"]) for r in by_programme["rows"]
    ] == [
        ("crp", 65, 28_148, 28_148),
        ("northern", 3, 750, 750),
    ]
    assert (period["rows"][0]["key"], period["rows"][0]["projects"], period["rows"][0]["ngos"]) == (
        "2015-2023",
        65,
        23,
    )
    assert period["rows"][0]["target_women"] == 28_148


async def test_a_project_names_one_of_the_configured_programmes(officer: Api, caller: Caller) -> None:
    await ngo(officer, "ong-p")

    unknown = await officer.post("/projects", proposal(partner_id="ong-p", programme="southern"))
    missing = await officer.post(
        "/projects", {k: v for k, v in proposal(partner_id="ong-p").items() if k != "programme"}
    )
    programmes = (await caller(Role.AUDITOR).get("/programmes")).json()

    assert (unknown.status_code, unknown.json()["rule"], unknown.json()["field"]) == (
        422,
        "unknown-programme",
        "programme",
    )
    assert [e["field"] for e in missing.json()["errors"]] == ["body.programme"]
    assert [p["programme"] for p in programmes] == ["crp", "northern"]


async def test_figures_as_of_a_date_count_a_project_from_its_approval(
    officer: Api, committee: Api, caller: Caller
) -> None:
    await ngo(officer, "ong-d")
    pid = (await officer.ok("/projects", proposal(partner_id="ong-d", budget="50000"), 201))["project_id"]
    batch = {
        "participants": [
            {"participant_id": f"part-{n}", "category": "community", "sex": "F", "enrolled_on": "2022-01-15"}
            for n in range(5)
        ]
    }
    await officer.ok(f"/projects/{pid}/participants", batch)
    await approve(committee, pid, on="2022-03-01")
    await officer.ok(
        f"/projects/{pid}/beneficiary-counts",
        {
            "counted_on": "2022-09-01",
            "direct": 300,
            "direct_women": 160,
            "indirect": 1200,
            "indirect_women": 640,
        },
    )
    donor = caller(Role.DONOR)

    async def at(day: str) -> dict[str, Any]:
        total: dict[str, Any] = (await donor.get("/reports/projects", group_by="region", as_of=day)).json()[
            "total"
        ]
        return total

    before, approved, counted = await at("2022-02-28"), await at("2022-03-01"), await at("2022-12-31")

    assert (before["projects"], before["amount_usd"], before["beneficiaries"]) == (0, 0, 0)
    assert (
        approved["projects"],
        approved["amount_usd"],
        approved["beneficiaries"],
        approved["beneficiaries_women"],
    ) == (
        1,
        50000,
        5,
        5,
    )
    assert (counted["beneficiaries"], counted["beneficiaries_women"], counted["indirect_beneficiaries"]) == (
        300,
        160,
        1200,
    )


async def test_a_project_completed_thirteen_months_ago_without_a_visit_is_listed_overdue(
    officer: Api, committee: Api
) -> None:
    await ngo(officer, "ong-v")
    today = datetime.now(UTC).date()
    completed = today - timedelta(days=13 * 30)
    approved = completed - timedelta(days=200)
    pids = []
    for _ in range(3):
        body = proposal(partner_id="ong-v", submitted_on=str(approved - timedelta(days=30)))
        pid = (await officer.ok("/projects", body, 201))["project_id"]
        await approve(committee, pid, on=str(approved))
        await officer.ok(f"/projects/{pid}/completion", {"completed_on": str(completed)})
        pids.append(pid)
    recent = (await officer.ok("/projects", proposal(partner_id="ong-v", submitted_on=str(approved)), 201))[
        "project_id"
    ]
    await approve(committee, recent, on=str(approved))
    await officer.ok(f"/projects/{recent}/completion", {"completed_on": str(today - timedelta(days=100))})
    await officer.ok(
        f"/projects/{pids[1]}/monitoring-visits",
        {
            "visit_kind": "on_site",
            "visited_on": str(completed + timedelta(days=360)),
            "findings": "Forage fonctionnel",
        },
    )
    insecure = {
        "visit_kind": "remote_insecure",
        "visited_on": str(completed + timedelta(days=370)),
        "findings": "Jardin maraîcher exploité",
    }
    refused = await officer.post(f"/projects/{pids[2]}/monitoring-visits", insecure)
    substitute = await officer.ok(
        f"/projects/{pids[2]}/monitoring-visits",
        {
            **insecure,
            "insecurity_reason": "route Mopti-Djenné minée",
            "partner_report_reference": "RAP-2023-07",
            "testimonies": 6,
        },
    )

    overdue = (await officer.get("/monitoring/overdue-visits")).json()

    assert refused.json()["rule"] == "substitute-evidence"
    assert substitute["last_visit_kind"] == "remote_insecure"
    assert [item["project_id"] for item in overdue] == [pids[0]]
    assert overdue[0]["days_overdue"] == (today - completed).days - 365
    assert date.fromisoformat(overdue[0]["visit_due_on"]) == completed + timedelta(days=365)
