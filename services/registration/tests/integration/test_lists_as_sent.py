"""Lists as movements send them, through the API: read through a movement's import profile (its columns and
codes), identity documents issued days before flagged from the list itself, weapon serials declared twice
flagged at import naming both rows, and each person's weapons reconciled against their lists."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ddr_registration.domain.members import WeaponHandedOver
from ddr_testkit.services import Api, Caller

from .support import liaison, list_file, member, movement, persons_of, upload

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

HEADER = (
    "matricule,family_name,given_names,sexe,date_naissance,categorie,origin_region,origin_cercle,"
    "origin_commune,rank_in_movement,arme,type_arme,numero_serie,document_type,document_issued,observations"
)
GATIA_PROFILE: dict[str, Any] = {
    "name": "gatia-2018",
    "columns": {
        "origin_region": "region",
        "origin_cercle": "cercle",
        "origin_commune": "commune",
        "rank_in_movement": "rank",
    },
    "values": {
        "category": {"CBT": "combatant", "FAAG": "associated_woman", "ENF": "child"},
        "document_type": {"CNI": "national_id_card", "ANB": "birth_certificate"},
    },
}


def gatia_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "gatia-2018.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n", encoding="utf-8")
    return path


def days_ago(days: int) -> str:
    return (datetime.now(UTC).date() - timedelta(days=days)).isoformat()


ROWS = (
    "G-1,Acharatoumane,Moussa,M,1975,CBT,Ménaka,Ménaka,Anderamboukane,capitaine,oui,AK-47,KA-1,CNI,2010-03-01,chef",
    f"G-2,Walet Mohamed,Fatouma,F,1990,FAAG,Gao,Ansongo,,,non,,,ANB,{days_ago(5)},",
)


async def publish(api: Api, code: str, profile: dict[str, Any]) -> Any:
    return await api.post(f"/movements/{code}/import-profiles", profile)


async def test_a_list_laid_out_otherwise_is_refused_whole_without_a_profile(
    officer: Api, tmp_path: Path
) -> None:
    await movement(officer, "GATIA")

    refused = await upload(officer, gatia_file(tmp_path, *ROWS), "GATIA")

    assert (refused.status_code, refused.json()["rule"]) == (422, "unreadable-list-file")
    assert refused.json()["detail"] == "the header lacks the required column(s): region, cercle"


async def test_a_list_is_read_through_its_movements_profile_and_the_report_names_the_columns_not_read(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    await movement(officer, "GATIA")
    published = await publish(liaison(caller, "GATIA"), "GATIA", GATIA_PROFILE)

    answer = await upload(officer, gatia_file(tmp_path, *ROWS), "GATIA", profile="gatia-2018")

    assert published.status_code == 201, published.text
    assert answer.status_code == 201, answer.text
    report = answer.json()
    assert (report["profile"], report["profile_version"], report["unknown_columns"]) == (
        "gatia-2018",
        1,
        ["observations"],
    )
    assert (report["rows_pre_registered"], report["rows_rejected"]) == (2, 0)
    people = {p["movement_ref"]: p for p in await persons_of(officer, movement="GATIA")}
    moussa, fatouma = people["G-1"], people["G-2"]
    assert (moussa["full_name"], moussa["region"], moussa["cercle"], moussa["rank"]) == (
        "Moussa Acharatoumane",
        "Ménaka",
        "Ménaka",
        "capitaine",
    )
    assert (moussa["category"], moussa["document_type"], moussa["document_issued"]) == (
        "combatant",
        "national_id_card",
        "2010-03-01",
    )
    assert (fatouma["full_name"], fatouma["category"]) == ("Fatouma Walet Mohamed", "associated_woman")
    listed = (await officer.get("/lists")).json()[0]
    (version,) = (await officer.get(f"/lists/{listed['list_id']}")).json()["versions"]
    assert (version["profile"], version["profile_version"], version["unknown_columns"]) == (
        "gatia-2018",
        1,
        ["observations"],
    )


async def test_a_profile_is_versioned_and_names_only_fields_of_a_list(officer: Api, tmp_path: Path) -> None:
    await movement(officer, "GATIA")
    await publish(officer, "GATIA", GATIA_PROFILE)
    second = await publish(
        officer, "GATIA", {**GATIA_PROFILE, "columns": {**GATIA_PROFILE["columns"], "obs": "rank"}}
    )
    wrong = await publish(officer, "GATIA", {**GATIA_PROFILE, "columns": {"origin_region": "province"}})

    versions = (await officer.get("/movements/GATIA/import-profiles/gatia-2018")).json()

    assert second.status_code == 422  # two columns for rank
    assert (wrong.status_code, wrong.json()["rule"], wrong.json()["field"]) == (
        422,
        "profile-field",
        "province",
    )
    assert [v["profile_version"] for v in versions] == [1]
    third = await publish(officer, "GATIA", {**GATIA_PROFILE, "values": {"sex": {"1": "M", "2": "F"}}})
    assert (third.status_code, third.headers["etag"]) == (201, '"2"')
    read_with_first = await upload(
        officer, gatia_file(tmp_path, *ROWS), "GATIA", profile="gatia-2018", profile_version=1
    )
    assert read_with_first.json()["profile_version"] == 1


async def test_a_document_issued_days_before_is_flagged_from_the_list_and_again_at_registration(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    await movement(officer, "GATIA")
    await publish(officer, "GATIA", GATIA_PROFILE)

    report = (await upload(officer, gatia_file(tmp_path, *ROWS), "GATIA", profile="gatia-2018")).json()
    rows = (await officer.get(f"/lists/{report['list_id']}/versions/1/report")).json()
    fatouma = next(p for p in await persons_of(officer, movement="GATIA") if p["movement_ref"] == "G-2")
    registered = await officer.post(
        f"/persons/{fatouma['person_id']}/registration",
        {"biometric_reference": "device-2/template-9", "site": "Gao"},
        if_match=f'"{fatouma["version"]}"',
    )

    assert report["documents_recent"] == [3]
    assert [(r["line"], r["flags"]) for r in rows] == [(2, []), (3, ["document-recent"])]
    assert registered.status_code == 200, registered.text
    assert (await officer.get(f"/persons/{fatouma['person_id']}")).json()["document_flagged"] is True
    history = (await officer.get(f"/persons/{fatouma['person_id']}/history")).json()
    (flag,) = [h for h in history if "IdentityDocumentFlagged" in h["type"]]
    assert (flag["data"]["document_issued"], flag["data"]["days_before_registration"]) == (days_ago(5), 5)


async def test_a_serial_declared_on_two_lists_is_flagged_at_import_naming_both_rows(
    officer: Api, tmp_path: Path
) -> None:
    await movement(officer, "MNLA")
    await movement(officer, "GATIA")
    mnla_serial = {"weapons": (WeaponHandedOver(kind="AK-47", serial="KA-77"),)}
    mnla = (
        await upload(
            officer, list_file(tmp_path, [member("M-1", "Ibrahim Ag Assaleh", **mnla_serial)]), "MNLA"
        )
    ).json()
    gatia = list_file(
        tmp_path,
        [
            member("G-1", "Moussa Ag Acharatoumane", weapons=()),
            member("G-2", "Hama Ag Mahmoud", **mnla_serial),
        ],
    )

    answer = (await upload(officer, gatia, "GATIA")).json()
    mnla_rows = (await officer.get(f"/lists/{mnla['list_id']}/versions/1/report")).json()
    gatia_rows = (await officer.get(f"/lists/{answer['list_id']}/versions/1/report")).json()

    # The upload's answer (stored as the idempotent answer) names rows, never a serial.
    assert answer["serial_repeats"] == [
        {
            "line": 3,
            "declared_also": [{"movement": "MNLA", "list_id": mnla["list_id"], "list_version": 1, "line": 2}],
        }
    ]
    assert gatia_rows[1]["flags"] == ["serial-repeated"]
    assert gatia_rows[1]["serial_declared_also"] == [
        {"serial": "KA-77", "movement": "MNLA", "list_id": mnla["list_id"], "list_version": 1, "line": 2}
    ]
    assert mnla_rows[0]["serial_declared_also"] == [
        {"serial": "KA-77", "movement": "GATIA", "list_id": answer["list_id"], "list_version": 1, "line": 3}
    ]


async def test_a_persons_weapons_are_reconciled_with_what_their_list_declared(
    officer: Api, tmp_path: Path
) -> None:
    await movement(officer, "MNLA")
    await upload(
        officer,
        list_file(tmp_path, [member("M-1", "Ibrahim Ag Assaleh"), member("M-2", "Baye Ag Diknane")]),
        "MNLA",
    )
    first, second = sorted(await persons_of(officer, movement="MNLA"), key=lambda p: p["movement_ref"])
    for person, serial, tag in ((first, "SN-M-1", "T-1"), (first, "KA-9", "T-2"), (first, None, "T-3")):
        handed = await officer.post(
            "/weapons",
            {"person_id": person["person_id"], "type": "AK-47", "calibre": "7.62x39", "serial": serial,
             "condition": "bon", "tag": tag, "custodian": "CTS Kidal"},
        )  # fmt: skip
        assert handed.status_code == 201, handed.text

    one = (await officer.get(f"/persons/{first['person_id']}/weapons/reconciliation")).json()
    other = (await officer.get(f"/persons/{second['person_id']}/weapons/reconciliation")).json()

    assert (one["declared_not_handed_over"], one["handed_over_not_declared"]) == ([], ["KA-9"])
    assert one["handed_over_without_serial"] == ["ML-DDR-000001"]
    assert (other["declared_not_handed_over"], other["handed_over_not_declared"]) == (["SN-M-2"], [])
