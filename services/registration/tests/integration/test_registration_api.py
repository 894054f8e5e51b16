"""The registration service over HTTP, on a fresh store (PostgreSQL and SQLite) and a real Kafka broker."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from kafka import KafkaConsumer
from sqlalchemy import select

from ddr_contracts.envelope import ENCRYPTED_PREFIX
from ddr_registration.adapters.list_files import COLUMNS
from ddr_registration.adapters.tables import duplicates as duplicates_table
from ddr_registration.domain.ddr_id import is_valid_ddr_id
from ddr_registration.domain.members import BirthDate, Category, Sex
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.schema import events as events_table
from ddr_runtime.http.idempotency import idempotency_keys
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.services import Api, Caller

from .support import liaison, list_file, member, movement, persons_of, upload

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def test_importing_the_same_file_twice_creates_no_new_person(officer: Api, tmp_path: Path) -> None:
    await movement(officer, "MNLA")
    path = list_file(
        tmp_path, [member("M-1", "Ibrahim Ag Assaleh"), member("M-2", "Sidi Mohamed Ould Bouamama")]
    )

    first = await upload(officer, path, "MNLA")
    second = await upload(officer, path, "MNLA")

    assert first.status_code == 201, first.text
    assert first.json()["rows_pre_registered"] == 2
    assert second.status_code == 200, second.text
    assert second.json()["status"] == "already-imported"
    assert len(await persons_of(officer, movement="MNLA")) == 2
    listed = (await officer.get(f"/lists/{first.json()['list_id']}")).json()
    assert [v["list_version"] for v in listed["versions"]] == [1]


async def test_an_xlsx_list_is_imported_like_a_csv(officer: Api, tmp_path: Path) -> None:
    await movement(officer, "GATIA")
    path = list_file(tmp_path, [member("G-1", "Moussa Ag Acharatoumane")], ".xlsx")

    response = await upload(officer, path, "GATIA")

    assert response.status_code == 201, response.text
    assert response.json()["rows_pre_registered"] == 1


def write_csv_with_bad_sex_on_line_3(path: Path) -> None:
    base = {
        "birth_date": "1985",
        "category": "combatant",
        "region": "Gao",
        "cercle": "Gao",
        "commune": "Gao",
        "armed": "non",
    }
    good = {**base, "movement_ref": "M-1", "full_name": "Ahmed Ag Albachar", "sex": "M"}
    bad = {**base, "movement_ref": "M-2", "full_name": "Hamma Ould Mahmoud", "sex": "X", "birth_date": "1990"}
    lines = [",".join(COLUMNS), *(",".join(row.get(column, "") for column in COLUMNS) for row in (good, bad))]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


async def test_a_file_with_one_bad_row_is_reported_with_its_line_column_and_reason(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    await movement(officer, "CMFPR")
    path = tmp_path / "cmfpr.csv"
    write_csv_with_bad_sex_on_line_3(path)

    response = await upload(officer, path, "CMFPR")

    assert response.status_code == 201, response.text
    report = response.json()
    assert (report["rows_pre_registered"], report["rows_rejected"]) == (1, 1)
    assert [(p["line"], p["column"]) for p in report["problems"]] == [(3, "sex")]
    rows = (await officer.get(f"/lists/{report['list_id']}/versions/1/report")).json()
    assert [(r["line"], r["status"], r["column"]) for r in rows] == [
        (2, "pre-registered", None),
        (3, "rejected", "sex"),
    ]
    assert "F or M" in rows[1]["reason"]
    cts = caller(Role.CTS_OFFICER, subject="cts-officer-3")
    seen_by_cts = (await cts.get(f"/lists/{report['list_id']}/versions/1/report")).json()
    assert [(r["line"], r["column"], r["reason"]) for r in seen_by_cts][1] == (3, "sex", None)


async def test_a_member_listed_twice_under_one_reference_in_a_file_is_one_person(
    officer: Api, tmp_path: Path
) -> None:
    await movement(officer, "MNLA")
    path = list_file(tmp_path, [member("M-5", "Hama Ag Mahmoud"), member("M-5", "Hama Ag Mahmoud")])

    report = (await upload(officer, path, "MNLA")).json()

    assert (report["rows_pre_registered"], report["rows_already_listed"]) == (1, 1)
    assert len(await persons_of(officer, movement="MNLA")) == 1


async def test_a_file_with_a_bad_row_is_rejected_whole_when_asked_and_nothing_is_written(
    officer: Api, tmp_path: Path
) -> None:
    await movement(officer, "CPA")
    path = tmp_path / "cpa.csv"
    write_csv_with_bad_sex_on_line_3(path)

    response = await upload(officer, path, "CPA", reject_whole="true")

    assert response.status_code == 422, response.text
    assert response.json()["report"]["problems"][0]["line"] == 3
    assert await persons_of(officer, movement="CPA") == []
    assert (await officer.get("/lists")).json() == []


async def test_a_person_listed_by_two_movements_is_flagged_and_a_merge_keeps_both_histories(
    officer: Api, tmp_path: Path
) -> None:
    await movement(officer, "HCUA")
    await movement(officer, "MAA")
    same = {"birth": BirthDate.year_only(1979), "commune": "Tessalit", "cercle": "Tessalit"}
    await upload(officer, list_file(tmp_path, [member("H-7", "Alghabass Ag Intalla", **same)]), "HCUA")
    response = await upload(
        officer, list_file(tmp_path, [member("A-3", "Alghabass Ag Intalla", **same)]), "MAA"
    )
    assert response.json()["duplicates_suspected"] == 1

    (case,) = (await officer.get("/duplicates")).json()
    assert {case["movement"], case["other_movement"]} == {"HCUA", "MAA"}
    survivor, absorbed = case["other_person_id"], case["person_id"]
    resolved = await officer.post(
        f"/duplicates/{case['case_id']}/resolution",
        {"outcome": "merged", "surviving_person_id": survivor},
        **{"If-Match": f'"{case["version"]}"'},
    )

    assert resolved.status_code == 200, resolved.text
    assert resolved.json()["status"] == "merged"
    history = (await officer.get(f"/persons/{survivor}/history")).json()
    assert {entry["person_id"] for entry in history} == {survivor, absorbed}
    assert "ddr.registration.PersonAbsorbed.v1" in {entry["type"] for entry in history}
    assert (await officer.get(f"/persons/{absorbed}")).json()["merged_into"] == survivor
    standing = await persons_of(officer, name="Alghabass")
    assert [p["person_id"] for p in standing if p["status"] != "merged"] == [survivor]


async def test_a_person_listed_twice_under_variant_spellings_is_flagged(officer: Api, tmp_path: Path) -> None:
    await movement(officer, "MNLA")
    path = list_file(
        tmp_path,
        [
            member("M-10", "Mohamed Ag Intalla"),
            member("M-11", "Muhammad Ag Intallah"),
            member(
                "M-12",
                "Aminata Walet Sidi",
                sex=Sex.F,
                category=Category.ASSOCIATED_WOMAN,
                armed=False,
                weapons=(),
            ),
        ],
    )

    report = (await upload(officer, path, "MNLA")).json()

    assert report["duplicates_suspected"] == 1
    (case,) = (await officer.get("/duplicates")).json()
    names = {
        (await officer.get(f"/persons/{case[k]}")).json()["full_name"]
        for k in ("person_id", "other_person_id")
    }
    assert names == {"Mohamed Ag Intalla", "Muhammad Ag Intallah"}


async def test_a_suspected_duplicate_between_children_is_seen_by_child_protection_alone(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    await movement(officer, "MNLA")
    child = {"category": Category.CHILD, "birth": BirthDate.year_only(2009), "armed": False, "weapons": ()}
    path = list_file(
        tmp_path, [member("M-20", "Moussa Ag Ahmed", **child), member("M-21", "Mousa Ag Ahmed", **child)]
    )
    assert (await upload(officer, path, "MNLA")).json()["duplicates_suspected"] == 1
    (case,) = (await caller(Role.CHILD_PROTECTION).get("/duplicates")).json()

    for reader in (officer, liaison(caller, "MNLA"), caller(Role.AUDITOR)):
        assert (await reader.get("/duplicates")).json() == []
        assert (await reader.get(f"/duplicates/{case['case_id']}")).status_code == 404


async def test_a_liaison_gets_404_for_another_movements_person_through_every_route(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    await movement(officer, "MNLA")
    await movement(officer, "GATIA")
    mnla = (await upload(officer, list_file(tmp_path, [member("M-1", "Bilal Ag Acherif")]), "MNLA")).json()
    gatia = (await upload(officer, list_file(tmp_path, [member("G-1", "Bilal Ag Acherif")]), "GATIA")).json()
    (gatia_person,) = await persons_of(officer, movement="GATIA")
    (mnla_person,) = await persons_of(officer, movement="MNLA")
    weapon = await officer.post(
        "/weapons",
        {"person_id": gatia_person["person_id"], "type": "AK-47", "calibre": "7.62x39", "serial": "GAT-1",
         "condition": "bon", "tag": "T-1", "custodian": "CTS Gao"},
    )  # fmt: skip
    assert weapon.status_code == 201, weapon.text
    mnla_liaison = liaison(caller, "MNLA")
    gatia_id = gatia_person["person_id"]

    assert (await mnla_liaison.get(f"/persons/{gatia_id}")).status_code == 404
    assert (await mnla_liaison.get(f"/persons/{gatia_id}/history")).status_code == 404
    assert [p["person_id"] for p in await persons_of(mnla_liaison)] == [mnla_person["person_id"]]
    assert await persons_of(mnla_liaison, movement="GATIA") == []
    by_name = await persons_of(mnla_liaison, name="Bilal")
    assert [p["person_id"] for p in by_name] == [mnla_person["person_id"]]
    assert (await mnla_liaison.get(f"/lists/{gatia['list_id']}")).status_code == 404
    assert (await mnla_liaison.get(f"/lists/{gatia['list_id']}/versions/1/report")).status_code == 404
    assert [entry["movement"] for entry in (await mnla_liaison.get("/lists")).json()] == ["MNLA"]
    assert (await mnla_liaison.get("/duplicates")).json() == []  # the cross-movement case is not theirs
    (case,) = (await officer.get("/duplicates")).json()
    assert (await mnla_liaison.get(f"/duplicates/{case['case_id']}")).status_code == 404
    assert (await mnla_liaison.get("/weapons")).json() == []
    assert (await mnla_liaison.get(f"/weapons/{weapon.json()['weapon_id']}")).status_code == 404
    assert (await mnla_liaison.get("/weapons", serial="GAT-1")).json() == []
    refused = await upload(mnla_liaison, list_file(tmp_path, [member("G-2", "Ali Ag Ali")]), "GATIA")
    assert refused.status_code == 403
    assert mnla["list_id"] != gatia["list_id"]


async def test_a_correction_of_the_parents_and_birth_place_is_kept_with_its_reason(
    officer: Api, tmp_path: Path
) -> None:
    await movement(officer, "CMI")
    await upload(officer, list_file(tmp_path, [member("C-5", "Oumar Ould Sidi", father_name="Sidi")]), "CMI")
    (person,) = await persons_of(officer, movement="CMI")
    corrected = await officer.post(
        f"/persons/{person['person_id']}/corrections",
        {"reason": "civil register extract", "father_name": "Sidi Ould Baba", "birth_place": "Ber"},
        **{"If-Match": f'"{person["version"]}"'},
    )
    assert corrected.status_code == 200, corrected.text
    record = (await officer.get(f"/persons/{person['person_id']}")).json()
    assert (record["father_name"], record["birth_place"]) == ("Sidi Ould Baba", "Ber")
    (step,) = [
        h
        for h in (await officer.get(f"/persons/{person['person_id']}/history")).json()
        if "Corrected" in h["type"]
    ]
    assert set(step["data"]["corrected_fields"]) == {"father_name", "birth_place"}
    assert step["data"]["reason"] == "civil register extract"


async def test_concurrent_corrections_of_one_person_one_wins_the_other_gets_409(
    officer: Api, tmp_path: Path
) -> None:
    await movement(officer, "CMI")
    await upload(officer, list_file(tmp_path, [member("C-1", "Oumar Ould Sidi")]), "CMI")
    (person,) = await persons_of(officer, movement="CMI")
    path = f"/persons/{person['person_id']}/corrections"
    version = f'"{person["version"]}"'

    answers = await asyncio.gather(
        officer.post(path, {"reason": "ID card", "full_name": "Oumar Ould Sidy"}, **{"If-Match": version}),
        officer.post(path, {"reason": "list typo", "region": "Gao"}, **{"If-Match": version}),
    )

    assert sorted(a.status_code for a in answers) == [200, 409]
    assert (await officer.get(f"/persons/{person['person_id']}")).json()["version"] == person["version"] + 1


async def test_an_update_without_if_match_gets_428_and_a_malformed_one_412(
    officer: Api, tmp_path: Path
) -> None:
    await movement(officer, "CMI")
    await upload(officer, list_file(tmp_path, [member("C-1", "Oumar Ould Sidi")]), "CMI")
    (person,) = await persons_of(officer, movement="CMI")
    path = f"/persons/{person['person_id']}/corrections"

    missing = await officer.post(path, {"reason": "r", "region": "Gao"})
    malformed = await officer.post(path, {"reason": "r", "region": "Gao"}, **{"If-Match": "*"})

    assert missing.status_code == 428
    assert malformed.status_code == 412


async def test_an_idempotency_key_replays_the_answer_and_refuses_another_body(officer: Api) -> None:
    body = {"code": "MSA", "display_name": "Mouvement pour le salut de l'Azawad"}

    first = await officer.post("/movements", body, **{"Idempotency-Key": "k-1"})
    again = await officer.post("/movements", body, **{"Idempotency-Key": "k-1"})
    other = await officer.post("/movements", {**body, "code": "MSA-D"}, **{"Idempotency-Key": "k-1"})

    assert (first.status_code, again.status_code, other.status_code) == (201, 201, 422)
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert [m["code"] for m in (await officer.get("/movements")).json()] == ["MSA"]


async def register(api: Api, person: dict[str, Any], reference: str) -> httpx.Response:
    current = (await api.get(f"/persons/{person['person_id']}")).json()
    return await api.post(
        f"/persons/{person['person_id']}/registration",
        {"biometric_reference": reference, "site": "Kidal"},
        **{"If-Match": f'"{current["version"]}"'},
    )


async def test_registration_issues_a_ddr_id_and_a_biometric_registered_to_another_person_issues_none(
    officer: Api, tmp_path: Path
) -> None:
    await movement(officer, "MNLA")
    people = [member("M-1", "Assalat Ag Habi"), member("M-2", "Mahamadou Djeri Maïga", region="Gao")]
    await upload(officer, list_file(tmp_path, people), "MNLA")
    first, second = await persons_of(officer, movement="MNLA")

    registered = await register(officer, first, "device-7/template-0042")
    again = await register(officer, second, "device-7/template-0042")

    assert registered.status_code == 200, registered.text
    assert is_valid_ddr_id((await officer.get(f"/persons/{first['person_id']}")).json()["ddr_id"])
    assert again.status_code == 409, again.text
    assert (await officer.get(f"/persons/{second['person_id']}")).json()["ddr_id"] is None
    (case,) = (await officer.get("/duplicates", certain="true")).json()
    assert (case["person_id"], case["other_person_id"]) == (second["person_id"], first["person_id"])
    assert case["reasons"] == [{"kind": "biometric_same", "score": None}]
    assert "biometric_hash" not in (await officer.get(f"/persons/{first['person_id']}")).json()


async def test_a_weapon_serial_handed_over_twice_is_flagged(officer: Api, tmp_path: Path) -> None:
    await movement(officer, "MNLA")
    await upload(
        officer,
        list_file(tmp_path, [member("M-1", "Ahmoudou Ag Asriw"), member("M-2", "Baye Ag Diknane")]),
        "MNLA",
    )
    first, second = await persons_of(officer, movement="MNLA")

    def hand_over(person: dict[str, Any], serial: str) -> dict[str, Any]:
        return {"person_id": person["person_id"], "type": "PKM", "calibre": "7.62x54R", "serial": serial,
                "condition": "usable", "tag": f"T-{serial}", "custodian": "CTS Kidal"}  # fmt: skip

    once = await officer.post("/weapons", hand_over(first, "PK-778 12"))
    twice = await officer.post("/weapons", hand_over(second, "pk77812"))

    assert (once.status_code, twice.status_code) == (201, 201)
    assert (once.json()["flagged"], twice.json()["flagged"]) == (False, True)
    assert once.json()["receipt_number"] != twice.json()["receipt_number"]
    flagged = (await officer.get("/weapons", flagged="true")).json()
    assert [w["weapon_id"] for w in flagged] == [twice.json()["weapon_id"]]


async def test_every_state_change_reaches_the_topic_in_order_per_person_with_personal_fields_encrypted(
    app: FastAPI, officer: Api, tmp_path: Path, settings: Settings
) -> None:
    await movement(officer, "MNLA")
    await upload(officer, list_file(tmp_path, [member("M-1", "Zeinaba Walet Ahmed", sex=Sex.F, birth=BirthDate.exact(date(1992, 4, 5)))]), "MNLA")  # fmt: skip
    (person,) = await persons_of(officer, movement="MNLA")
    person_id = person["person_id"]
    corrected = await officer.post(
        f"/persons/{person_id}/corrections",
        {"reason": "spelling on her card", "full_name": "Zeynaba Walet Ahmed"},
        **{"If-Match": f'"{person["version"]}"'},
    )
    registered = await officer.post(
        f"/persons/{person_id}/registration",
        {"biometric_reference": "device-3/template-991", "site": "Kidal"},
        **{"If-Match": f'"{corrected.json()["version"]}"'},
    )
    assert registered.status_code == 200, registered.text
    runtime: ServiceRuntime = app.state.runtime
    await runtime.relay.drain()

    consumer = KafkaConsumer(
        settings.events_topic("registration"),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=5000,
    )
    records = [r for r in consumer if r.key == person_id.encode()]
    consumer.close()

    # At-least-once: a record may come twice (the relay's loop and drain() both publish); ids tell them apart.
    envelopes = list({e["id"]: e for e in (json.loads(r.value) for r in records)}.values())
    assert [e["type"].split(".")[2] for e in envelopes] == [
        "PersonPreRegistered",
        "PersonDetailsCorrected",
        "PersonRegistered",
    ]
    assert [e["streamversion"] for e in envelopes] == [1, 2, 3]
    assert len({r.partition for r in records}) == 1
    raw = b"".join(r.value for r in records)
    for secret in (b"Zeinaba", b"Zeynaba", b"1992-04-05", b"Anefis", b"spelling on her card"):
        assert secret not in raw
    assert envelopes[0]["data"]["full_name"].startswith(ENCRYPTED_PREFIX)
    assert envelopes[2]["data"]["biometric_hash"].startswith(ENCRYPTED_PREFIX)
    assert (envelopes[0]["data"]["sex"], envelopes[0]["data"]["region"]) == ("F", "Kidal")
    submitted = [r for r in _all_records(settings) if b"ListVersionSubmitted" in r]
    assert submitted, "the list version reaches the topic too"


def _all_records(settings: Settings) -> list[bytes]:
    consumer = KafkaConsumer(
        settings.events_topic("registration"),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=3000,
    )
    values = [r.value for r in consumer]
    consumer.close()
    return values


async def test_a_list_version_is_certified_by_its_movement_then_endorsed_by_the_cts_and_the_cnddr(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    await movement(officer, "MNLA")
    report = (
        await upload(officer, list_file(tmp_path, [member("M-1", "Intalla Ag Attaher")]), "MNLA")
    ).json()
    path = f"/lists/{report['list_id']}"
    cts = caller(Role.CTS_OFFICER, subject="cts-officer-2")
    mnla_liaison = liaison(caller, "MNLA")

    early = await cts.post(f"{path}/versions/1/endorsements", {"body": "CTS"}, **{"If-Match": '"1"'})
    certified = await mnla_liaison.post(f"{path}/versions/1/certification", **{"If-Match": '"1"'})
    wrong_body = await cts.post(f"{path}/versions/1/endorsements", {"body": "CNDDR"}, **{"If-Match": '"2"'})
    by_cts = await cts.post(f"{path}/versions/1/endorsements", {"body": "CTS"}, **{"If-Match": '"2"'})
    by_cnddr = await officer.post(f"{path}/versions/1/endorsements", {"body": "CNDDR"}, **{"If-Match": '"3"'})

    assert (early.status_code, early.json()["rule"]) == (422, "certify-before-endorsing")
    assert (certified.status_code, wrong_body.status_code) == (200, 403)
    assert (by_cts.status_code, by_cnddr.status_code) == (200, 200)
    (version,) = by_cnddr.json()["versions"]
    assert (version["certified"], version["endorsed_cts"], version["endorsed_cnddr"]) == (True, True, True)
    history = (await officer.get(f"{path}/history")).json()
    assert [(h["type"].split(".")[2], h["actor"]) for h in history] == [
        ("ListVersionSubmitted", "cnddr-officer-1"),
        ("ListVersionCertified", "liaison-MNLA"),
        ("ListVersionEndorsed", "cts-officer-2"),
        ("ListVersionEndorsed", "cnddr-officer-1"),
    ]


async def test_a_new_list_version_supersedes_the_old_which_stays_readable(
    officer: Api, tmp_path: Path
) -> None:
    await movement(officer, "HCUA")
    first = (await upload(officer, list_file(tmp_path, [member("H-1", "Cheick Ag Aoussa")]), "HCUA")).json()
    second = await upload(
        officer,
        list_file(tmp_path, [member("H-1", "Cheick Ag Aoussa"), member("H-2", "Mohamed Ag Najim")]),
        "HCUA",
    )

    assert second.json()["list_version"] == 2
    assert (second.json()["rows_already_listed"], second.json()["rows_pre_registered"]) == (1, 1)
    versions = (await officer.get(f"/lists/{first['list_id']}")).json()["versions"]
    assert [(v["list_version"], v["superseded"]) for v in versions] == [(1, True), (2, False)]
    old = (await officer.get(f"/lists/{first['list_id']}/versions/1/report")).json()
    assert [r["status"] for r in old] == ["pre-registered"]
    assert len(await persons_of(officer, movement="HCUA")) == 2


async def test_a_movement_joins_and_leaves_a_coalition_over_time(officer: Api, caller: Caller) -> None:
    await movement(officer, "CMA", kind="coalition")
    await movement(officer, "MAA-CMA")
    historian = caller(Role.CNDDR_OFFICER, Role.RECORDS_OFFICER, subject="records-1")
    reason = {"back_recording_reason": "coalition memberships of the 2015 agreement"}

    joined = await historian.post(
        "/movements/MAA-CMA/coalitions", {"coalition": "CMA", "since": "2014-06-01"}, if_match='"1"', **reason
    )
    left = await historian.post(
        "/movements/MAA-CMA/coalitions/CMA/end", {"until": "2023-02-01"}, if_match='"2"', **reason
    )
    into_a_movement = await historian.post(
        "/movements/CMA/coalitions", {"coalition": "MAA-CMA", "since": "2014-06-01"}, if_match='"1"', **reason
    )

    assert (joined.status_code, left.status_code, into_a_movement.status_code) == (200, 200, 422)
    assert left.json()["memberships"] == [
        {"movement": "MAA-CMA", "coalition": "CMA", "since": "2014-06-01", "until": "2023-02-01"}
    ]


async def test_erasing_a_person_shreds_their_personal_data_everywhere_and_keeps_the_figures(
    app: FastAPI, officer: Api, caller: Caller, tmp_path: Path
) -> None:
    await movement(officer, "MNLA")
    people = [member("M-1", "Fatouma Walet Intalla", sex=Sex.F), member("M-2", "Ibrahim Ag Mohamed")]
    await upload(officer, list_file(tmp_path, people), "MNLA")
    fatouma = next(p for p in await persons_of(officer, movement="MNLA") if p["movement_ref"] == "M-1")
    person_id = fatouma["person_id"]
    registered = await officer.post(
        f"/persons/{person_id}/registration",
        {"biometric_reference": "device-1/template-7", "site": "Kidal"},
        **{"If-Match": f'"{fatouma["version"]}"'},
    )
    assert registered.status_code == 200, registered.text
    version = int(registered.headers["ETag"].strip('"'))

    # A liaison cannot order it, and a bad request changes nothing.
    liaison_api = liaison(caller, "MNLA")
    refused = await liaison_api.post(
        f"/persons/{person_id}/erasure",
        {"reason_code": "data_subject_request", "authority": "CNDDR-2024-12"},
        **{"If-Match": f'"{version}"'},
    )
    assert refused.status_code == 403
    bad = await officer.post(
        f"/persons/{person_id}/erasure",
        {"reason_code": "because", "authority": "CNDDR-2024-12"},
        **{"If-Match": f'"{version}"'},
    )
    assert bad.status_code == 422
    assert (await officer.get(f"/persons/{person_id}")).json()["full_name"] == "Fatouma Walet Intalla"

    erased = await officer.post(
        f"/persons/{person_id}/erasure",
        {"reason_code": "data_subject_request", "authority": "CNDDR-2024-12"},
        **{"If-Match": f'"{version}"'},
    )
    assert erased.status_code == 200, erased.text
    record = erased.json()
    assert record["full_name"] is None
    assert record["movement_ref"] == f"erased:{person_id}"
    assert (record["movement"], record["sex"], record["status"]) == ("MNLA", "F", "registered")

    # Her history is still there, step by step, with every personal field unreadable.
    history = (await officer.get(f"/persons/{person_id}/history")).json()
    assert "PersonalDataErased" in history[-1]["type"]
    assert all("Fatouma" not in json.dumps(step) for step in history)
    # Nobody finds her by name any more; the other member is untouched.
    assert await persons_of(officer, movement="MNLA", name="Fatouma") == []
    assert [p["full_name"] for p in await persons_of(officer, movement="MNLA", name="Ibrahim")] == [
        "Ibrahim Ag Mohamed"
    ]
    # The record is closed: no second erasure, no correction.
    again = await officer.post(
        f"/persons/{person_id}/erasure",
        {"reason_code": "data_subject_request", "authority": "CNDDR-2024-12"},
        **{"If-Match": f'"{erased.headers["ETag"].strip(chr(34))}"'},
    )
    assert (again.status_code, again.json()["rule"]) == (409, "erased-once")
    # What was published before the erasure can no longer be opened by anyone.
    runtime: ServiceRuntime = app.state.runtime
    await runtime.relay.drain()
    published = [json.loads(r) for r in _all_records(app.state.runtime.settings) if person_id.encode() in r]
    pre = next(e for e in published if "PersonPreRegistered" in e["type"] and e["subject"] == person_id)
    assert pre["data"]["full_name"].startswith(ENCRYPTED_PREFIX)
    (opened,) = await runtime.store.cipher.decrypt_many([(person_id, pre["data"])])
    assert opened["full_name"] is None


# --- one person, one DDR ID ---------------------------------------------------------------------------------


async def listed_twice(officer: Api, tmp_path: Path) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """One man on two movements' lists under two spellings: the two records and the case raised at import."""
    await movement(officer, "HCUA")
    await movement(officer, "MAA")
    same = {"birth": BirthDate.year_only(1979), "commune": "Tessalit", "cercle": "Tessalit"}
    await upload(officer, list_file(tmp_path, [member("H-7", "Alghabass Ag Intalla", **same)]), "HCUA")
    await upload(officer, list_file(tmp_path, [member("A-3", "Alghabas Ould Intallah", **same)]), "MAA")
    (hcua,) = await persons_of(officer, movement="HCUA")
    (maa,) = await persons_of(officer, movement="MAA")
    (case,) = (await officer.get("/duplicates")).json()
    return hcua, maa, case


async def test_a_second_row_presenting_a_registered_biometric_gets_409_naming_the_registration_and_no_ddr_id(
    officer: Api, tmp_path: Path
) -> None:
    hcua, maa, named = await listed_twice(officer, tmp_path)
    assert named["certain"] is False
    first = await register(officer, hcua, "device-2/template-5501")

    second = await register(officer, maa, "device-2/template-5501")

    assert second.status_code == 409, second.text
    problem = second.json()
    assert problem["rule"] == "one-person-one-ddr-id"
    first_ddr_id = (await officer.get(f"/persons/{hcua['person_id']}")).json()["ddr_id"]
    assert (first.status_code, problem["existing_person_id"], problem["existing_ddr_id"]) == (
        200,
        hcua["person_id"],
        first_ddr_id,
    )
    assert problem["duplicate_case_id"] == named["case_id"]
    assert (await officer.get(f"/persons/{maa['person_id']}")).json()["ddr_id"] is None
    assert [p["ddr_id"] for p in await persons_of(officer, status="registered")] == [first_ddr_id]
    (case,) = (await officer.get("/duplicates", certain="true")).json()
    assert (case["case_id"], case["status"], case["score"]) == (named["case_id"], "open", 1.0)
    assert case["reasons"][-1] == {"kind": "biometric_same", "score": None}
    assert len((await officer.get("/duplicates")).json()) == 1


async def test_presenting_the_same_biometric_again_adds_nothing_and_answers_409_again(
    officer: Api, tmp_path: Path
) -> None:
    hcua, maa, named = await listed_twice(officer, tmp_path)
    await register(officer, hcua, "device-2/template-5501")
    await register(officer, maa, "device-2/template-5501")
    version = (await officer.get(f"/duplicates/{named['case_id']}")).json()["version"]

    again = await register(officer, maa, "device-2/template-5501")

    assert again.status_code == 409, again.text
    assert (await officer.get(f"/duplicates/{named['case_id']}")).json()["version"] == version


async def test_the_409_names_nobody_to_an_officer_who_may_not_see_the_existing_registration(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    await movement(officer, "MNLA")
    people = [member("M-1", "Assalat Ag Habi"), member("M-2", "Ahmed Ag Habi", region="Gao", cercle="Gao")]
    await upload(officer, list_file(tmp_path, people), "MNLA")
    kidal = next(p for p in await persons_of(officer, movement="MNLA") if p["region"] == "Kidal")
    gao = next(p for p in await persons_of(officer, movement="MNLA") if p["region"] == "Gao")
    first = await register(officer, kidal, "device-9/template-0001")
    gao_officer = caller(Role.CNDDR_OFFICER, subject="cnddr-gao", regions=["Gao"])

    refused = await register(gao_officer, gao, "device-9/template-0001")

    assert refused.status_code == 409, refused.text
    body = refused.text
    assert refused.json()["rule"] == "one-person-one-ddr-id"
    kidal_ddr_id = (await officer.get(f"/persons/{kidal['person_id']}")).json()["ddr_id"]
    assert first.status_code == 200
    assert kidal_ddr_id is not None
    for identifier in (kidal["person_id"], kidal_ddr_id, "existing_person_id", "duplicate_case_id"):
        assert identifier not in body
    assert (await officer.get(f"/persons/{gao['person_id']}")).json()["ddr_id"] is None


async def test_duplicates_can_be_listed_certain_or_suspected_only(officer: Api, tmp_path: Path) -> None:
    hcua, maa, named = await listed_twice(officer, tmp_path)
    await movement(officer, "GATIA")
    await upload(
        officer,
        list_file(tmp_path, [member("G-1", "Bilal Ag Acherif"), member("G-2", "Hamma Ag Ghaly")]),
        "GATIA",
    )
    one, other = await persons_of(officer, movement="GATIA")
    await register(officer, one, "device-4/template-1")
    await register(officer, other, "device-4/template-1")

    certain = (await officer.get("/duplicates", certain="true")).json()
    suspected = (await officer.get("/duplicates", certain="false")).json()

    assert [(c["person_id"], c["certain"]) for c in certain] == [(other["person_id"], True)]
    assert [(c["case_id"], c["certain"]) for c in suspected] == [(named["case_id"], False)]
    assert {hcua["person_id"], maa["person_id"]} == {named["person_id"], named["other_person_id"]}


async def test_a_merge_of_a_certain_duplicate_keeps_the_record_holding_the_ddr_id(
    officer: Api, tmp_path: Path
) -> None:
    hcua, maa, named = await listed_twice(officer, tmp_path)
    assert (await register(officer, hcua, "device-2/template-5501")).status_code == 200
    ddr_id = (await officer.get(f"/persons/{hcua['person_id']}")).json()["ddr_id"]
    await register(officer, maa, "device-2/template-5501")
    case = (await officer.get(f"/duplicates/{named['case_id']}")).json()

    def merge(survivor: dict[str, Any]) -> Any:
        return officer.post(
            f"/duplicates/{case['case_id']}/resolution",
            {"outcome": "merged", "surviving_person_id": survivor["person_id"]},
            **{"If-Match": f'"{case["version"]}"'},
        )

    wrong = await merge(maa)
    right = await merge(hcua)

    assert (wrong.status_code, wrong.json()["rule"]) == (422, "registered-record-survives")
    assert right.status_code == 200, right.text
    survivor = (await officer.get(f"/persons/{hcua['person_id']}")).json()
    assert (survivor["ddr_id"], survivor["status"]) == (ddr_id, "registered")
    assert (await officer.get(f"/persons/{maa['person_id']}")).json()["merged_into"] == hcua["person_id"]


# --- no name in a stored reason -----------------------------------------------------------------------------


CANARY = ("Tiwanatine Ag Ighlasnou", "Tiwanatin Ag Ighlasnou")
CANARY_WORDS = ("tiwanatin", "ighlasnou")


async def canary_case(officer: Api, tmp_path: Path) -> dict[str, Any]:
    """The case raised for one man listed by two movements under canary names."""
    await movement(officer, "HCUA")
    await movement(officer, "MAA")
    same = {"birth": BirthDate.year_only(1983), "commune": "Aguelhok", "cercle": "Tessalit"}
    await upload(officer, list_file(tmp_path, [member("H-1", CANARY[0], **same)]), "HCUA")
    await upload(officer, list_file(tmp_path, [member("A-1", CANARY[1], **same)]), "MAA")
    (case,) = (await officer.get("/duplicates")).json()
    return dict(case)


async def test_no_name_is_stored_in_a_duplicate_case_its_event_its_read_model_row_or_its_kafka_message(
    app: FastAPI, officer: Api, tmp_path: Path
) -> None:
    case = await canary_case(officer, tmp_path)
    resolved = await officer.post(
        f"/duplicates/{case['case_id']}/resolution",
        {"outcome": "distinct"},
        **{"If-Match": f'"{case["version"]}"', "Idempotency-Key": "resolve-canary"},
    )
    assert resolved.status_code == 200, resolved.text
    runtime: ServiceRuntime = app.state.runtime
    await runtime.relay.drain()

    async with runtime.store.engine.connect() as conn:
        stored = (
            await conn.execute(
                select(events_table.c.payload).where(events_table.c.stream_id.like("duplicate-%"))
            )
        ).all()
        rows = (await conn.execute(select(duplicates_table))).all()
        answers = (await conn.execute(select(idempotency_keys))).all()
    published = [r for r in _all_records(runtime.settings) if case["case_id"].encode() in r]

    assert len(stored) == 2
    assert len(rows) == 1
    assert {json.loads(r)["type"] for r in published} >= {"ddr.registration.DuplicateSuspected.v2"}
    seen = [
        *(bytes(row.payload).decode() for row in stored),
        *(json.dumps([*row._mapping.values()], default=str) for row in rows),
        *(json.dumps([*row._mapping.values()], default=str) for row in answers),
        *(r.decode() for r in published),
    ]
    for text in seen:
        for word in CANARY_WORDS:
            assert word not in text.casefold()
    assert "name_similarity" in {reason["kind"] for reason in rows[0].reasons}


async def test_a_duplicate_case_is_explained_with_both_names_to_a_reader_who_may_see_both(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    case = await canary_case(officer, tmp_path)
    auditor = caller(Role.AUDITOR, subject="auditor-1")

    named = [line for line in case["explanation"] if line.startswith("names")]
    assert len(named) == 1
    assert CANARY[0] in named[0]
    assert CANARY[1] in named[0]
    assert (await auditor.get(f"/duplicates/{case['case_id']}")).json()["explanation"] == case["explanation"]
    assert (await liaison(caller, "HCUA").get(f"/duplicates/{case['case_id']}")).status_code == 404
