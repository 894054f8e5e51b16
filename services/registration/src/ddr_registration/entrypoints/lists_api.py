"""``/lists``: a movement's certified list, uploaded as a file, versioned, certified and endorsed."""

from __future__ import annotations

import dataclasses
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, UploadFile
from starlette.responses import Response

from ddr_registration.entrypoints.dependencies import Desk, Reads
from ddr_registration.entrypoints.roles import (
    ENDORSING_ROLE,
    ListCertifier,
    ListEndorser,
    ListReader,
    ListSubmitter,
)
from ddr_registration.entrypoints.schemas import Dated, Endorsement
from ddr_registration.service_layer import handlers
from ddr_registration.service_layer.importing import ProfileChoice, import_list
from ddr_runtime.auth.roles import Principal
from ddr_runtime.http.problems import BadRequest, DomainRuleViolated, Forbidden
from ddr_runtime.http.writes import Command, ExpectedVersion, json_response

UPLOAD_CHUNK = 1024 * 1024

router = APIRouter(prefix="/lists", tags=["lists"])


@router.post("", status_code=201)
async def upload_list(
    file: UploadFile,
    movement: Annotated[str, Query(min_length=1, max_length=40)],
    principal: ListSubmitter,
    command: Command,
    desk: Desk,
    reject_whole: bool = False,
    on: Annotated[
        date | datetime | None,
        Query(
            description="When the movement submitted the list (its members are pre-registered then); now if left out"
        ),
    ] = None,
    profile: Annotated[
        str | None, Query(max_length=60, description="The movement's import profile to read the file with")
    ] = None,
    profile_version: Annotated[
        int | None, Query(ge=1, description="Its version (the latest if left out)")
    ] = None,
) -> Response:
    """Import a CSV or XLSX list as the movement's next list version; each row gets its status.

    201 with the report (columns nothing read, serials declared before on any list, identity documents issued
    days before); 200 if this file was already imported (nothing changes); 422 with the report when
    ``reject_whole`` and a row is bad (nothing is written)."""
    if not principal.covers_movement(movement):
        raise Forbidden("a movement liaison submits their own movement's list only")
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise BadRequest("the list file must be .csv or .xlsx")
    with tempfile.TemporaryDirectory(prefix="ddr-list-") as folder:
        path = Path(folder) / f"upload{suffix}"
        with path.open("wb") as target:
            while chunk := await file.read(UPLOAD_CHUNK):
                target.write(chunk)
        report = await import_list(
            desk,
            path,
            movement,
            command.causation,
            reject_whole=reject_whole,
            recording=command.recording,
            on=on,
            profile=ProfileChoice(profile, profile_version) if profile else None,
        )
    body = _as_seen_by(principal, dataclasses.asdict(report))
    if report.status == "rejected":
        raise DomainRuleViolated(
            "list-file-has-bad-rows",
            f"{report.rows_rejected} row(s) are bad: nothing was imported",
            extensions={"report": body},
        )
    location = f"/lists/{report.list_id}/versions/{report.list_version}/report"
    return json_response(body, 201 if report.status == "accepted" else 200, location=location)


def _as_seen_by(principal: Principal, report: dict[str, Any]) -> dict[str, Any]:
    """The report, with another movement's rows that declared the same serial named only by their movement
    for a movement liaison (another movement's lists are not theirs to read)."""
    for repeat in report["serial_repeats"]:
        repeat["declared_also"] = [
            row
            if principal.covers_movement(row["movement"])
            else {"serial": row["serial"], "movement": row["movement"]}
            for row in repeat["declared_also"]
        ]
    return report


@router.get("")
async def list_lists(principal: ListReader, reads: Reads) -> list[dict[str, Any]]:
    return await reads.list_lists(principal)


@router.get("/{list_id}")
async def get_list(list_id: str, principal: ListReader, reads: Reads) -> Response:
    found = await reads.get_list(principal, list_id)
    return json_response(found, version=found["version"])


@router.get("/{list_id}/history")
async def list_history(list_id: str, principal: ListReader, reads: Reads) -> list[dict[str, Any]]:
    return await reads.list_history(principal, list_id)


@router.get("/{list_id}/versions/{number}/report")
async def list_report(
    list_id: str,
    number: int,
    principal: ListReader,
    reads: Reads,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[dict[str, Any]]:
    return await reads.list_report(principal, list_id, number, offset, limit)


@router.post("/{list_id}/versions/{number}/certification")
async def certify(
    list_id: str,
    number: int,
    principal: ListCertifier,
    command: Command,
    version: ExpectedVersion,
    desk: Desk,
    reads: Reads,
    body: Dated | None = None,
) -> Response:
    await reads.get_list(principal, list_id)  # 404 for another movement's list
    on = body.on if body is not None else None
    new_version = await handlers.certify_list(
        desk, list_id, number, version, command.causation, command.recording, on
    )
    return json_response(await reads.get_list(principal, list_id), version=new_version)


@router.post("/{list_id}/versions/{number}/endorsements")
async def endorse(
    list_id: str,
    number: int,
    body: Endorsement,
    principal: ListEndorser,
    command: Command,
    version: ExpectedVersion,
    desk: Desk,
    reads: Reads,
) -> Response:
    if not principal.has_role(ENDORSING_ROLE[body.body]):
        raise Forbidden(f"only a {body.body} officer endorses for the {body.body}")
    new_version = await handlers.endorse_list(
        desk, list_id, number, body.body, version, command.causation, command.recording, body.on
    )
    return json_response(await reads.get_list(principal, list_id), version=new_version)
