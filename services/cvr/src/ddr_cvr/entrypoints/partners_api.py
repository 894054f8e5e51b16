"""``/partners``: local NGOs and consortia, their capacity assessments and history."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.responses import Response

from ddr_cvr.domain.errors import UnknownRecord
from ddr_cvr.domain.partners import Capacity
from ddr_cvr.entrypoints.http_support import ExpectedVersion, json_response
from ddr_cvr.entrypoints.schemas import CapacityAssessment, ConsortiumCreate, NgoCreate
from ddr_cvr.service_layer import handlers, queries
from ddr_cvr.service_layer.unit import Cvr
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import Causation

Officer = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER))]
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.CNDDR_OFFICER, Role.AUDITOR, Role.COMMITTEE_MEMBER, Role.CVR_PARTNER)),
]


def _may_read(principal: Principal, partner: dict[str, Any]) -> bool:
    """A partner reads its own record, and a consortium's it belongs to."""
    if Role.CVR_PARTNER not in principal.roles:
        return True
    return principal.partner == partner["partner_id"] or principal.partner in partner["member_partner_ids"]


def partners_router(cvr: Cvr) -> APIRouter:
    router = APIRouter(prefix="/partners", tags=["partners"])

    @router.post("/ngos", status_code=201)
    async def register_ngo(body: NgoCreate, principal: Officer) -> Response:
        version = await handlers.register_ngo(
            cvr,
            body.partner_id,
            body.display_name,
            body.regions,
            body.registered_on,
            Causation(principal.subject),
        )
        return json_response(await queries.get_partner(cvr, body.partner_id), 201, version)

    @router.post("/consortia", status_code=201)
    async def form_consortium(body: ConsortiumCreate, principal: Officer) -> Response:
        version = await handlers.form_consortium(
            cvr,
            body.partner_id,
            body.display_name,
            body.lead_partner_id,
            body.member_partner_ids,
            body.regions,
            body.registered_on,
            Causation(principal.subject),
        )
        return json_response(await queries.get_partner(cvr, body.partner_id), 201, version)

    @router.post("/{partner_id}/capacity-assessments")
    async def assess_capacity(
        partner_id: str, body: CapacityAssessment, principal: Officer, version: ExpectedVersion
    ) -> Response:
        new_version = await handlers.assess_capacity(
            cvr, partner_id, Capacity(**body.model_dump()), version, Causation(principal.subject)
        )
        return json_response(await queries.get_partner(cvr, partner_id), version=new_version)

    @router.get("")
    async def list_partners(
        principal: Annotated[
            Principal, Depends(require_roles(Role.CNDDR_OFFICER, Role.AUDITOR, Role.COMMITTEE_MEMBER))
        ],
    ) -> list[dict[str, Any]]:
        return await queries.list_partners(cvr)

    @router.get("/{partner_id}")
    async def get_partner(partner_id: str, principal: Reader) -> Response:
        partner = await queries.get_partner(cvr, partner_id)
        if not _may_read(principal, partner):
            raise UnknownRecord("partner", partner_id)
        return json_response(partner, version=partner["version"])

    @router.get("/{partner_id}/history")
    async def partner_history(partner_id: str, principal: Reader) -> list[dict[str, Any]]:
        if not _may_read(principal, await queries.get_partner(cvr, partner_id)):
            raise UnknownRecord("partner", partner_id)
        return await queries.partner_history(cvr, partner_id)

    return router
