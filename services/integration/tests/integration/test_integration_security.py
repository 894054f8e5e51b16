"""Issue 14's findings on integration: the ``regions`` claim on every read and write, a child's record as a
missing one, medical detail to those who see it only, bounded offsets, and reads in the read ledger."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_testkit.ledger import ledger_rows
from ddr_testkit.services import Api

from .conftest import Programme, RecordsOfficer, eventually, outcome

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


def scoped(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer, *regions: str) -> Api:
    token = issuer.issue(
        subject="nic-gao", roles=[Role.NIC_OFFICER, Role.RECORDS_OFFICER], regions=list(regions)
    )
    return RecordsOfficer(client, token)


async def test_an_officer_scoped_to_gao_neither_lists_nor_reads_nor_changes_a_kidal_candidate(
    programme: Programme, nic: Api, client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer
) -> None:
    """Finding 9: a CNDDR officer scoped to Gao listed Kidal people in integration."""
    [gao] = await programme.candidates("MNLA", 1, region="Gao")
    [kidal] = await programme.candidates("MNLA", 1, region="Kidal")
    gao_officer = scoped(client, issuer, "Gao")

    listed = (await gao_officer.get("/candidates")).json()["items"]
    read = await gao_officer.get(f"/candidates/{kidal}")
    missing = await gao_officer.get("/candidates/nobody")
    placed = await gao_officer.post(f"/candidates/{kidal}/civil-service", {"destination": "Douanes"})

    assert [row["person_id"] for row in listed] == [gao]
    assert (read.status_code, read.json()["detail"]) == (404, missing.json()["detail"])
    assert placed.status_code == 404
    assert (await nic.get(f"/candidates/{kidal}")).json()["placement"] is None


async def test_a_child_answers_as_a_missing_record_on_reads_and_writes(
    programme: Programme, nic: Api
) -> None:
    """Children rule (sees_children): a child's record answers exactly like a missing one."""
    [child] = await programme.candidates("MNLA", 1)
    await programme.screening.emit(child, outcome(child, "MNLA", track="child_protection"))

    async def gone() -> bool:
        return (await nic.get(f"/candidates/{child}")).status_code == 404

    await eventually(gone, "the child's record closed")
    missing = await nic.get("/candidates/nobody")
    read = await nic.get(f"/candidates/{child}")
    written = await nic.post(f"/candidates/{child}/civil-service", {"destination": "Douanes"})
    unknown_write = await nic.post("/candidates/nobody/civil-service", {"destination": "Douanes"})

    assert (read.status_code, read.json()["detail"]) == (404, missing.json()["detail"])
    assert (written.status_code, written.json()["detail"].replace(child, "ID")) == (
        404,
        unknown_write.json()["detail"].replace("nobody", "ID"),
    )
    assert child not in (await nic.get("/candidates")).text


async def test_a_medical_discharge_kind_is_shown_to_an_auditor_and_not_to_the_nic(
    programme: Programme, nic: Api, client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer
) -> None:
    """Medical detail only to sees_medical_detail: a NIC officer sees that a member was discharged, not why."""
    await programme.quota("2022", 10)
    [member] = await programme.candidates("MNLA", 1, category="civilian_cadre")
    await nic.ok(
        f"/candidates/{member}/civil-service", {"destination": "MFP-list-3", "effective_on": "2022-05-01"}
    )
    await nic.ok(
        "/service-records",
        {
            "entries": [{"person_id": member, "status": "discharged", "discharge_kind": "medical"}],
            "effective_on": "2022-06-01",
        },
    )
    auditor = Api(client, issuer.issue(subject="aud-1", roles=[Role.AUDITOR]))

    to_nic = (await nic.get(f"/candidates/{member}")).json()["service_record"]
    to_auditor = (await auditor.get(f"/candidates/{member}")).json()["service_record"]

    assert [(e["status"], e["discharge_kind"]) for e in to_nic][-1] == ("discharged", None)
    assert [(e["status"], e["discharge_kind"]) for e in to_auditor][-1] == ("discharged", "medical")


async def test_an_offset_beyond_the_bound_is_a_422_naming_the_offset(nic: Api) -> None:
    """Finding 15: offset=1e20 gave a 500 on every list route."""
    answer = await nic.get("/candidates", offset="100000000000000000000")

    assert answer.status_code == 422
    assert [e["field"] for e in answer.json()["errors"]] == ["query.offset"]


async def test_reading_a_candidate_is_recorded_in_the_read_ledger(
    programme: Programme, nic: Api, client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer
) -> None:
    """Finding 15: reads of a person were recorded only for pathway's paths."""
    [person] = await programme.candidates("MNLA", 1)
    auditor = Api(client, issuer.issue(subject="aud-1", roles=[Role.AUDITOR]))
    before = len((await auditor.get(f"/reads/{person}")).json())

    await client.get(f"/candidates/{person}", headers={**nic.headers, "X-Purpose": "rank review"})
    reads = (await auditor.get(f"/reads/{person}")).json()[before:]

    assert [(r["reader"], r["route"], r["purpose"], r["outcome"]) for r in reads] == [
        ("nic-1", "GET /candidates/{person_id}", "rank review", "shown")
    ]


async def test_the_read_ledger_is_told_which_persons_read_are_children_and_an_auditor_sees_a_child_as_unknown(
    app: FastAPI, programme: Programme, nic: Api, client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer
) -> None:
    """Issue 14 review item 4: integration recorded reads without saying which person is a child. A candidate
    read as an adult, then handed to child protection: the ledger marks the read before as an adult's and
    the refusals after as a child's, which an auditor is answered exactly as an id nobody knows."""
    [child] = await programme.candidates("MNLA", 1)
    await nic.get(f"/candidates/{child}")
    await programme.screening.emit(child, outcome(child, "MNLA", track="child_protection"))

    async def gone() -> bool:
        return (await nic.get(f"/candidates/{child}")).status_code == 404

    await eventually(gone, "the child's record closed")
    await nic.get("/candidates/nobody")
    await nic.get(f"/candidates/{child}")
    auditor = Api(client, issuer.issue(subject="aud-2", roles=[Role.AUDITOR]))
    refused = [r for r in (await auditor.get(f"/reads/{child}")).json() if r["outcome"] != "shown"]
    nobody = (await auditor.get("/reads/nobody")).json()

    def shape(rows: list[dict[str, Any]]) -> set[tuple[str, str, str]]:
        return {(r["reader"], r["route"], r["outcome"]) for r in rows}

    assert shape(refused) == shape(nobody) == {("nic-1", "GET /candidates/{person_id}", "not_visible")}
    rows = await ledger_rows(app.state.read_ledger.engine, child)
    assert {told for _, outcome, told in rows if outcome == "shown"} == {False}
    assert rows[-1][1:] == ("not_visible", True)  # the refusal once the record is child protection's
