"""``/partners``: local NGOs and consortia, their capacity assessments and history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from ddr_cvr.domain.partners import Capacity
from ddr_cvr.entrypoints.dependencies import Reads, Unit
from ddr_cvr.entrypoints.roles import OFFICER, PartnerLister, Reader
from ddr_cvr.entrypoints.schemas import CapacityAssessment, ConsortiumCreate, NgoCreate
from ddr_cvr.service_layer import handlers
from ddr_cvr.service_layer.access import may_read_partner
from ddr_runtime.auth.roles import Principal
from ddr_runtime.http.writes import Command, MaybeExpectedVersion, json_response
from ddr_runtime.kernel import UnknownRecord

router = APIRouter(prefix="/partners", tags=["partners"])


async def _readable(reads: Reads, principal: Principal, partner_id: str) -> dict[str, Any]:
    partner = await reads.partner(partner_id)
    if not may_read_partner(principal, partner_id, partner["member_partner_ids"]):
        raise UnknownRecord("partner", partner_id)
    return partner


@router.post("/ngos", status_code=201, dependencies=OFFICER)
async def register_ngo(body: NgoCreate, command: Command, unit: Unit, reads: Reads) -> Response:
    version = await handlers.register_ngo(
        unit, command, body.partner_id, body.display_name, body.regions, body.registered_on
    )
    partner = await reads.partner(body.partner_id)
    return json_response(partner, 201, version=version, location=f"/partners/{body.partner_id}")


@router.post("/consortia", status_code=201, dependencies=OFFICER)
async def form_consortium(body: ConsortiumCreate, command: Command, unit: Unit, reads: Reads) -> Response:
    version = await handlers.form_consortium(
        unit,
        command,
        body.partner_id,
        body.display_name,
        body.lead_partner_id,
        body.member_partner_ids,
        body.regions,
        body.registered_on,
    )
    partner = await reads.partner(body.partner_id)
    return json_response(partner, 201, version=version, location=f"/partners/{body.partner_id}")


@router.post("/{partner_id}/capacity-assessments", dependencies=OFFICER)
async def assess_capacity(
    partner_id: str,
    body: CapacityAssessment,
    command: Command,
    unit: Unit,
    reads: Reads,
    expected: MaybeExpectedVersion,
) -> Response:
    capacity = Capacity(**body.model_dump())
    version = await handlers.assess_capacity(unit, command, partner_id, capacity, expected)
    return json_response(await reads.partner(partner_id), version=version)


@router.get("")
async def list_partners(_: PartnerLister, reads: Reads) -> list[dict[str, Any]]:
    return await reads.partners()


@router.get("/{partner_id}")
async def get_partner(partner_id: str, principal: Reader, reads: Reads) -> Response:
    partner = await _readable(reads, principal, partner_id)
    return json_response(partner, version=partner["version"])


@router.get("/{partner_id}/history")
async def partner_history(partner_id: str, principal: Reader, reads: Reads) -> list[dict[str, Any]]:
    await _readable(reads, principal, partner_id)
    return await reads.partner_history(partner_id)
