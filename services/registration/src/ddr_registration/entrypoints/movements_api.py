"""``/movements``: armed movements, coalitions, and membership over time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from ddr_registration.entrypoints.dependencies import Desk, Reads
from ddr_registration.entrypoints.roles import MovementReader, Officer
from ddr_registration.entrypoints.schemas import CoalitionJoin, CoalitionLeave, MovementCreate
from ddr_registration.service_layer import handlers
from ddr_runtime.http.writes import Command, ExpectedVersion, json_response

router = APIRouter(prefix="/movements", tags=["movements"])


@router.post("", status_code=201)
async def register_movement(
    body: MovementCreate, _: Officer, command: Command, desk: Desk, reads: Reads
) -> Response:
    version = await handlers.register_movement(
        desk, body.code, body.display_name, body.kind, command.causation
    )
    return json_response(
        await reads.get_movement(body.code), 201, version=version, location=f"/movements/{body.code}"
    )


@router.get("")
async def list_movements(_: MovementReader, reads: Reads) -> list[dict[str, Any]]:
    return await reads.list_movements()


@router.get("/{code}")
async def get_movement(code: str, _: MovementReader, reads: Reads) -> Response:
    movement = await reads.get_movement(code)
    return json_response(movement, version=movement["version"])


@router.post("/{code}/coalitions")
async def join_coalition(
    code: str,
    body: CoalitionJoin,
    _: Officer,
    command: Command,
    version: ExpectedVersion,
    desk: Desk,
    reads: Reads,
) -> Response:
    """Membership from ``since``: a date older than the back-recording window needs the records officer's
    role and a Back-Recording-Reason."""
    new_version = await handlers.join_coalition(
        desk, code, body.coalition, body.since, version, command.causation, command.recording
    )
    return json_response(await reads.get_movement(code), version=new_version)


@router.post("/{code}/coalitions/{coalition}/end")
async def leave_coalition(
    code: str,
    coalition: str,
    body: CoalitionLeave,
    _: Officer,
    command: Command,
    version: ExpectedVersion,
    desk: Desk,
    reads: Reads,
) -> Response:
    new_version = await handlers.leave_coalition(
        desk, code, coalition, body.until, version, command.causation, command.recording
    )
    return json_response(await reads.get_movement(code), version=new_version)
