"""What the field really hands over, through the API: weapons without a serial are received under the
programme's mark and flagged for tracing; bulk hand-overs and registrations answer item by item."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ddr_registration.domain.members import BirthDate, Category
from ddr_runtime.auth.roles import Role
from ddr_testkit.services import Api, Caller

from .support import list_file, member, movement, persons_of, upload

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


async def listed(officer: Api, tmp_path: Path, *refs: str) -> list[dict[str, Any]]:
    await movement(officer, "MNLA")
    names = ("Ahmoudou Ag Asriw", "Baye Ag Diknane", "Cheick Ag Aoussa", "Sidi Ould Baba")
    members = [member(ref, name) for ref, name in zip(refs, names, strict=False)]
    assert (await upload(officer, list_file(tmp_path, members), "MNLA")).status_code == 201
    return sorted(await persons_of(officer, movement="MNLA"), key=lambda p: p["movement_ref"])


def weapon(person: dict[str, Any], tag: str, serial: str | None = None, **more: Any) -> dict[str, Any]:
    return {"person_id": person["person_id"], "type": "AK-47", "calibre": "7.62x39", "serial": serial,
            "condition": "worn", "tag": tag, "custodian": "CTS Gao", **more}  # fmt: skip


async def test_weapons_without_a_serial_are_received_under_the_programmes_marks_and_flagged_for_tracing(
    officer: Api, tmp_path: Path
) -> None:
    first, second = await listed(officer, tmp_path, "M-1", "M-2")

    filed_off = await officer.post("/weapons", weapon(first, "T-1", serial_status="filed_off"))
    unsaid = await officer.post("/weapons", weapon(second, "T-2"))
    with_serial = await officer.post("/weapons", weapon(second, "T-3", "KA 0012"))

    assert (filed_off.status_code, unsaid.status_code, with_serial.status_code) == (201, 201, 201)
    assert [(w.json()["serial_status"], w.json()["programme_mark"], w.json()["needs_tracing"]) for w in
            (filed_off, unsaid, with_serial)] == [
        ("filed_off", "ML-DDR-000001", True),
        ("absent", "ML-DDR-000002", True),
        ("present", None, False),
    ]  # fmt: skip
    traced = (await officer.get("/weapons", needs_tracing="true")).json()
    assert sorted(w["programme_mark"] for w in traced) == ["ML-DDR-000001", "ML-DDR-000002"]


async def test_a_serial_given_for_a_weapon_said_to_have_none_is_a_422_naming_the_rule(
    officer: Api, tmp_path: Path
) -> None:
    (person,) = await listed(officer, tmp_path, "M-1")

    refused = await officer.post("/weapons", weapon(person, "T-1", "KA-1", serial_status="illegible"))

    assert (refused.status_code, refused.json()["rule"]) == (422, "serial-status")


async def test_a_bulk_hand_over_records_the_valid_items_names_the_refused_and_can_be_sent_again(
    officer: Api, tmp_path: Path
) -> None:
    first, second = await listed(officer, tmp_path, "M-1", "M-2")
    batch = [
        weapon(first, "T-1", "KA-1"),
        weapon({"person_id": "no-such-person"}, "T-2", "KA-2"),
        weapon(second, "T-3", "KA-3", quantity=2),
        weapon(second, "T-4", serial_status="illegible"),
    ]

    answer = await officer.ok("/weapons/bulk", batch)
    again = await officer.ok("/weapons/bulk", batch)

    assert (answer["recorded"], answer["refused"]) == (2, 2)
    assert [(i["index"], i["key"], i["status"], i["rule"]) for i in answer["items"]] == [
        (0, first["person_id"], "recorded", None),
        (1, "no-such-person", "refused", "unknown-person"),
        (2, second["person_id"], "refused", "quantity"),
        (3, second["person_id"], "recorded", None),
    ]
    assert answer["items"][3]["result"]["programme_mark"] == "ML-DDR-000001"
    assert [i["rule"] for i in again["items"]] == [
        "weapon-already-recorded", "unknown-person", "quantity", "weapon-already-recorded",
    ]  # fmt: skip
    assert len((await officer.get("/weapons")).json()) == 2


async def test_an_atomic_bulk_hand_over_with_a_refused_item_records_nothing(
    officer: Api, tmp_path: Path
) -> None:
    first, second = await listed(officer, tmp_path, "M-1", "M-2")

    refused = await officer.client.post(
        "/weapons/bulk",
        params={"atomic": "true"},
        json=[weapon(first, "T-1", "KA-1"), weapon(second, "T-2", "KA-2", quantity=3)],
        headers=officer.headers,
    )

    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {
            "field": "body.items[1]",
            "message": "quantity: a weapon is one item; a lot of ammunition at least one round",
        }
    ]
    assert (await officer.get("/weapons")).json() == []


async def test_a_bulk_registration_registers_each_valid_person_and_registers_nobody_twice(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    first, second = await listed(officer, tmp_path, "M-1", "M-2")
    batch = [
        {"person_id": first["person_id"], "biometric_reference": "device-1/template-1", "site": "Gao"},
        {"person_id": second["person_id"], "biometric_reference": "device-1/template-2", "site": "Gao",
         "version": second["version"] + 5},
        {"person_id": "no-such-person", "biometric_reference": "device-1/template-3", "site": "Gao"},
    ]  # fmt: skip

    answer = await officer.ok("/registrations/bulk", batch)
    again = await officer.ok("/registrations/bulk", batch[:1])

    assert [(i["key"], i["status"]) for i in answer["items"]] == [
        (first["person_id"], "recorded"),
        (second["person_id"], "refused"),
        ("no-such-person", "refused"),
    ]
    assert answer["items"][0]["result"] == {"person_id": first["person_id"], "version": first["version"] + 1}
    assert (await officer.get(f"/persons/{first['person_id']}")).json()["ddr_id"].startswith("DDR-")
    assert [i["rule"] for i in answer["items"][1:]] == ["stale-version", "unknown-person"]
    assert again["items"][0]["rule"] == "registered-once"
    assert [p["status"] for p in sorted(await persons_of(officer), key=lambda p: p["movement_ref"])] == [
        "registered",
        "pre-registered",
    ]


async def test_a_bulk_item_about_someone_the_caller_may_not_see_is_refused_as_unknown(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    await movement(officer, "MNLA")
    child = member(
        "M-9",
        "Moussa Ag Ahmed",
        category=Category.CHILD,
        birth=BirthDate.year_only(2009),
        armed=False,
        weapons=(),
    )
    await upload(officer, list_file(tmp_path, [child, member("M-1", "Ahmoudou Ag Asriw")]), "MNLA")
    (adult,) = await persons_of(officer, movement="MNLA")
    (young,) = await persons_of(caller(Role.CHILD_PROTECTION))
    cts = caller(Role.CTS_OFFICER, subject="cts-1")

    answer = await cts.ok("/weapons/bulk", [weapon(adult, "T-1", "KA-1"), weapon(young, "T-2", "KA-2")])

    assert [(i["status"], i["rule"]) for i in answer["items"]] == [
        ("recorded", None),
        ("refused", "unknown-person"),
    ]
