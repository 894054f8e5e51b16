"""``/movements``: armed movements, coalitions, and membership over time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ddr_registration.entrypoints.http_support import (
    ExpectedVersion,
    IdempotencyKey,
    idempotent,
    json_response,
)
from ddr_registration.entrypoints.schemas import CoalitionJoin, CoalitionLeave, MovementCreate
from ddr_registration.service_layer import handlers, queries
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.http.idempotency import IdempotencyStore

Officer = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER))]
Reader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.CNDDR_OFFICER, Role.CTS_OFFICER, Role.NIC_OFFICER, Role.AUDITOR, Role.MOVEMENT_LIAISON
        )
    ),
]


def movements_router(reg: Registration, keys: IdempotencyStore) -> APIRouter:
    router = APIRouter(prefix="/movements", tags=["movements"])

    @router.post("", status_code=201)
    async def register_movement(
        body: MovementCreate, principal: Officer, request: Request, key: IdempotencyKey = None
    ) -> Response:
        async def run() -> Any:
            version = await handlers.register_movement(
                reg, body.code, body.display_name, body.kind, Causation(actor=principal.subject)
            )
            return json_response(await queries.get_movement(reg, body.code), 201, version)

        return await idempotent(keys, principal, key, request, body.model_dump_json(), run)

    @router.get("")
    async def list_movements(_principal: Reader) -> list[dict[str, Any]]:
        return await queries.list_movements(reg)

    @router.get("/{code}")
    async def get_movement(code: str, _principal: Reader) -> Response:
        movement = await queries.get_movement(reg, code)
        return json_response(movement, version=movement["version"])

    @router.post("/{code}/coalitions")
    async def join_coalition(
        code: str, body: CoalitionJoin, principal: Officer, version: ExpectedVersion
    ) -> Response:
        new_version = await handlers.join_coalition(
            reg, code, body.coalition, body.since, version, Causation(actor=principal.subject)
        )
        return json_response(await queries.get_movement(reg, code), version=new_version)

    @router.post("/{code}/coalitions/{coalition}/end")
    async def leave_coalition(
        code: str, coalition: str, body: CoalitionLeave, principal: Officer, version: ExpectedVersion
    ) -> Response:
        new_version = await handlers.leave_coalition(
            reg, code, coalition, body.until, version, Causation(actor=principal.subject)
        )
        return json_response(await queries.get_movement(reg, code), version=new_version)

    return router
