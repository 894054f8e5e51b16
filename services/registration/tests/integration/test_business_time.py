"""Business time on every dated command of registration: when a fact happened, apart from when it is
recorded. Never in the future, never before the fact it depends on, older than the window only for a records
officer who gives a reason (kept in the event's envelope)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from ddr_registration.domain.persons import person_stream
from ddr_runtime.auth.roles import Role
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.services import Api, Caller

from .support import list_file, member, movement, persons_of, upload

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

REASON = "migrated from the CNDDR's 2018 registers"
TOMORROW = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()


@pytest.fixture
def historian(caller: Caller) -> Api:
    return caller(Role.CNDDR_OFFICER, Role.RECORDS_OFFICER, subject="records-1")


async def listed_on(
    historian: Api, officer: Api, tmp_path: Path, day: str, *refs: str
) -> list[dict[str, Any]]:
    """MNLA's list of ``refs``, submitted on ``day`` (recorded late by the records officer)."""
    await movement(officer, "MNLA")
    members = [
        member(ref, name) for ref, name in zip(refs, ("Ahmoudou Ag Asriw", "Baye Ag Diknane"), strict=False)
    ]
    answer = await upload(historian, list_file(tmp_path, members), "MNLA", reason=REASON, on=day)
    assert answer.status_code == 201, answer.text
    return sorted(await persons_of(officer, movement="MNLA"), key=lambda p: p["movement_ref"])


async def register(
    api: Api, person: dict[str, Any], on: str | None, site: str = "Gao", **headers: str
) -> Any:
    body = {"biometric_reference": f"device-1/{person['person_id']}", "site": site, "on": on}
    return await api.post(
        f"/persons/{person['person_id']}/registration", body, if_match=f'"{person["version"]}"', **headers
    )


async def test_a_registration_older_than_the_window_is_accepted_from_a_records_officer_with_a_reason(
    app: FastAPI, historian: Api, officer: Api, tmp_path: Path
) -> None:
    (person,) = await listed_on(historian, officer, tmp_path, "2018-11-06", "M-1")

    without_role = await register(officer, person, "2018-11-15", back_recording_reason=REASON)
    without_reason = await register(historian, person, "2018-11-15")
    accepted = await register(historian, person, "2018-11-15", back_recording_reason=REASON)

    assert (without_role.status_code, without_role.json()["rule"]) == (422, "back-recording-not-authorised")
    assert without_role.json()["occurred_at"] == "2018-11-15T00:00:00Z"
    assert (without_reason.status_code, without_reason.json()["rule"]) == (
        422,
        "back-recording-not-authorised",
    )
    assert accepted.status_code == 200, accepted.text
    runtime: ServiceRuntime = app.state.runtime
    envelope = (await runtime.store.read_stream(person_stream(person["person_id"])))[-1].envelope
    assert envelope.occurredat == datetime(2018, 11, 15, tzinfo=UTC)
    assert (envelope.backrecordrole, envelope.backrecordreason) == ("records_officer", REASON)


async def test_a_registration_before_the_person_was_listed_is_refused_with_both_dates(
    historian: Api, officer: Api, tmp_path: Path
) -> None:
    (person,) = await listed_on(historian, officer, tmp_path, "2018-11-06", "M-1")

    early = await register(historian, person, "2018-11-01", back_recording_reason=REASON)

    assert early.status_code == 422
    problem = early.json()
    assert (problem["rule"], problem["occurred_at"], problem["not_before"], problem["depends_on"]) == (
        "occurred-before-dependency",
        "2018-11-01T00:00:00Z",
        "2018-11-06T00:00:00Z",
        "the listing",
    )


async def test_a_registration_in_the_future_is_refused(officer: Api, tmp_path: Path) -> None:
    await movement(officer, "MNLA")
    await upload(officer, list_file(tmp_path, [member("M-1", "Ahmoudou Ag Asriw")]), "MNLA")
    (person,) = await persons_of(officer, movement="MNLA")

    future = await register(officer, person, TOMORROW)

    assert (future.status_code, future.json()["rule"]) == (422, "occurred-in-future")


async def test_a_weapon_is_never_handed_over_before_the_registration(
    historian: Api, officer: Api, tmp_path: Path
) -> None:
    (person,) = await listed_on(historian, officer, tmp_path, "2018-11-06", "M-1")
    await register(historian, person, "2018-11-15", back_recording_reason=REASON)
    weapon = {"person_id": person["person_id"], "type": "AK-47", "calibre": "7.62x39", "serial": "KA-1",
              "condition": "bon", "tag": "T-1", "custodian": "CTS Gao"}  # fmt: skip

    early = await historian.post("/weapons", {**weapon, "on": "2018-11-10"}, back_recording_reason=REASON)
    received = await historian.post("/weapons", {**weapon, "on": "2018-11-15"}, back_recording_reason=REASON)

    assert (early.status_code, early.json()["depends_on"]) == (422, "the registration")
    assert early.json()["not_before"] == "2018-11-15T00:00:00Z"
    assert received.status_code == 201, received.text


async def test_a_custody_transfer_is_never_before_the_hand_over(officer: Api, tmp_path: Path) -> None:
    await movement(officer, "MNLA")
    await upload(officer, list_file(tmp_path, [member("M-1", "Ahmoudou Ag Asriw")]), "MNLA")
    (person,) = await persons_of(officer, movement="MNLA")
    today = datetime.now(UTC).date()
    weapon = await officer.ok(
        "/weapons",
        {"person_id": person["person_id"], "type": "AK-47", "calibre": "7.62x39", "serial": "KA-1",
         "condition": "bon", "tag": "T-1", "custodian": "CTS Gao", "on": today.isoformat()},
        status=201,
    )  # fmt: skip
    transfer = {
        "from_custodian": "CTS Gao",
        "to_custodian": "MINUSMA armoury",
        "released_by": "a",
        "received_by": "b",
    }

    early = await officer.post(
        f"/weapons/{weapon['weapon_id']}/custody-transfers",
        {**transfer, "on": (today - timedelta(days=1)).isoformat()},
        if_match='"1"',
    )

    assert (early.status_code, early.json()["depends_on"]) == (422, "the weapon's last change of custody")


async def test_a_list_version_is_certified_after_its_submission_and_endorsed_after_its_certification(
    historian: Api, officer: Api, caller: Caller, tmp_path: Path
) -> None:
    await listed_on(historian, officer, tmp_path, "2018-11-06", "M-1")
    (listed,) = (await officer.get("/lists")).json()
    path = f"/lists/{listed['list_id']}/versions/1"
    liaison = caller(Role.MOVEMENT_LIAISON, Role.RECORDS_OFFICER, subject="liaison-MNLA", movement="MNLA")

    early = await liaison.post(
        f"{path}/certification", {"on": "2018-11-05"}, if_match='"1"', back_recording_reason=REASON
    )
    certified = await liaison.post(
        f"{path}/certification", {"on": "2018-11-08"}, if_match='"1"', back_recording_reason=REASON
    )
    before = await historian.post(
        f"{path}/endorsements",
        {"body": "CNDDR", "on": "2018-11-07"},
        if_match='"2"',
        back_recording_reason=REASON,
    )
    endorsed = await historian.post(
        f"{path}/endorsements",
        {"body": "CNDDR", "on": "2018-11-09"},
        if_match='"2"',
        back_recording_reason=REASON,
    )

    assert (early.status_code, early.json()["depends_on"]) == (422, "the submission of version 1")
    assert certified.status_code == 200, certified.text
    assert (before.status_code, before.json()["depends_on"]) == (422, "the certification of version 1")
    assert endorsed.status_code == 200, endorsed.text
    history = (await officer.get(f"/lists/{listed['list_id']}/history")).json()
    assert [h["occurred_at"][:10] for h in history] == ["2018-11-06", "2018-11-08", "2018-11-09"]


async def test_a_correction_is_never_dated_before_the_listing(
    historian: Api, officer: Api, tmp_path: Path
) -> None:
    (person,) = await listed_on(historian, officer, tmp_path, "2018-11-06", "M-1")

    early = await historian.post(
        f"/persons/{person['person_id']}/corrections",
        {"reason": "ID card", "region": "Gao", "on": "2018-10-01"},
        if_match=f'"{person["version"]}"',
        back_recording_reason=REASON,
    )

    assert (early.status_code, early.json()["depends_on"]) == (422, "the listing")


async def test_registrations_are_counted_by_site_as_of_the_day_they_happened(
    historian: Api, officer: Api, caller: Caller, tmp_path: Path
) -> None:
    first, second = await listed_on(historian, officer, tmp_path, "2018-11-06", "M-1", "M-2")
    await register(historian, first, "2018-12-01", "Gao", back_recording_reason=REASON)
    await register(historian, second, "2019-02-01", "Kidal", back_recording_reason=REASON)
    donor = caller(Role.DONOR, subject="donor-1")

    end_2018 = (await donor.get("/figures", as_of="2018-12-31")).json()
    march_2019 = (await donor.get("/figures", as_of="2019-03-01")).json()
    before = (await donor.get("/figures", as_of="2018-11-05")).json()

    assert (end_2018["listed"], end_2018["registered"]) == (2, 1)
    assert end_2018["registered_by"]["by_site"] == {"Gao": 1}
    assert march_2019["registered_by"]["by_site"] == {"Gao": 1, "Kidal": 1}
    assert march_2019["registered_by"]["by_movement"] == {"MNLA": 2}
    assert (before["listed"], before["registered"]) == (0, 0)
    assert (await officer.get(f"/persons/{second['person_id']}")).json()["site"] == "Kidal"
