"""``/duplicates``: the queue of suspected duplicate identities, and their resolution."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from starlette.responses import Response

from ddr_registration.entrypoints.dependencies import Desk, Reads
from ddr_registration.entrypoints.ledger import Ledger, shown
from ddr_registration.entrypoints.roles import DuplicateReader, Officer
from ddr_registration.entrypoints.schemas import DuplicateResolution
from ddr_registration.service_layer import handlers
from ddr_runtime.http.paging import Limit, Offset
from ddr_runtime.http.writes import Command, ExpectedVersion, json_response

router = APIRouter(prefix="/duplicates", tags=["duplicates"])


@router.get("")
async def duplicate_queue(
    principal: DuplicateReader,
    reads: Reads,
    ledger: Ledger,
    status: Literal["open", "merged", "distinct"] | None = "open",
    certain: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """The queue, with each case's reasons as codes and, for the caller who may see both people, as
    sentences quoting their names. ``certain=true``: only cases proved by a shared biometric."""
    found = await reads.list_duplicates(principal, status, offset, limit, certain=certain)
    return await shown(reads, ledger, found, "person_id", "other_person_id")


@router.get("/{case_id}")
async def get_duplicate(case_id: str, principal: DuplicateReader, reads: Reads, ledger: Ledger) -> Response:
    case = await reads.get_duplicate(principal, case_id)
    await shown(reads, ledger, [case], "person_id", "other_person_id")
    return json_response(case, version=case["version"])


@router.post("/{case_id}/resolution")
async def resolve(
    case_id: str,
    body: DuplicateResolution,
    principal: Officer,
    command: Command,
    version: ExpectedVersion,
    desk: Desk,
    reads: Reads,
) -> Response:
    """Merge (the other record points to the survivor, whose history holds both) or distinct."""
    new_version = await handlers.resolve_duplicate(
        desk, case_id, body.outcome, body.surviving_person_id, version, command.causation
    )
    # Stored as the idempotent answer: the case without its explanation, which quotes names.
    case = await reads.get_duplicate(principal, case_id, explain=False)
    return json_response(case, version=new_version)
