"""Candidates: their record, acceptance, rank and its disputes, placement outside units, service records."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ddr_integration.domain.candidates import ServiceEntry
from ddr_integration.entrypoints import schemas as s
from ddr_integration.entrypoints.deps import Integ, shown_to, visible_candidate
from ddr_integration.entrypoints.roles import DisputeRaiser, Nic, PersonReader
from ddr_integration.service_layer import candidacy, ranks, service_record
from ddr_integration.service_layer.context import Integration
from ddr_integration.service_layer.placements import place_outside_units
from ddr_runtime.audit.reads import ReadOutcome, ReadRecorder, Reads
from ddr_runtime.auth.roles import Role
from ddr_runtime.eventstore.ports import CommandContext
from ddr_runtime.http.paging import Limit, Offset
from ddr_runtime.http.problems import Problem
from ddr_runtime.http.writes import (
    Atomic,
    BulkAnswer,
    Command,
    MaybeExpectedVersion,
    bulk_answer,
    json_response,
)

router = APIRouter(tags=["candidates"])


async def _record(integ: Integ, command: CommandContext, person_id: str, version: int) -> JSONResponse:
    """A write's answer: the record as the writer may see it, read at ``Content-Location`` on a replay."""
    view = await integ.views.candidate(person_id)
    body = None if view is None else shown_to(command.principal, view)
    return json_response(body, version=version, content_location=f"/candidates/{person_id}")


async def read_of(
    integ: Integration, reads: ReadRecorder, person_ids: list[str], outcome: ReadOutcome = "shown"
) -> None:
    """The read of ``person_ids`` in the read ledger, saying which of them are children."""
    await reads.record(person_ids, outcome, children=await integ.views.children_among(person_ids))


@router.get("/candidates")
async def list_candidates(
    integ: Integ,
    principal: PersonReader,
    reads: Reads,
    movement: str | None = None,
    status: str | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> dict[str, Any]:
    """Candidates the caller may see: a movement's liaison its movement's, a caller narrowed to regions those
    regions' (whatever the query asks); never a child. Each one listed is recorded in the read ledger."""
    if Role.MOVEMENT_LIAISON in principal.roles:
        movement = principal.movement
    rows = await integ.views.candidates(
        movement=movement, status=status, regions=principal.regions, limit=limit, offset=offset
    )
    await read_of(integ, reads, [row["person_id"] for row in rows])
    return {"items": rows, "limit": limit, "offset": offset}


@router.get("/candidates/{person_id}")
async def get_candidate(person_id: str, integ: Integ, principal: PersonReader, reads: Reads) -> JSONResponse:
    """The candidate's record; its ``ETag`` is the version to send as ``If-Match`` with a decision on it."""
    try:
        view = await visible_candidate(integ, principal, person_id)
    except Problem:
        await read_of(integ, reads, [person_id], "not_visible")
        raise
    await read_of(integ, reads, [person_id])
    return json_response(view, version=view["version"])


@router.post("/candidates/{person_id}/acceptance")
async def accept(
    person_id: str, body: s.AcceptBody, integ: Integ, _: Nic, command: Command, expected: MaybeExpectedVersion
) -> JSONResponse:
    version = await candidacy.accept_candidate(integ, person_id, body.effective_on, command, expected)
    return await _record(integ, command, person_id, version)


@router.post("/candidates/{person_id}/rank")
async def allocate_rank(
    person_id: str, body: s.RankBody, integ: Integ, _: Nic, command: Command, expected: MaybeExpectedVersion
) -> JSONResponse:
    request = ranks.RankRequest(person_id, body.years_of_service, body.qualification)
    version = await ranks.allocate_rank(integ, request, body.effective_on, command, expected)
    return await _record(integ, command, person_id, version)


@router.post("/rank-allocations", response_model=BulkAnswer)
async def allocate_ranks(
    body: s.RankAllocationsBody, integ: Integ, _: Nic, command: Command, atomic: Atomic = False
) -> BulkAnswer:
    """An allocation order listing many members: each answered with their rank, or the rule refusing them."""
    requests = [ranks.RankRequest(e.person_id, e.years_of_service, e.qualification) for e in body.entries]
    outcomes = await ranks.allocate_ranks(integ, requests, body.effective_on, command, atomic=atomic)
    return bulk_answer(outcomes, key=lambda index: requests[index].person_id)


@router.post("/candidates/{person_id}/rank-disputes", status_code=201)
async def dispute(
    person_id: str, body: s.DisputeBody, integ: Integ, principal: DisputeRaiser, command: Command
) -> JSONResponse:
    await visible_candidate(integ, principal, person_id)
    claim = (body.claimed_rank, body.claimed_command_function, body.grounds_code)
    dispute_id = await ranks.dispute_rank(integ, person_id, claim, body.effective_on, command)
    return json_response({"dispute_id": dispute_id}, 201, location=f"/candidates/{person_id}")


@router.post("/rank-disputes/{dispute_id}/decision")
async def decide(
    dispute_id: str, body: s.DisputeDecisionBody, integ: Integ, _: Nic, command: Command
) -> dict[str, str]:
    await ranks.decide_dispute(integ, dispute_id, body.outcome, body.decision_ref, body.effective_on, command)
    return {"dispute_id": dispute_id, "outcome": body.outcome}


async def _place(
    integ: Integ,
    person_id: str,
    path: str,
    body: s.PlacementBody,
    command: CommandContext,
    expected: int | None,
) -> JSONResponse:
    version = await place_outside_units(
        integ, person_id, path, body.destination, body.effective_on, command, expected
    )
    return await _record(integ, command, person_id, version)


@router.post("/candidates/{person_id}/recall")
async def recall(
    person_id: str,
    body: s.PlacementBody,
    integ: Integ,
    _: Nic,
    command: Command,
    expected: MaybeExpectedVersion,
) -> JSONResponse:
    """A former member of the armed forces recalled to their original corps (``destination``)."""
    return await _place(integ, person_id, "armed_forces_recall", body, command, expected)


@router.post("/candidates/{person_id}/civil-service")
async def civil_service(
    person_id: str,
    body: s.PlacementBody,
    integ: Integ,
    _: Nic,
    command: Command,
    expected: MaybeExpectedVersion,
) -> JSONResponse:
    """A civilian cadre put on a civil-service integration list (``destination``)."""
    return await _place(integ, person_id, "civil_service", body, command, expected)


@router.post("/service-records", response_model=BulkAnswer)
async def service_records(
    body: s.ServiceEntriesBody, integ: Integ, _: Nic, command: Command, atomic: Atomic = False
) -> BulkAnswer:
    """Service-record entries (desertion, absence, return, discharge), each answered on its own."""
    entries = [
        ServiceEntry(e.person_id, e.status, body.effective_on, e.discharge_kind, e.referred_to_reinsertion)
        for e in body.entries
    ]
    outcomes = await service_record.record_entries(integ, entries, command, atomic=atomic)
    return bulk_answer(outcomes, key=lambda index: entries[index].person_id)
