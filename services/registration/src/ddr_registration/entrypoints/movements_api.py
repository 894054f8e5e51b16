"""``/movements``: armed movements, coalitions, and membership over time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from ddr_registration.domain.values import ColumnMapping
from ddr_registration.entrypoints.dependencies import Desk, Reads
from ddr_registration.entrypoints.roles import ListReader, ListSubmitter, MovementReader, Officer
from ddr_registration.entrypoints.schemas import (
    CoalitionJoin,
    CoalitionLeave,
    ImportProfileCreate,
    MovementCreate,
)
from ddr_registration.service_layer import handlers
from ddr_runtime.http.problems import Forbidden
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


@router.post("/{code}/import-profiles", status_code=201)
async def publish_import_profile(
    code: str, body: ImportProfileCreate, principal: ListSubmitter, command: Command, desk: Desk, reads: Reads
) -> Response:
    """How the movement's list files are laid out: the next version of the named profile (the first if new).
    A movement's liaison publishes their own movement's profiles."""
    if not principal.covers_movement(code):
        raise Forbidden("a movement liaison publishes their own movement's profiles only")
    mapping = ColumnMapping(columns=dict(body.columns), values={f: dict(v) for f, v in body.values.items()})
    number = await handlers.publish_import_profile(desk, code, body.name, mapping, command.causation)
    versions = await reads.import_profiles(principal, code, body.name)
    return json_response(
        versions[-1], 201, version=number, location=f"/movements/{code}/import-profiles/{body.name}"
    )


@router.get("/{code}/import-profiles")
async def import_profiles(code: str, principal: ListReader, reads: Reads) -> list[dict[str, Any]]:
    """Every version of every import profile of the movement."""
    return await reads.import_profiles(principal, code)


@router.get("/{code}/import-profiles/{name}")
async def import_profile(code: str, name: str, principal: ListReader, reads: Reads) -> list[dict[str, Any]]:
    """Every version of one import profile, the latest last."""
    return await reads.import_profiles(principal, code, name)
