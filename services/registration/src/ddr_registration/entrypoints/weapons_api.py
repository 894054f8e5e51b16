"""``/weapons``: the register of weapons and ammunition handed over, with receipts and custody."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from ddr_registration.domain.weapons import HandOver, normalise_serial
from ddr_registration.entrypoints.http_support import (
    ExpectedVersion,
    IdempotencyKey,
    idempotent,
    json_response,
)
from ddr_registration.entrypoints.schemas import CustodyTransfer, WeaponHandOver
from ddr_registration.service_layer import handlers, queries
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.http.idempotency import IdempotencyStore

Recorder = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER, Role.CTS_OFFICER))]
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.CNDDR_OFFICER, Role.CTS_OFFICER, Role.AUDITOR, Role.MOVEMENT_LIAISON)),
]


def weapons_router(reg: Registration, keys: IdempotencyStore) -> APIRouter:
    router = APIRouter(prefix="/weapons", tags=["weapons"])

    @router.post("", status_code=201)
    async def hand_over(
        body: WeaponHandOver, principal: Recorder, request: Request, key: IdempotencyKey = None
    ) -> Response:
        """Record a weapon or lot handed over; the answer carries the receipt (given to everyone, eligible
        or not) and whether the serial was already handed over."""

        async def run() -> Any:
            await queries.get_person(reg, principal, body.person_id)
            item = HandOver(**body.model_dump(exclude={"person_id"}))
            done = await handlers.hand_over_weapon(
                reg, body.person_id, item, Causation(actor=principal.subject)
            )
            return json_response(await queries.get_weapon(reg, principal, done.weapon_id), 201, done.version)

        return await idempotent(keys, principal, key, request, body.model_dump_json(), run)

    @router.get("")
    async def list_weapons(
        principal: Reader,
        serial: str | None = None,
        person_id: str | None = None,
        flagged: bool | None = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        return await queries.list_weapons(
            reg,
            principal,
            serial_key=normalise_serial(serial) if serial else None,
            person_id=person_id,
            flagged=flagged,
            offset=offset,
            limit=limit,
        )

    @router.get("/{weapon_id}")
    async def get_weapon(weapon_id: str, principal: Reader) -> Response:
        weapon = await queries.get_weapon(reg, principal, weapon_id)
        return json_response(weapon, version=weapon["version"])

    @router.post("/{weapon_id}/custody-transfers")
    async def transfer_custody(
        weapon_id: str, body: CustodyTransfer, principal: Recorder, version: ExpectedVersion
    ) -> Response:
        """A custody transfer, signed by the side releasing the weapon and the side receiving it."""
        await queries.get_weapon(reg, principal, weapon_id)
        new_version = await handlers.transfer_custody(
            reg,
            weapon_id,
            body.from_custodian,
            body.to_custodian,
            body.released_by,
            body.received_by,
            version,
            Causation(actor=principal.subject),
        )
        return json_response(await queries.get_weapon(reg, principal, weapon_id), version=new_version)

    return router
