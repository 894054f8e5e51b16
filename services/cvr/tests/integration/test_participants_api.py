"""Participants: enrolment answered item by item, targets as counts against the named participants, the link
of an ex-combatant to registration (learnt from the registration topic, kept in CVR's own history), erasure."""

from __future__ import annotations

from typing import Any

import pytest

from ddr_contracts.envelope import ENCRYPTED_PREFIX
from ddr_contracts.registration import PersonMergedInto
from ddr_cvr.domain.participants import participant_stream
from ddr_cvr.domain.persons import registered_person_stream
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.unit import UnitOfWork
from ddr_testkit.services import Api, Caller
from ddr_testkit.upstream import UpstreamService

from .support import eventually, ngo, pre_registered, proposal

MERGE_NOTED = "ddr.cvr.PersonMergeNoted"
pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def community(n: int, **more: Any) -> dict[str, Any]:
    return {"category": "community", "sex": "F" if n % 2 else "M", "enrolled_on": "2022-01-15", **more}


async def announce(settings: Settings, unit: UnitOfWork, people: list[str], merges: dict[str, str]) -> None:
    """Registration announces ``people`` (and merges) on its topic; wait until CVR has noted them."""
    async with UpstreamService("registration", settings) as registration:
        for person_id in people:
            await registration.emit(person_id, pre_registered(person_id))
        for old, new in merges.items():
            await registration.emit(
                old, PersonMergedInto(person_id=old, into_person_id=new, case_id=f"case-{old}")
            )

    async def noted() -> bool:
        streams = await unit.store.read_streams([registered_person_stream(p) for p in [*people, *merges]])
        merged = {
            e.envelope.subject for s in streams.values() for e in s if e.envelope.type.startswith(MERGE_NOTED)
        }
        return all(streams.values()) and merged >= set(merges)

    assert await eventually(noted), "the registration events never reached CVR"


async def test_forty_participants_ten_ex_combatants_set_their_counts_against_the_targets(
    officer: Api, historian: Caller, settings: Settings, unit: UnitOfWork
) -> None:
    await ngo(officer, "ong-t")
    partner = historian(Role.CVR_PARTNER, partner="ong-t")
    pid = (await partner.ok("/projects", proposal(direct_beneficiaries_target=400), 201))["project_id"]
    people = [f"person-{i}" for i in range(10)]
    await announce(settings, unit, people, {})
    members = [
        {
            "category": "ex_combatant",
            "sex": "M",
            "person_id": p,
            "enrolled_on": "2022-01-15",
            "full_name": f"Ex {p}",
        }
        for p in people
    ] + [community(i, full_name=f"Com {i}", telephone="+22370000000") for i in range(30)]

    answer = await partner.ok(f"/projects/{pid}/participants", {"participants": members})
    targets = (await partner.get(f"/projects/{pid}/targets")).json()

    assert (answer["recorded"], answer["refused"]) == (40, 0)
    assert targets["participants"] == 40
    assert targets["ex_combatants"] == {
        "target": 240,
        "target_percent": 60.0,
        "actual": 10,
        "actual_percent": 25.0,
    }
    assert targets["community"] == {
        "target": 160,
        "target_percent": 40.0,
        "actual": 30,
        "actual_percent": 75.0,
    }
    assert targets["women"] == {"target": 200, "target_percent": 50.0, "actual": 15, "actual_percent": 37.5}
    listed = (await partner.get(f"/projects/{pid}/participants")).json()
    leaver = next(p for p in listed if p["category"] == "ex_combatant")
    await partner.ok(
        f"/participants/{leaver['participant_id']}/withdrawal",
        {"withdrawn_on": "2022-03-01", "reason": "départ"},
    )
    after = (await partner.get(f"/projects/{pid}/targets")).json()
    assert (
        after["participants"],
        after["ex_combatants"]["actual"],
        after["ex_combatants"]["actual_percent"],
    ) == (
        39,
        9,
        23.1,
    )


async def test_targets_are_counts_and_a_percent_given_for_one_is_turned_into_a_count(
    officer: Api, historian: Caller
) -> None:
    await ngo(officer, "ong-c")
    partner = historian(Role.CVR_PARTNER, partner="ong-c")
    counted = proposal(direct_beneficiaries_target=833, women_target=433, ex_combatants_target=0)
    by_percent = proposal(direct_beneficiaries_target=833, women_target_percent="52.5")

    first = await partner.ok("/projects", counted, 201)
    second = await partner.ok("/projects", by_percent, 201)
    both = await partner.post("/projects", proposal(women_target=433, women_target_percent="52"))
    too_many = await partner.post("/projects", proposal(direct_beneficiaries_target=10, women_target=11))

    assert (first["women_target"], first["ex_combatants_target"]) == (433, 0)
    assert (second["women_target"], second["ex_combatants_target"]) == (
        437,
        500,
    )  # 437.325; 60 % of 833 = 499.8
    assert both.status_code == 422
    assert [e["field"] for e in both.json()["errors"]] == ["body.women_target_percent"]
    assert (too_many.status_code, too_many.json()["rule"]) == (422, "women-target")


async def test_a_batch_enrols_the_valid_participants_and_names_each_refused_one(
    officer: Api, historian: Caller, settings: Settings, unit: UnitOfWork
) -> None:
    await ngo(officer, "ong-b")
    partner = historian(Role.CVR_PARTNER, partner="ong-b")
    pid = (await partner.ok("/projects", proposal(), 201))["project_id"]
    await announce(settings, unit, ["p-known"], {})
    batch = [
        community(0, participant_id="b-0"),
        {
            "category": "ex_combatant",
            "sex": "M",
            "person_id": "nobody",
            "enrolled_on": "2022-01-15",
            "participant_id": "b-1",
        },
        community(2, participant_id="b-2", enrolled_on="2022-01-05"),
        {
            "category": "ex_combatant",
            "sex": "M",
            "person_id": "p-known",
            "enrolled_on": "2022-01-15",
            "participant_id": "b-3",
        },
        {
            "category": "community",
            "sex": "F",
            "person_id": "p-known",
            "enrolled_on": "2022-01-15",
            "participant_id": "b-4",
        },
        community(5, participant_id="b-0"),
    ]

    answer = await partner.ok(f"/projects/{pid}/participants", {"participants": batch})
    again = await partner.ok(f"/projects/{pid}/participants", {"participants": batch[:1]})

    assert (answer["recorded"], answer["refused"]) == (2, 4)
    assert [(i["index"], i["key"], i["status"], i["rule"]) for i in answer["items"]] == [
        (0, "b-0", "recorded", None),
        (1, "b-1", "refused", "unknown-person"),
        (2, "b-2", "refused", "occurred-before-dependency"),
        (3, "b-3", "recorded", None),
        (4, "b-4", "refused", "community-no-link"),
        (5, "b-0", "refused", "participant-enrolled"),
    ]
    assert answer["items"][2]["figures"]["not_before"] == "2022-01-10T00:00:00Z"
    assert [(i["key"], i["status"], i["rule"]) for i in again["items"]] == [
        ("b-0", "refused", "participant-enrolled")
    ]
    listed = (await partner.get(f"/projects/{pid}/participants")).json()
    assert sorted(p["participant_id"] for p in listed) == ["b-0", "b-3"]


async def test_an_atomic_batch_with_one_refused_participant_enrols_nobody_and_names_it(
    officer: Api, historian: Caller
) -> None:
    await ngo(officer, "ong-a")
    partner = historian(Role.CVR_PARTNER, partner="ong-a")
    pid = (await partner.ok("/projects", proposal(), 201))["project_id"]
    batch = {"participants": [community(0), community(1, enrolled_on="2099-01-01"), community(2)]}

    refused = await partner.client.post(
        f"/projects/{pid}/participants", params={"atomic": "true"}, json=batch, headers=partner.headers
    )

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["body.items[1]"]
    assert refused.json()["items"][1]["rule"] == "occurred-in-future"
    assert (await partner.get(f"/projects/{pid}/participants")).json() == []
    assert (await partner.get(f"/projects/{pid}/targets")).json()["participants"] == 0


async def test_an_officer_links_an_ex_combatant_to_the_survivor_of_a_merge_learnt_from_registration_sealed(
    officer: Api, historian: Caller, settings: Settings, unit: UnitOfWork
) -> None:
    await ngo(officer, "ong-x")
    partner = historian(Role.CVR_PARTNER, partner="ong-x")
    pid = (await partner.ok("/projects", proposal(), 201))["project_id"]
    await announce(settings, unit, ["p-old", "p-new"], {"p-old": "p-new"})
    body = {
        "participants": [
            {
                "category": "ex_combatant",
                "sex": "M",
                "person_id": "p-old",
                "enrolled_on": "2022-01-15",
                "full_name": "Moussa Ag Ahmed",
                "telephone": "+22376000000",
            }
        ]
    }

    participant_id = (await officer.ok(f"/projects/{pid}/participants", body))["items"][0]["key"]

    listed = (await partner.get(f"/projects/{pid}/participants")).json()
    assert (listed[0]["person_id"], listed[0]["full_name"]) == ("p-new", "Moussa Ag Ahmed")
    assert set(listed[0]) == {
        "participant_id",
        "project_id",
        "category",
        "sex",
        "birth_year",
        "person_id",
        "enrolled_on",
        "withdrawn_on",
        "full_name",
        "telephone",
        "version",
    }
    stored = await unit.store.read_stream(participant_stream(participant_id))
    data = stored[0].envelope.data
    assert stored[0].envelope.subject == participant_id
    assert data["full_name"].startswith(ENCRYPTED_PREFIX)
    assert data["telephone"].startswith(ENCRYPTED_PREFIX)
    assert data["person_id"] == "p-new"
    noted = await unit.store.read_stream(registered_person_stream("p-old"))
    assert [e.envelope.type for e in noted] == [
        "ddr.cvr.PersonRegistrationNoted.v1",
        "ddr.cvr.PersonMergeNoted.v1",
    ]

    await unit.store.cipher.keystore.erase(participant_id)
    erased = (await officer.get(f"/projects/{pid}/participants")).json()
    assert (erased[0]["full_name"], erased[0]["telephone"], erased[0]["person_id"]) == (None, None, "p-new")


async def test_registration_repeating_a_person_is_noted_once(settings: Settings, unit: UnitOfWork) -> None:
    # The merge follows both announcements of p-1 on its partition: once it is noted, they were consumed.
    await announce(settings, unit, ["p-1", "p-1", "p-2"], {"p-1": "p-2"})

    noted = await unit.store.read_stream(registered_person_stream("p-1"))

    assert [e.envelope.type for e in noted] == [
        "ddr.cvr.PersonRegistrationNoted.v1",
        "ddr.cvr.PersonMergeNoted.v1",
    ]
