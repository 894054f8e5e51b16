"""``/lists``: a movement's certified list, uploaded as a file, versioned, certified and endorsed."""

from __future__ import annotations

import dataclasses
import re
import tempfile
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, UploadFile
from starlette.responses import Response

from ddr_registration.entrypoints.dependencies import Desk, Reads
from ddr_registration.entrypoints.ledger import Ledger, shown
from ddr_registration.entrypoints.roles import (
    ENDORSING_ROLE,
    ListCertifier,
    ListEndorser,
    ListReader,
    ListSubmitter,
    UploadWatcher,
)
from ddr_registration.entrypoints.schemas import Dated, Endorsement
from ddr_registration.service_layer import handlers
from ddr_registration.service_layer.importing import ProfileChoice, import_list
from ddr_registration.service_layer.ports import SMALL_LIST_ROWS, UploadAllowance
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.http.limits import body_limit
from ddr_runtime.http.paging import Limit, Offset
from ddr_runtime.http.problems import (
    PROBLEM_CONTENT,
    BadRequest,
    ContentTooLarge,
    DomainRuleViolated,
    Forbidden,
    TooManyRequests,
)
from ddr_runtime.http.writes import Command, ExpectedVersion, json_response

UPLOAD_CHUNK = 1024 * 1024
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
"""A list file: a 100,000-row CSV is about 25 MiB (the app's bound on other bodies is 2 MiB)."""
MAX_PROBLEMS_SHOWN = 100
"""Refused rows named in an upload's answer; the rest are counted (``problems_not_shown``) and all are in
the version's report."""
UPLOAD_ANSWERS: dict[int | str, dict[str, Any]] = {
    413: {"description": "Content Too Large: the file is over its bound", "content": PROBLEM_CONTENT},
    429: {
        "description": "Too Many Requests: this liaison's small uploads are used up",
        "content": PROBLEM_CONTENT,
    },
}

router = APIRouter(prefix="/lists", tags=["lists"])


@router.post("", status_code=201, responses=UPLOAD_ANSWERS, dependencies=[body_limit(MAX_UPLOAD_BYTES)])
async def upload_list(
    request: Request,
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
    if principal.regions:
        raise Forbidden("a list is the movement's, in every region: submitted by a caller of every region")
    suffix = Path(file.filename or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise BadRequest("the list file must be .csv or .xlsx")
    liaison = principal.has_role(Role.MOVEMENT_LIAISON)
    allowances: UploadAllowance = request.app.state.upload_allowances
    if liaison:
        wait = await allowances.take(principal.subject, movement)
        if wait is not None:
            raise TooManyRequests(
                "this liaison's small list uploads are used up for now; the CNDDR sees them",
                headers={"Retry-After": str(wait)},
            )
    small = True
    try:
        with tempfile.TemporaryDirectory(prefix="ddr-list-") as folder:
            path = Path(folder) / f"upload{suffix}"
            await _save(file, path)
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
        small = report.status != "already-imported" and report.rows_total < SMALL_LIST_ROWS
    finally:
        if liaison:
            await allowances.settle(principal.subject, small=small)
    body = _without_row_values(_bounded(_as_seen_by(principal, dataclasses.asdict(report))))
    if report.status == "rejected":
        raise DomainRuleViolated(
            "list-file-has-bad-rows",
            f"{report.rows_rejected} row(s) are bad: nothing was imported",
            extensions={"report": body},
        )
    location = f"/lists/{report.list_id}/versions/{report.list_version}/report"
    return json_response(body, 201 if report.status == "accepted" else 200, location=location)


async def _save(file: UploadFile, path: Path) -> None:
    written = 0
    with path.open("wb") as target:
        while chunk := await file.read(UPLOAD_CHUNK):
            written += len(chunk)
            if written > MAX_UPLOAD_BYTES:
                raise ContentTooLarge(f"a list file is at most {MAX_UPLOAD_BYTES // (1024 * 1024)} MiB")
            target.write(chunk)


def _as_seen_by(principal: Principal, report: dict[str, Any]) -> dict[str, Any]:
    """The report as the caller may read it. A movement liaison's answer holds nothing about another
    movement: no count of suspected duplicates (the CNDDR resolves them, across movements), and no row of
    another movement's list that declared the same serial."""
    if not principal.has_role(Role.MOVEMENT_LIAISON):
        return report
    report["duplicates_suspected"] = None
    repeats = []
    for repeat in report["serial_repeats"]:
        repeat["declared_also"] = [
            row for row in repeat["declared_also"] if principal.covers_movement(row["movement"])
        ]
        if repeat["declared_also"]:
            repeats.append(repeat)
    report["serial_repeats"] = repeats
    return report


def _bounded(report: dict[str, Any]) -> dict[str, Any]:
    """At most ``MAX_PROBLEMS_SHOWN`` refused rows named; how many more there are."""
    problems = report["problems"]
    report["problems"] = problems[:MAX_PROBLEMS_SHOWN]
    report["problems_not_shown"] = max(0, len(problems) - MAX_PROBLEMS_SHOWN)
    return report


@router.get("/upload-activity")
async def upload_activity(_: UploadWatcher, request: Request) -> list[dict[str, Any]]:
    """Each movement liaison's small list uploads (fewer than 20 rows) and those refused once their
    allowance was used up: repeated small uploads are how someone would probe who is on file."""
    allowances: UploadAllowance = request.app.state.upload_allowances
    return await allowances.activity()


def _without_row_values(report: dict[str, Any]) -> dict[str, Any]:
    """The report as answered (and stored as the idempotent answer): line numbers, columns and reasons, no
    value of any row (a refused row's reason without the value it quotes: the list's report keeps it, sealed,
    for the uploader; no serial, as a serial ties a weapon to a person)."""
    report["problems"] = [
        {**problem, "reason": _without_values(problem["reason"])} for problem in report["problems"]
    ]
    report["serial_repeats"] = [
        {
            "line": repeat["line"],
            "declared_also": [
                {key: value for key, value in row.items() if key != "serial"}
                for row in repeat["declared_also"]
            ],
        }
        for repeat in report["serial_repeats"]
    ]
    return report


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


def _without_values(reason: str) -> str:
    """A row's reason with the values it quotes (``sex: 'X' is not F or M``) left out."""
    return _QUOTED.sub("the value", reason)


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
    ledger: Ledger,
    offset: Offset = 0,
    limit: Limit = 200,
) -> list[dict[str, Any]]:
    return await shown(reads, ledger, await reads.list_report(principal, list_id, number, offset, limit))


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
