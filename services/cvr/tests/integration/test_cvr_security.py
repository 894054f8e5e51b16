"""Issue 14's findings on CVR: erasure reaches participants, the withdrawal reason is sealed, reports keep to
the caller's regions, committee members read no identities, probing registration ids or project ids teaches
a partner nothing, offsets are bounded, and every read of a participant is in the read ledger."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from ddr_contracts.envelope import ENCRYPTED_PREFIX
from ddr_contracts.registration import PersonalDataErased, PersonMergedInto
from ddr_cvr.adapters.tables import participants
from ddr_cvr.domain.participants import participant_stream
from ddr_cvr.domain.persons import registered_person_stream
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.unit import UnitOfWork
from ddr_testkit.ledger import ledger_rows
from ddr_testkit.services import Api, Caller
from ddr_testkit.upstream import UpstreamService

from .support import approve, eventually, ngo, pre_registered, proposal

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]
ERASED = "ddr.cvr.ParticipantDataErased.v1"


def ex_combatant(person_id: str, participant_id: str, **more: Any) -> dict[str, Any]:
    return {
        "category": "ex_combatant",
        "sex": "M",
        "person_id": person_id,
        "enrolled_on": "2022-01-15",
        "participant_id": participant_id,
        "full_name": f"Nom de {participant_id}",
        "telephone": "+22376000000",
        **more,
    }


async def noted(unit: UnitOfWork, people: list[str], event_type: str) -> bool:
    streams = await unit.store.read_streams([registered_person_stream(p) for p in people])
    return all(any(e.envelope.type.startswith(event_type) for e in s) for s in streams.values())


async def test_erasing_a_person_in_registration_erases_the_participants_linked_to_them_and_to_merged_records(
    officer: Api, historian: Caller, settings: Settings, unit: UnitOfWork
) -> None:
    """Finding 7: CVR sealed participants under their own key and ignored PersonalDataErased."""
    await ngo(officer, "ong-e")
    partner = historian(Role.CVR_PARTNER, partner="ong-e")
    pid = (await partner.ok("/projects", proposal(), 201))["project_id"]
    async with UpstreamService("registration", settings) as registration:
        for person in ("p-old", "p-new", "p-other"):
            await registration.emit(person, pre_registered(person))
        assert await eventually(
            lambda: noted(unit, ["p-old", "p-new", "p-other"], "ddr.cvr.PersonRegistration")
        )
        batch = [
            ex_combatant("p-old", "x-old"),
            ex_combatant("p-new", "x-new"),
            ex_combatant("p-other", "x-kept"),
        ]
        assert (await officer.ok(f"/projects/{pid}/participants", {"participants": batch}))["recorded"] == 3
        await registration.emit(
            "p-old", PersonMergedInto(person_id="p-old", into_person_id="p-new", case_id="c-1")
        )
        assert await eventually(lambda: noted(unit, ["p-old"], "ddr.cvr.PersonMergeNoted"))
        await registration.emit(
            "p-new",
            PersonalDataErased(
                person_id="p-new", reason_code="data_subject_request", authority="CNDDR-2026-1"
            ),
        )

    async def erased() -> bool:
        streams = await unit.store.read_streams([participant_stream("x-old"), participant_stream("x-new")])
        return all(any(e.envelope.type == ERASED for e in s) for s in streams.values())

    assert await eventually(erased), "the erasure never reached CVR's participants"
    listed = {p["participant_id"]: p for p in (await officer.get(f"/projects/{pid}/participants")).json()}
    assert [(listed[p]["full_name"], listed[p]["telephone"]) for p in ("x-old", "x-new", "x-kept")] == [
        (None, None),
        (None, None),
        ("Nom de x-kept", "+22376000000"),
    ]
    async with unit.engine.connect() as conn:
        sealed = dict(
            (await conn.execute(select(participants.c.participant_id, participants.c.sealed))).all()
        )
    assert (sealed["x-old"], sealed["x-new"], sealed["x-kept"] is not None) == (None, None, True)
    stored = await unit.store.read_stream(participant_stream("x-new"))
    assert stored[0].envelope.data["full_name"].startswith(ENCRYPTED_PREFIX)
    assert (await unit.store.cipher.decrypt("x-new", stored[0].envelope.data))["full_name"] is None


async def test_a_withdrawal_reason_is_sealed_under_the_participant_key(
    officer: Api, historian: Caller, unit: UnitOfWork
) -> None:
    """Finding 7: the CVR withdrawal reason was stored in clear."""
    await ngo(officer, "ong-w")
    partner = historian(Role.CVR_PARTNER, partner="ong-w")
    pid = (await partner.ok("/projects", proposal(), 201))["project_id"]
    member = {"category": "community", "sex": "F", "enrolled_on": "2022-01-15", "participant_id": "w-1"}
    await partner.ok(f"/projects/{pid}/participants", {"participants": [member]})

    await partner.ok("/participants/w-1/withdrawal", {"withdrawn_on": "2022-03-01", "reason": "menacée"})

    stored = await unit.store.read_stream(participant_stream("w-1"))
    assert stored[-1].envelope.type == "ddr.cvr.ParticipantWithdrawn.v2"
    assert stored[-1].envelope.data["reason"].startswith(ENCRYPTED_PREFIX)


async def test_a_report_keeps_to_the_regions_of_the_caller_whatever_region_the_query_names(
    officer: Api, committee: Api, historian: Caller
) -> None:
    """Finding 9: CVR reports trusted the region in the query."""
    await ngo(officer, "ong-m", region="Mopti")
    await ngo(officer, "ong-g", region="Gao")
    for partner_id, region in (("ong-m", "Mopti"), ("ong-g", "Gao")):
        body = proposal(partner_id=partner_id, region=region, cercle=region)
        await approve(committee, (await officer.ok("/projects", body, 201))["project_id"])
    donor = historian(Role.DONOR, regions=["Gao"])
    as_of = {"as_of": "2023-01-01", "group_by": "region"}

    asked_for_mopti = (await donor.get("/reports/projects", **as_of, region="Mopti")).json()
    every_region = (await donor.get("/reports/projects", **as_of)).json()

    assert asked_for_mopti["total"]["projects"] == 0
    assert [(row["key"], row["projects"]) for row in every_region["rows"]] == [("Gao", 1)]


async def test_a_committee_member_reads_a_project_targets_but_not_its_participants(
    officer: Api, committee: Api, historian: Caller
) -> None:
    """Finding 14: committee members read every project's participant names and phones."""
    await ngo(officer, "ong-k")
    partner = historian(Role.CVR_PARTNER, partner="ong-k")
    pid = (await partner.ok("/projects", proposal(), 201))["project_id"]
    member = {"category": "community", "sex": "F", "enrolled_on": "2022-01-15", "full_name": "Aminata"}
    await partner.ok(f"/projects/{pid}/participants", {"participants": [member]})

    refused = await committee.get(f"/projects/{pid}/participants")
    targets = await committee.get(f"/projects/{pid}/targets")

    assert (refused.status_code, "Aminata" in refused.text) == (403, False)
    assert (targets.status_code, targets.json()["participants"]) == (200, 1)


async def test_a_partner_gets_one_answer_for_an_unknown_a_merged_and_a_child_registration_id(
    officer: Api, historian: Caller, settings: Settings, unit: UnitOfWork
) -> None:
    """Finding 14: a partner could link any registration id, a child's included, and learn from the answer
    whether it exists or was merged."""
    await ngo(officer, "ong-p")
    partner = historian(Role.CVR_PARTNER, partner="ong-p")
    pid = (await partner.ok("/projects", proposal(), 201))["project_id"]
    async with UpstreamService("registration", settings) as registration:
        await registration.emit("p-adult", pre_registered("p-adult"))
        await registration.emit("p-gone", pre_registered("p-gone"))
        child = pre_registered("p-child").model_copy(update={"birth_year": 2010})
        await registration.emit("p-child", child)
        await registration.emit(
            "p-gone", PersonMergedInto(person_id="p-gone", into_person_id="p-adult", case_id="c")
        )
    assert await eventually(lambda: noted(unit, ["p-gone"], "ddr.cvr.PersonMergeNoted"))
    assert await noted(unit, ["p-child"], "ddr.cvr.PersonChildNoted")
    probes = {"q-unknown": "p-nobody", "q-merged": "p-gone", "q-child": "p-child"}
    batch = [ex_combatant(person, key) for key, person in probes.items()]

    answer = await partner.ok(f"/projects/{pid}/participants", {"participants": batch})

    answers = [
        {k: (v.replace(probes[item["key"]], "ID") if isinstance(v, str) else v) for k, v in item.items()}
        for item in answer["items"]
    ]
    assert [{k: v for k, v in a.items() if k not in ("index", "key")} for a in answers] == [
        {k: v for k, v in answers[0].items() if k not in ("index", "key")}
    ] * 3
    assert (answer["recorded"], answers[0]["status"]) == (0, "refused")


async def test_a_colliding_project_id_is_answered_as_any_conflict_and_shows_nothing_of_the_other_project(
    officer: Api, historian: Caller
) -> None:
    """Finding 14: a colliding project_id revealed another partner's project."""
    await ngo(officer, "ong-1")
    await ngo(officer, "ong-2")
    first = historian(Role.CVR_PARTNER, partner="ong-1")
    second = historian(Role.CVR_PARTNER, partner="ong-2")
    await first.ok("/projects", proposal(project_id="shared-id", title="Puits secrets de Sio"), 201)
    await second.ok("/projects", proposal(project_id="own-id"), 201)

    theirs = await second.post("/projects", proposal(project_id="shared-id"))
    own = await second.post("/projects", proposal(project_id="own-id"))

    def answer(response: Any) -> dict[str, Any]:
        return {k: v for k, v in response.json().items() if k != "trace_id"}

    assert (theirs.status_code, answer(theirs)) == (409, answer(own))
    assert not {"Puits", "ong-1", "shared-id"} & set(theirs.text.replace('"', " ").split())


async def test_an_offset_beyond_the_bound_is_a_422_naming_the_offset(officer: Api) -> None:
    """Finding 15: offset=1e20 gave a 500 on every list route."""
    answer = await officer.get("/projects", offset="100000000000000000000")

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["query.offset"]


async def a_partners_project(
    officer: Api, historian: Caller, partner_id: str, reader: str
) -> tuple[Api, str]:
    """A partner's reader (subject ``reader``) and a project the partner proposed."""
    await ngo(officer, partner_id)
    partner = historian(Role.CVR_PARTNER, partner=partner_id, subject=reader)
    return partner, (await partner.ok("/projects", proposal(), 201))["project_id"]


async def test_reading_participants_is_recorded_in_the_read_ledger_under_the_registration_id(
    officer: Api, historian: Caller, settings: Settings, unit: UnitOfWork
) -> None:
    """Finding 15: reads of a person were recorded only for pathway's paths."""
    partner, pid = await a_partners_project(officer, historian, "ong-r", "reader-1")
    async with UpstreamService("registration", settings) as registration:
        await registration.emit("p-read", pre_registered("p-read"))
    assert await eventually(lambda: noted(unit, ["p-read"], "ddr.cvr.PersonRegistration"))
    await partner.ok(f"/projects/{pid}/participants", {"participants": [ex_combatant("p-read", "r-1")]})

    await partner.client.get(
        f"/projects/{pid}/participants", headers={**partner.headers, "X-Purpose": "tranche follow-up"}
    )
    auditor = historian(Role.AUDITOR)
    reads = (await auditor.get("/reads/p-read")).json()

    assert [(r["reader"], r["route"], r["purpose"], r["outcome"]) for r in reads] == [
        ("reader-1", "GET /projects/{project_id}/participants", "tranche follow-up", "shown")
    ]


async def test_the_read_ledger_is_told_which_persons_read_are_children_and_hides_a_childs_reads_from_auditors(
    officer: Api, historian: Caller, settings: Settings, unit: UnitOfWork
) -> None:
    """Issue 14 review item 4: CVR recorded the reads of participants without saying which linked person is a
    child. A person linked as an adult, then found a possible child (registration corrects the birth year):
    the read before says adult, child protection's read after says child, and an auditor sees only the
    first."""
    partner, pid = await a_partners_project(officer, historian, "ong-c", "reader-2")
    async with UpstreamService("registration", settings) as registration:
        await registration.emit("p-later-child", pre_registered("p-later-child"))
        assert await eventually(lambda: noted(unit, ["p-later-child"], "ddr.cvr.PersonRegistration"))
        await partner.ok(
            f"/projects/{pid}/participants", {"participants": [ex_combatant("p-later-child", "r-2")]}
        )
        await partner.get(f"/projects/{pid}/participants")
        corrected = pre_registered("p-later-child").model_copy(update={"birth_year": 2010})
        await registration.emit("p-later-child", corrected)
    assert await eventually(lambda: noted(unit, ["p-later-child"], "ddr.cvr.PersonChildNoted"))

    # The partner no longer sees the participant (nothing read, nothing recorded); child protection does.
    assert (await partner.get(f"/projects/{pid}/participants")).json() == []
    await historian(Role.AUDITOR, Role.CHILD_PROTECTION, subject="protector-2").get(
        f"/projects/{pid}/participants"
    )
    reads = (await historian(Role.AUDITOR).get("/reads/p-later-child")).json()

    assert [(r["reader"], r["outcome"]) for r in reads] == [("reader-2", "shown")]
    rows = await ledger_rows(unit.store.engine, "p-later-child")
    assert [(outcome, told) for _, outcome, told in rows] == [("shown", False), ("shown", True)]


async def test_a_participant_later_found_a_child_is_shown_to_child_protection_only(
    officer: Api, committee: Api, historian: Caller, settings: Settings, unit: UnitOfWork
) -> None:
    """Issue 14, item 5 (residual): a participant whose linked person was found a child after enrolment still
    showed in the participant list, the targets and the programme report to every reader. Now a CVR partner,
    a committee member and an auditor see the project as if the participant had never been enrolled (and a
    withdrawal of them answers as for an unknown participant); child protection (here an auditor who holds it
    too) sees them."""
    partner, pid = await a_partners_project(officer, historian, "ong-ch", "reader-3")
    await approve(committee, pid)
    community = {"category": "community", "sex": "F", "enrolled_on": "2022-03-01", "participant_id": "q-com",
                 "full_name": "Aminata", "telephone": "+22376000001"}  # fmt: skip
    async with UpstreamService("registration", settings) as registration:
        for person in ("p-grown", "p-young"):
            await registration.emit(person, pre_registered(person))
        assert await eventually(lambda: noted(unit, ["p-grown", "p-young"], "ddr.cvr.PersonRegistration"))
        batch = [ex_combatant("p-grown", "q-adult"), ex_combatant("p-young", "q-child"), community]
        assert (await partner.ok(f"/projects/{pid}/participants", {"participants": batch}))["recorded"] == 3
        corrected = pre_registered("p-young").model_copy(update={"birth_year": 2010})
        await registration.emit("p-young", corrected)
    assert await eventually(lambda: noted(unit, ["p-young"], "ddr.cvr.PersonChildNoted"))
    auditor = historian(Role.AUDITOR)
    protector = historian(Role.AUDITOR, Role.CHILD_PROTECTION, subject="protector-1")

    def listed(api: Api) -> Any:
        return api.get(f"/projects/{pid}/participants")

    async def counted(api: Api) -> tuple[int, int, int]:
        answer = (await api.get(f"/projects/{pid}/targets")).json()
        return answer["participants"], answer["ex_combatants"]["actual"], answer["beneficiaries"]["direct"]

    async def reported(api: Api) -> tuple[int, int, int, int]:
        total = (await api.get("/reports/projects")).json()["total"]
        return (
            total["participants"],
            total["ex_combatants"],
            total["beneficiaries"],
            total["beneficiaries_women"],
        )

    for reader in (partner, auditor):
        answer = await listed(reader)
        assert answer.status_code == 200, answer.text
        assert sorted(p["participant_id"] for p in answer.json()) == ["q-adult", "q-com"]
        assert "p-young" not in answer.text
    assert sorted(p["participant_id"] for p in (await listed(protector)).json()) == [
        "q-adult",
        "q-child",
        "q-com",
    ]
    for reader in (partner, committee, auditor):
        assert await counted(reader) == (2, 1, 2)
    assert await counted(protector) == (3, 2, 3)
    assert await reported(auditor) == (2, 1, 2, 1)
    assert await reported(protector) == (3, 2, 3, 1)

    withdrawal = {"withdrawn_on": "2022-06-01", "reason": "left the project"}
    child = await partner.post("/participants/q-child/withdrawal", withdrawal)
    nobody = await partner.post("/participants/q-nobody/withdrawal", withdrawal)
    assert (child.status_code, nobody.status_code) == (404, 404)
    assert child.json()["detail"].replace("q-child", "ID") == nobody.json()["detail"].replace(
        "q-nobody", "ID"
    )
