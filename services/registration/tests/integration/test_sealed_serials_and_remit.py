"""Issue 14's last registration items: weapon serials and movement references sealed per person with blind
indexes for equality (3), a read model rebuilt from v1 history with nothing in clear (4), ``merged_into``
shown only to who may see the record (5), a child registered by the officer in front of them (7), and bulk
items checked against the caller's scope inside their own transaction (9)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, TypeVar

import pytest
from fastapi import FastAPI
from sqlalchemy import select, text

from ddr_contracts.events import PERSONAL, DomainEvent
from ddr_contracts.registration import MovementRegistered
from ddr_registration.adapters.tables import READ_MODEL
from ddr_registration.bootstrap import prepare
from ddr_registration.domain.members import BirthDate, Category
from ddr_registration.domain.persons import Correction
from ddr_registration.service_layer import handlers
from ddr_registration.service_layer.desk import RegistrationDesk
from ddr_runtime.auth.roles import Role
from ddr_runtime.eventstore.ports import Causation
from ddr_runtime.eventstore.schema import events
from ddr_runtime.eventstore.store import NewEvent
from ddr_runtime.kernel import Recording
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.services import Api, Caller

from .support import liaison, list_file, member, merged_pair, movement, persons_of, upload

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

T = TypeVar("T")
CHILD: dict[str, Any] = {"category": Category.CHILD, "birth": BirthDate.year_only(2012), "armed": False}


def weapon(person: dict[str, Any], tag: str, serial: str | None) -> dict[str, Any]:
    return {"person_id": person["person_id"], "type": "AK-47", "calibre": "7.62x39", "serial": serial,
            "condition": "worn", "tag": tag, "custodian": "CTS Gao"}  # fmt: skip


async def read_model_text(runtime: ServiceRuntime) -> str:
    """Every row of every read-model table, as text."""
    async with runtime.engine.connect() as conn:
        rows = [
            dict(row._mapping) for table in READ_MODEL for row in (await conn.execute(select(table))).all()
        ]
    return json.dumps(rows, default=str)


async def stored_data(runtime: ServiceRuntime, event_type: str) -> list[dict[str, Any]]:
    async with runtime.engine.connect() as conn:
        found = await conn.execute(select(events.c.payload).where(events.c.event_type == event_type))
        return [json.loads(payload)["data"] for payload in found.scalars()]


# -- item 3: serials sealed, compared by keyed hash, erased ----------------------------------------------


async def test_a_weapon_serial_is_sealed_in_its_events_and_read_model_found_by_its_keyed_hash_and_erased(
    officer: Api, app: FastAPI, tmp_path: Path
) -> None:
    """Issue 14, item 3: WeaponHandedOver and reg_weapons held serials in clear, and erasure did not reach
    them; matching a serial at hand-over must still work."""
    runtime: ServiceRuntime = app.state.runtime
    await movement(officer, "MNLA")
    await upload(
        officer,
        list_file(tmp_path, [member("M-1", "Baye Ag Diknane"), member("M-2", "Sidi Ould Baba")]),
        "MNLA",
    )
    first, second = sorted(await persons_of(officer), key=lambda p: p["movement_ref"])
    handed = await officer.post("/weapons", weapon(first, "T-1", "KA-SEAL-0099"))
    again = await officer.post("/weapons", weapon(second, "T-2", "ka seal 0099"))

    assert (handed.status_code, again.status_code, again.json()["flagged"]) == (201, 201, True)
    matched = (await officer.get("/weapons", serial="KASEAL0099")).json()
    assert sorted((w["person_id"], w["serial"]) for w in matched) == sorted(
        [(first["person_id"], "KA-SEAL-0099"), (second["person_id"], "ka seal 0099")]
    )
    for kind in ("WeaponHandedOver.v2", "WeaponSerialDuplicateFlagged.v2"):
        stored = json.dumps(await stored_data(runtime, f"ddr.registration.{kind}"))
        assert "0099" not in stored, kind
    assert "0099" not in await read_model_text(runtime)

    before = await officer.get(f"/persons/{first['person_id']}")
    erased = await officer.post(
        f"/persons/{first['person_id']}/erasure",
        {"reason_code": "protection_risk", "authority": "CNDDR-2026-41"},
        **{"If-Match": before.headers["ETag"]},
    )

    assert erased.status_code == 200, erased.text
    kept = (await officer.get("/weapons", serial="KA SEAL 0099")).json()
    assert [(w["person_id"], w["serial"]) for w in kept] == [(second["person_id"], "ka seal 0099")]
    gone = (await officer.get(f"/weapons/{handed.json()['weapon_id']}")).json()
    assert (gone["serial"], gone["tag"]) == (None, "T-1")  # the weapon stays in the register, its serial goes


async def test_an_erasure_records_its_decision_by_reference_and_who_ordered_it_never_free_text(
    officer: Api, app: FastAPI, tmp_path: Path
) -> None:
    """Issue 14, item 3: PersonalDataErased.authority was free text in clear (it may name people)."""
    await movement(officer, "MNLA")
    await upload(officer, list_file(tmp_path, [member("M-1", "Baye Ag Diknane")]), "MNLA")
    (person,) = await persons_of(officer)
    path, if_match = f"/persons/{person['person_id']}", {"If-Match": f'"{person["version"]}"'}

    refused = await officer.post(
        f"{path}/erasure",
        {"reason_code": "protection_risk", "authority": "asked by Aminata Traore"},
        **if_match,
    )
    erased = await officer.post(
        f"{path}/erasure", {"reason_code": "protection_risk", "authority": "TGI/BKO/2025/17"}, **if_match
    )

    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "body.authority")
    assert erased.status_code == 200, erased.text
    stored = await stored_data(app.state.runtime, "ddr.registration.PersonalDataErased.v2")
    assert stored == [
        {"person_id": person["person_id"], "reason_code": "protection_risk", "authority": "TGI/BKO/2025/17",
         "authorised_by": "cnddr-officer-1"}
    ]  # fmt: skip


# -- item 4: a v1 history rebuilds into a read model with nothing in clear ---------------------------------


class PersonPreRegisteredV1(DomainEvent):
    """PersonPreRegistered as v1 stored it: the reference and the declared weapons in clear."""

    name = "ddr.registration.PersonPreRegistered"
    version = 1

    person_id: str
    list_id: str
    list_version: int
    movement: str
    movement_ref: str
    category: str
    sex: str
    birth_kind: str
    region: str
    cercle: str
    rank: str
    armed: bool
    birth_year: int | None = None
    declared_weapons: tuple[dict[str, Any], ...] = ()
    full_name: Annotated[str | None, PERSONAL]


class WeaponHandedOverV1(DomainEvent):
    name = "ddr.registration.WeaponHandedOver"
    version = 1

    weapon_id: str
    person_id: str
    movement: str
    kind: str
    type: str
    calibre: str
    serial: str | None
    quantity: int
    condition: str
    tag: str
    receipt_number: str
    custodian: str
    serial_status: str | None = None


class PersonalDataErasedV1(DomainEvent):
    name = "ddr.registration.PersonalDataErased"
    version = 1

    person_id: str
    reason_code: str
    authority: str


async def test_a_store_holding_v1_events_rebuilds_into_a_read_model_with_no_reference_or_serial_in_clear(
    officer: Api, app: FastAPI, tmp_path: Path
) -> None:
    """Issue 14, item 4: v1 events keep movement references and serials in clear; a deployment upgrading
    rebuilds its read model (at start, finding its tables of the earlier shape), which must then hold neither
    in clear (the kept person's sealed, the erased person's gone), while references and serials still match
    and show to those who may see them."""
    runtime: ServiceRuntime = app.state.runtime
    cause = Causation(actor="migration-test")
    await runtime.store.append("movement-MNLA", 0, [NewEvent(MovementRegistered(code="MNLA", display_name="MNLA", kind="movement"), "MNLA")], cause)  # fmt: skip
    people = {"kept": ("11111111-1111-4111-8111-111111111111", "MNLA-V1-0007", "SN-V1-77"),
              "erased": ("22222222-2222-4222-8222-222222222222", "MNLA-V1-0008", "SN-V1-88")}  # fmt: skip
    for n, (person_id, ref, serial) in enumerate(people.values(), start=1):
        listed = PersonPreRegisteredV1(
            person_id=person_id, list_id="l-v1", list_version=1, movement="MNLA", movement_ref=ref,
            category="combatant", sex="M", birth_kind="year", region="Gao", cercle="Gao", rank="", armed=True,
            birth_year=1980, declared_weapons=({"type": "AK-47", "serial": serial},), full_name=("Ag Alpha", "Ag Beta")[n - 1],
        )  # fmt: skip
        await runtime.store.append(f"person-{person_id}", 0, [NewEvent(listed, person_id)], cause)
        handed = WeaponHandedOverV1(
            weapon_id=f"w-v1-{n}", person_id=person_id, movement="MNLA", kind="weapon", type="AK-47",
            calibre="7.62x39", serial=serial, quantity=1, condition="worn", tag=f"T-{n}",
            receipt_number=f"RCPT-V1-{n}", custodian="CTS Gao", serial_status="present",
        )  # fmt: skip
        await runtime.store.append(f"weapon-w-v1-{n}", 0, [NewEvent(handed, person_id)], cause)
    erased_id = people["erased"][0]
    erasure = PersonalDataErasedV1(
        person_id=erased_id, reason_code="protection_risk", authority="asked by Ag Beta"
    )
    await runtime.store.append(f"person-{erased_id}", 1, [NewEvent(erasure, erased_id)], cause)
    await runtime.keystore.erase(erased_id)

    async with runtime.engine.begin() as conn:  # the read model as the earlier release shaped it
        await conn.execute(text("ALTER TABLE reg_persons ADD COLUMN movement_ref VARCHAR(100)"))

    await prepare(app.state.registration, app.state.registration.unit)  # at start: rebuilt from the history

    kept_text = await read_model_text(runtime)
    for clear in ("MNLA-V1-0007", "MNLA-V1-0008", "SN-V1-77", "SNV177", "SN-V1-88", "SNV188", "Ag Beta"):
        assert clear not in kept_text, clear
    kept_id = people["kept"][0]
    assert (await officer.get(f"/persons/{kept_id}")).json()["movement_ref"] == "MNLA-V1-0007"
    assert [w["weapon_id"] for w in (await officer.get("/weapons", serial="sn v1 77")).json()] == ["w-v1-1"]
    assert (await officer.get("/weapons/w-v1-2")).json()["serial"] is None
    history = (await officer.get(f"/persons/{erased_id}/history")).json()
    assert [e["data"]["authority"] for e in history if "PersonalDataErased" in e["type"]] == [None]
    # The reference still finds the person it was listed under: a re-sent list does not list him twice.
    relisted = await upload(officer, list_file(tmp_path, [member("MNLA-V1-0007", "Ag Alpha")]), "MNLA")  # fmt: skip
    assert (relisted.status_code, relisted.json()["rows_already_listed"]) == (201, 1), relisted.text


# -- item 5: merged_into only for who may see the record it names ------------------------------------------


async def test_a_merged_record_names_the_record_it_was_merged_into_only_to_who_may_see_that_record(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Issue 14, item 5: GET /persons/{absorbed} showed merged_into, another movement's record id, to the
    absorbed record's own movement liaison."""
    survivor, absorbed = await merged_pair(officer, tmp_path)  # HCUA's record survives MAA's
    readers = {
        "maa liaison": liaison(caller, "MAA"),
        "cnddr": officer,
        "auditor": caller(Role.AUDITOR, subject="auditor-1"),
        "cnddr in another region": caller(Role.CNDDR_OFFICER, subject="gao-1", regions=["Gao"]),
    }

    seen = {who: await api.get(f"/persons/{absorbed}") for who, api in readers.items()}
    found = {who: await api.post("/persons/search", {"name": "Alghabass"}) for who, api in readers.items()}

    assert {who: (r.status_code, r.json().get("merged_into")) for who, r in seen.items()} == {
        "maa liaison": (200, None), "cnddr": (200, survivor), "auditor": (200, survivor),
        "cnddr in another region": (404, None),
    }  # fmt: skip
    assert survivor not in json.dumps(found["maa liaison"].json())
    assert {p["person_id"]: p["merged_into"] for p in found["cnddr"].json()}[absorbed] == survivor


# -- item 7: a child registered by the registration officer in front of them -------------------------------


async def test_a_registration_officer_registers_a_child_without_child_protection_and_cannot_read_them_after(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Issue 14, item 7: registering a child took a token holding both a registration role and child
    protection, so the officer at the site could not start the child's 48-hour hand-over; they must still
    never read the child."""
    await movement(officer, "MNLA")
    await upload(officer, list_file(tmp_path, [member("M-1", "Ag Moussa", weapons=(), **CHILD)]), "MNLA")
    protector = caller(Role.CHILD_PROTECTION, subject="cp-1")
    (child,) = await persons_of(protector)
    elsewhere = caller(Role.CNDDR_OFFICER, subject="gao-1", regions=["Gao"])
    body = {"biometric_reference": "bio-child-1", "site": "Kidal"}
    path = f"/persons/{child['person_id']}/registration"

    outside = await elsewhere.post(path, body, **{"If-Match": "*"})
    registered = await officer.post(path, body, **{"If-Match": "*"})

    assert outside.status_code == 404
    assert (registered.status_code, registered.json()["person_id"]) == (200, child["person_id"])
    assert (await officer.get(f"/persons/{child['person_id']}")).status_code == 404
    record = (await protector.get(f"/persons/{child['person_id']}")).json()
    assert (record["status"], record["site"], record["ddr_id"] is not None) == ("registered", "Kidal", True)


def shape(value: Any) -> Any:
    """What an answer holds, its values aside: the keys of every object, the shape of every list item."""
    if isinstance(value, dict):
        return {key: shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shape(item) for item in value]
    return type(value).__name__


@pytest.mark.parametrize("registrar", [Role.CNDDR_OFFICER, Role.CHILD_PROTECTION])
async def test_registering_a_child_is_answered_in_the_shape_an_adults_registration_is(
    officer: Api, caller: Caller, tmp_path: Path, registrar: Role
) -> None:
    """Issue 14 review item 5: registering a child answered ``visible: false`` (and no DDR ID) where an adult's
    answer held the DDR ID, telling the registering officer the platform classed the person as a child. Every
    registrar (a CNDDR officer, and a focal point holding child protection too) now gets the same keys, the
    same shape and the same headers for both, on the single and the bulk route, and a replay of each with its
    Idempotency-Key too."""
    await movement(officer, "MNLA")
    people = [
        member("M-1", "Ag Moussa", weapons=(), **CHILD),
        member("M-2", "Ag Intalla"),
        member("M-3", "Ag Alghabass", weapons=(), **CHILD),
        member("M-4", "Ag Bilal"),
    ]
    await upload(officer, list_file(tmp_path, people), "MNLA")
    everyone = await persons_of(caller(Role.CNDDR_OFFICER, Role.CHILD_PROTECTION, subject="both-1"))
    by_ref = {p["movement_ref"]: p["person_id"] for p in everyone}
    roles = [Role.CNDDR_OFFICER] if registrar == Role.CNDDR_OFFICER else [Role.CNDDR_OFFICER, registrar]
    registering = caller(*roles, subject="registrar-1")

    def one(ref: str) -> Awaitable[Any]:
        body = {"biometric_reference": f"biometric-{ref}", "site": "Kidal"}
        headers = {"If-Match": "*", "Idempotency-Key": f"register-{ref}"}
        return registering.post(f"/persons/{by_ref[ref]}/registration", body, **headers)

    child, adult = await one("M-1"), await one("M-2")
    child_again, adult_again = await one("M-1"), await one("M-2")
    bulk = await registering.post(
        "/registrations/bulk",
        [
            {"person_id": by_ref[ref], "biometric_reference": f"biometric-{ref}", "site": "Kidal"}
            for ref in ("M-3", "M-4")
        ],
    )

    assert (child.status_code, adult.status_code, bulk.status_code) == (200, 200, 200), child.text
    assert shape(child.json()) == shape(adult.json()) == {"person_id": "str", "version": "int"}
    headers = {"content-location", "etag", "content-type"}
    assert {h for h in child.headers if h in headers} == {h for h in adult.headers if h in headers}
    # A replay answers as the registration did, for both (a replay that read the record again answered the
    # child's 404 where the adult's record showed).
    assert (child_again.status_code, child_again.json()) == (child.status_code, child.json())
    assert (adult_again.status_code, adult_again.json()) == (adult.status_code, adult.json())
    assert set(child_again.headers) == set(adult_again.headers)
    child_item, adult_item = bulk.json()["items"]
    assert child_item["status"] == adult_item["status"] == "recorded"
    assert shape(child_item) == shape(adult_item)
    assert shape(child_item["result"]) == {"person_id": "str", "version": "int"}


async def test_a_correction_making_a_person_a_child_is_answered_as_one_that_does_not(
    officer: Api, caller: Caller, tmp_path: Path
) -> None:
    """Issue 14, item 5: a correction of a birth date that made an adult's record a child's answered
    ``{"visible": false}`` where any other correction answered the record, telling the officer who made it
    that the platform now classes the person as a child. Both now answer the same keys, shape, status and
    headers, and so does a replay of each with its Idempotency-Key (a replay that read the record again would
    answer the child's 404); the record is read through GET, which applies the child rule."""
    await movement(officer, "MNLA")
    await upload(
        officer, list_file(tmp_path, [member("M-1", "Ag Moussa"), member("M-2", "Ag Intalla")]), "MNLA"
    )
    by_ref = {p["movement_ref"]: p for p in await persons_of(officer)}
    correcting = caller(Role.CNDDR_OFFICER, subject="corrector-1")

    def correct(ref: str, year: int) -> Awaitable[Any]:
        person = by_ref[ref]
        body = {"reason": "birth certificate", "birth_kind": "year", "birth_year": year}
        headers = {"If-Match": f'"{person["version"]}"', "Idempotency-Key": f"correct-{ref}"}
        return correcting.post(f"/persons/{person['person_id']}/corrections", body, **headers)

    child, adult = await correct("M-1", 2012), await correct("M-2", 1990)
    child_again, adult_again = await correct("M-1", 2012), await correct("M-2", 1990)

    assert (child.status_code, adult.status_code) == (200, 200), child.text
    assert shape(child.json()) == shape(adult.json()) == {"person_id": "str", "version": "int"}
    assert child.json() == {"person_id": by_ref["M-1"]["person_id"], "version": by_ref["M-1"]["version"] + 1}
    assert set(child.headers) == set(adult.headers)
    assert (child_again.headers["Idempotent-Replayed"], adult_again.headers["Idempotent-Replayed"]) == (
        "true",
        "true",
    )
    assert (child_again.status_code, child_again.json()) == (child.status_code, child.json())
    assert (adult_again.status_code, adult_again.json()) == (adult.status_code, adult.json())
    assert set(child_again.headers) == set(adult_again.headers)
    assert (await correcting.get(f"/persons/{by_ref['M-1']['person_id']}")).status_code == 404
    record = (await correcting.get(f"/persons/{by_ref['M-2']['person_id']}")).json()
    assert (record["birth_year"], record["version"]) == (1990, adult.json()["version"])


# -- item 9: every bulk item checked in its own transaction ---------------------------------------------------


@dataclasses.dataclass
class ScopeChangesFirst:
    """The service's unit of work, with a change of scope committed just as a bulk command starts: after the
    route has answered everything it reads beforehand, before the items' transactions."""

    unit: Any
    change: Callable[[], Awaitable[None]]

    async def run(self, work: Callable[[Any], Awaitable[T]], **options: Any) -> T:
        return await self.unit.run(work, **options)  # type: ignore[no-any-return]

    async def run_items(self, items: Sequence[Any], work: Any, **options: Any) -> Any:
        await self.change()
        return await self.unit.run_items(items, work, **options)


async def test_a_bulk_registration_racing_a_move_out_of_the_callers_regions_commits_nothing_for_that_person(
    officer: Api, caller: Caller, app: FastAPI, tmp_path: Path
) -> None:
    """Issue 14, item 9: registration's bulk routes checked the caller's scope before the transaction, so a
    write racing a change of scope could commit outside it."""
    await movement(officer, "MNLA")
    gao = {"region": "Gao", "cercle": "Gao"}
    await upload(officer, list_file(tmp_path, [member("M-1", "Baye Ag Diknane", **gao), member("M-2", "Sidi Ould Baba", **gao)]), "MNLA")  # fmt: skip
    moving, staying = sorted(await persons_of(officer), key=lambda p: p["movement_ref"])
    desk: RegistrationDesk = app.state.registration
    real = dataclasses.replace(desk)

    async def move_to_kidal() -> None:
        await handlers.correct_person(
            real, moving["person_id"], Correction(region="Kidal", cercle="Kidal"), "moved",
            moving["version"], Causation(actor="cnddr-officer-2"), Recording(),
        )  # fmt: skip

    desk.unit = ScopeChangesFirst(desk.unit, move_to_kidal)
    gao_officer = caller(Role.CNDDR_OFFICER, subject="gao-1", regions=["Gao"])
    items = [{"person_id": p["person_id"], "biometric_reference": f"bio-ref-{p['movement_ref']}", "site": "Gao"}
             for p in (moving, staying)]  # fmt: skip
    unknown = {
        "person_id": "00000000-0000-4000-8000-000000000000",
        "biometric_reference": "bio-unknown",
        "site": "Gao",
    }

    answer = await gao_officer.post("/registrations/bulk", [*items, unknown])

    assert answer.status_code == 200, answer.text
    by_item = [(i["key"], i["status"], i["rule"], i["detail"]) for i in answer.json()["items"]]
    assert by_item == [  # the person moved away is refused as an id that does not exist
        (moving["person_id"], "refused", "unknown-person", f"no person {moving['person_id']}"),
        (staying["person_id"], "recorded", None, None),
        (unknown["person_id"], "refused", "unknown-person", f"no person {unknown['person_id']}"),
    ]
    moved = (await officer.get(f"/persons/{moving['person_id']}")).json()
    assert (moved["region"], moved["status"], moved["ddr_id"]) == ("Kidal", "pre-registered", None)
