"""``/weapons``: the register of weapons and ammunition handed over, with receipts and custody."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from ddr_registration.domain.weapons import HandOver
from ddr_registration.entrypoints.dependencies import Desk, Reads
from ddr_registration.entrypoints.roles import WeaponReader, WeaponRecorder
from ddr_registration.entrypoints.schemas import CustodyTransfer, WeaponHandOver
from ddr_registration.service_layer import handlers
from ddr_runtime.http.writes import Command, ExpectedVersion, json_response

router = APIRouter(prefix="/weapons", tags=["weapons"])


@router.post("", status_code=201)
async def hand_over(
    body: WeaponHandOver, principal: WeaponRecorder, command: Command, desk: Desk, reads: Reads
) -> Response:
    """Record a weapon or lot handed over; the answer carries the receipt (given to everyone, eligible
    or not) and whether the serial was already handed over."""
    await reads.get_person(principal, body.person_id)
    item = HandOver(**body.model_dump(exclude={"person_id", "on"}))
    done = await handlers.hand_over_weapon(
        desk, body.person_id, item, command.causation, command.recording, body.on
    )
    return json_response(
        await reads.get_weapon(principal, done.weapon_id),
        201,
        version=done.version,
        location=f"/weapons/{done.weapon_id}",
    )


@router.get("")
async def list_weapons(
    principal: WeaponReader,
    reads: Reads,
    serial: str | None = None,
    person_id: str | None = None,
    flagged: bool | None = None,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    return await reads.list_weapons(
        principal, serial=serial, person_id=person_id, flagged=flagged, offset=offset, limit=limit
    )


@router.get("/{weapon_id}")
async def get_weapon(weapon_id: str, principal: WeaponReader, reads: Reads) -> Response:
    weapon = await reads.get_weapon(principal, weapon_id)
    return json_response(weapon, version=weapon["version"])


@router.post("/{weapon_id}/custody-transfers")
async def transfer_custody(
    weapon_id: str,
    body: CustodyTransfer,
    principal: WeaponRecorder,
    command: Command,
    version: ExpectedVersion,
    desk: Desk,
    reads: Reads,
) -> Response:
    """A custody transfer, signed by the side releasing the weapon and the side receiving it."""
    await reads.get_weapon(principal, weapon_id)
    new_version = await handlers.transfer_custody(
        desk,
        weapon_id,
        body.from_custodian,
        body.to_custodian,
        body.released_by,
        body.received_by,
        version,
        command.causation,
        command.recording,
        body.on,
    )
    return json_response(await reads.get_weapon(principal, weapon_id), version=new_version)
