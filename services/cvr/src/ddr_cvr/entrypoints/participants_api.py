"""Participants of a project: enrolment in batches (answered item by item), the list with names, withdrawal."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from ddr_cvr.domain.participants import Enrolment
from ddr_cvr.entrypoints.dependencies import Reads, Unit
from ddr_cvr.entrypoints.roles import PARTNER_OR_OFFICER, ParticipantReader
from ddr_cvr.entrypoints.schemas import ParticipantBatch, Withdrawal
from ddr_cvr.service_layer import participants
from ddr_runtime.audit.reads import Reads as Ledger
from ddr_runtime.http.paging import Limit, Offset
from ddr_runtime.http.writes import Atomic, BulkAnswer, Command, bulk_answer, json_response

router = APIRouter(tags=["participants"])


@router.post(
    "/projects/{project_id}/participants", response_model=BulkAnswer, dependencies=PARTNER_OR_OFFICER
)
async def enrol(
    project_id: str, body: ParticipantBatch, command: Command, unit: Unit, atomic: Atomic = False
) -> BulkAnswer:
    """Each participant enrolled or refused with its rule (key: the participant id). Give participant ids to
    make a retried batch safe; ``atomic=true`` enrols every participant or none."""
    enrolments = [Enrolment(**p.model_dump()) for p in body.participants]
    outcomes = await participants.enrol_participants(unit, command, project_id, enrolments, atomic=atomic)
    return bulk_answer(
        outcomes, key=lambda index: body.participants[index].participant_id or outcomes[index].result
    )


@router.get("/projects/{project_id}/participants")
async def list_participants(
    project_id: str,
    principal: ParticipantReader,
    reads: Reads,
    ledger: Ledger,
    offset: Offset = 0,
    limit: Limit = 200,
) -> list[dict[str, Any]]:
    """The project's participants with their names and telephones (the partner running it, the CNDDR,
    auditors; committee members read the project's targets instead). Every participant shown is recorded in
    the read ledger, under the participant id and, for an ex-combatant, their registration id."""
    shown = await reads.participants(principal, project_id, offset, limit)
    linked = [p["person_id"] for p in shown if p["person_id"]]
    await ledger.record(
        [p["participant_id"] for p in shown] + linked, children=await reads.children_among(linked)
    )
    return shown


@router.post("/participants/{participant_id}/withdrawal", dependencies=PARTNER_OR_OFFICER)
async def withdraw(participant_id: str, body: Withdrawal, command: Command, unit: Unit) -> Response:
    version = await participants.withdraw_participant(
        unit, command, participant_id, body.withdrawn_on, body.reason
    )
    return json_response(
        {"participant_id": participant_id, "withdrawn_on": body.withdrawn_on}, version=version
    )
