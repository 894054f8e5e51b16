"""Participants of a project: enrolment (in batches), the list with names, withdrawal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from ddr_cvr.domain.participants import Enrolment
from ddr_cvr.entrypoints.http_support import json_response
from ddr_cvr.entrypoints.schemas import ParticipantBatch, Withdrawal
from ddr_cvr.service_layer import handlers, queries
from ddr_cvr.service_layer.unit import Cvr
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import Causation

PartnerOrOfficer = Annotated[Principal, Depends(require_roles(Role.CVR_PARTNER, Role.CNDDR_OFFICER))]
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.CVR_PARTNER, Role.COMMITTEE_MEMBER, Role.CNDDR_OFFICER, Role.AUDITOR)),
]


def participants_router(cvr: Cvr) -> APIRouter:
    router = APIRouter(tags=["participants"])

    @router.post("/projects/{project_id}/participants", status_code=201)
    async def enrol(project_id: str, body: ParticipantBatch, principal: PartnerOrOfficer) -> Response:
        await queries.check_may_edit(cvr, principal, project_id)
        enrolments = [Enrolment(**p.model_dump()) for p in body.participants]
        ids = await handlers.enrol_participants(cvr, project_id, enrolments, Causation(principal.subject))
        return json_response({"project_id": project_id, "participant_ids": ids}, 201)

    @router.get("/projects/{project_id}/participants")
    async def list_participants(
        project_id: str,
        principal: Reader,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        return await queries.project_participants(cvr, principal, project_id, offset, limit)

    @router.post("/participants/{participant_id}/withdrawal")
    async def withdraw(participant_id: str, body: Withdrawal, principal: PartnerOrOfficer) -> Response:
        project_id = await queries.participant_project(cvr, participant_id)
        await queries.check_may_edit(cvr, principal, project_id)
        version = await handlers.withdraw_participant(
            cvr, participant_id, body.withdrawn_on, body.reason, Causation(principal.subject)
        )
        return json_response(
            {"participant_id": participant_id, "withdrawn_on": body.withdrawn_on}, version=version
        )

    return router
