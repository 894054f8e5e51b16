"""The registration's read model is a projection of its own history: rebuilt while the service serves, it
equals the live one, row for row, in every table."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from ddr_registration.adapters.tables import READ_MODEL
from ddr_registration.domain.members import BirthDate, Category, Sex
from ddr_runtime.auth.roles import Role
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.services import Api, Caller

from .support import liaison, list_file, member, movement, persons_of, upload

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def snapshot(runtime: ServiceRuntime) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every read-model table, in a fixed order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    async with runtime.engine.connect() as conn:
        for table in READ_MODEL:
            rows = (await conn.execute(select(table))).all()
            tables[table.name] = sorted((tuple(row) for row in rows), key=repr)
    return tables


async def main_scenarios(officer: Api, caller: Caller, tmp_path: Path) -> None:
    """Movements and coalitions, two lists (one with a refused row), certification and endorsement, suspected
    duplicates and a merge, corrections, registrations, weapons with a repeated serial and a custody
    transfer, and an erasure."""
    await movement(officer, "CMA", kind="coalition")
    for code in ("MNLA", "HCUA"):
        await movement(officer, code)
    historian = caller(Role.CNDDR_OFFICER, Role.RECORDS_OFFICER, subject="records-1")
    reason = "coalition memberships of the 2015 agreement"
    await historian.ok(
        "/movements/MNLA/coalitions",
        {"coalition": "CMA", "since": "2014-10-28"},
        if_match='"1"',
        back_recording_reason=reason,
    )
    await historian.ok(
        "/movements/MNLA/coalitions/CMA/end",
        {"until": "2023-02-01"},
        if_match='"2"',
        back_recording_reason=reason,
    )
    same = {"birth": BirthDate.year_only(1979), "commune": "Tessalit", "cercle": "Tessalit"}
    mnla = list_file(
        tmp_path,
        [member("M-1", "Alghabass Ag Intalla", **same), member("M-2", "Fatouma Walet Intalla", sex=Sex.F),
         member("M-3", "Moussa Ag Ahmed", category=Category.CHILD, birth=BirthDate.year_only(2009), armed=False, weapons=())],
    )  # fmt: skip
    report = (await upload(officer, mnla, "MNLA")).json()
    bad = tmp_path / "hcua.csv"
    bad.write_text(
        "movement_ref,full_name,sex,birth_date,category,region,cercle,armed\n"
        "H-7,Alghabass Ag Intalla,M,1979,combatant,Kidal,Tessalit,oui\n"
        "H-8,Ahmed Ag Ahmed,X,1990,combatant,Kidal,Kidal,non\n",
        encoding="utf-8",
    )
    assert (await upload(officer, bad, "HCUA")).json()["rows_rejected"] == 1
    await movement(officer, "GATIA")
    profile = {"name": "gatia", "columns": {"origin_region": "region", "origin_cercle": "cercle"},
               "values": {"category": {"CBT": "combatant"}}}  # fmt: skip
    await officer.ok("/movements/GATIA/import-profiles", profile, status=201)
    gatia = tmp_path / "gatia.csv"
    gatia.write_text(
        "matricule,nom,sexe,naissance,categorie,origin_region,origin_cercle,arme,type_arme,numero_serie,"
        "document_issued,remarques\n"
        "G-1,Moussa Ag Acharatoumane,M,1975,CBT,Ménaka,Ménaka,oui,AK-47,SN-M-1,2010-01-01,chef\n",
        encoding="utf-8",
    )
    assert (await upload(officer, gatia, "GATIA", profile="gatia")).json()["serial_repeats"]
    path = f"/lists/{report['list_id']}"
    await liaison(caller, "MNLA").ok(f"{path}/versions/1/certification", if_match='"1"')
    await officer.ok(f"{path}/versions/1/endorsements", {"body": "CNDDR"}, if_match='"2"')
    (case,) = (await officer.get("/duplicates")).json()
    await officer.ok(
        f"/duplicates/{case['case_id']}/resolution",
        {"outcome": "merged", "surviving_person_id": case["other_person_id"]},
        if_match=f'"{case["version"]}"',
    )
    standing = [p for p in await persons_of(officer) if p["status"] != "merged" and p["category"] != "child"]
    for n, person in enumerate(standing):
        corrected = await officer.ok(
            f"/persons/{person['person_id']}/corrections",
            {"reason": "ID card", "commune": "Kidal", "rank": "caporal"},
            if_match=f'"{person["version"]}"',
        )
        await officer.ok(
            f"/persons/{person['person_id']}/registration",
            {"biometric_reference": f"device-1/template-{n}", "site": ("Gao", "Kidal")[n % 2]},
            if_match=f'"{corrected["version"]}"',
        )
        weapon = await officer.ok(
            "/weapons",
            {"person_id": person["person_id"], "type": "AK-47", "calibre": "7.62x39", "serial": "AK 1" if n else None,
             "condition": "bon", "tag": f"T-{n}", "custodian": "CTS Kidal"},
            status=201,
        )  # fmt: skip
        await officer.ok(
            f"/weapons/{weapon['weapon_id']}/custody-transfers",
            {"from_custodian": "CTS Kidal", "to_custodian": "MINUSMA armoury", "released_by": "a", "received_by": "b"},
            if_match=f'"{weapon["version"]}"',
        )  # fmt: skip
    erased = standing[-1]
    current = (await officer.get(f"/persons/{erased['person_id']}")).json()
    await officer.ok(
        f"/persons/{erased['person_id']}/erasure",
        {"reason_code": "data_subject_request", "authority": "CNDDR-2024-12"},
        if_match=f'"{current["version"]}"',
    )


async def test_a_rebuilt_read_model_equals_the_live_one_in_every_table(
    app: FastAPI, officer: Api, caller: Caller, tmp_path: Path
) -> None:
    await main_scenarios(officer, caller, tmp_path)
    runtime: ServiceRuntime = app.state.runtime
    live = await snapshot(runtime)
    operator = caller(Role.OPERATOR, subject="operator-1")

    started = await operator.post("/read-model/rebuild")
    status = (await operator.get("/read-model/rebuild")).json()
    while status["status"] == "running":
        await asyncio.sleep(0.05)
        status = (await operator.get("/read-model/rebuild")).json()

    assert started.status_code == 202
    assert (status["status"], status["swapped"]) == ("done", True)
    rebuilt = await snapshot(runtime)
    assert {name: len(rows) for name, rows in rebuilt.items()} == {
        name: len(rows) for name, rows in live.items()
    }
    assert rebuilt == live
