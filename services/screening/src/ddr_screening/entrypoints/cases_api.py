"""Reads: case view, queues by type and region, outcomes, figures, overdue child handovers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from ddr_runtime.audit.reads import Reads
from ddr_runtime.http.paging import Limit, Offset
from ddr_runtime.http.problems import Forbidden
from ddr_runtime.http.writes import json_response
from ddr_runtime.kernel import UnknownRecord
from ddr_screening.entrypoints.dependencies import Service
from ddr_screening.entrypoints.roles import (
    QUEUE_ROLES,
    FigureReader,
    OutcomeReader,
    OverdueReader,
    QueueReader,
    Reader,
)
from ddr_screening.service_layer import queries
from ddr_screening.service_layer.queries import QueueType
from ddr_screening.service_layer.service import Screening

Region = Annotated[str | None, Query(max_length=100)]

router = APIRouter(tags=["cases"])


async def record_shown(scr: Screening, reads: Reads, person_ids: list[str]) -> None:
    """The persons a list showed, in the read ledger, saying which are children (a restricted case)."""
    await reads.record(person_ids, children=await queries.children_among(scr, person_ids))


@router.get("/cases/{person_id}")
async def get_case(person_id: str, principal: Reader, scr: Service, reads: Reads) -> JSONResponse:
    """The case as the caller may see it, with its decisions; ``ETag`` is its version (for ``If-Match``).
    A case the caller may not know of (a child's, another region's...) is answered exactly as a missing one."""
    try:
        view, version = await queries.get_case(scr, principal, person_id)
    except UnknownRecord:
        await reads.record(
            [person_id], "not_visible", children=await queries.children_among(scr, [person_id])
        )
        raise
    await reads.record([person_id], children=await queries.children_among(scr, [person_id]))
    return json_response(view, version=version)


@router.get("/queues/{kind}")
async def get_queue(
    kind: QueueType,
    principal: QueueReader,
    scr: Service,
    reads: Reads,
    region: Region = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    if not principal.has_any(*QUEUE_ROLES[kind]):
        raise Forbidden(f"the {kind} queue needs one of the roles: {', '.join(QUEUE_ROLES[kind])}")
    page = await queries.queue(scr, principal, kind, region=region, offset=offset, limit=limit)
    await record_shown(scr, reads, [item["person_id"] for item in page["items"]])
    return page


@router.get("/outcomes")
async def get_outcomes(
    principal: OutcomeReader,
    scr: Service,
    reads: Reads,
    movement: Annotated[str | None, Query(max_length=40)] = None,
    track: Annotated[str | None, Query(max_length=20)] = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    listed = await queries.outcomes(
        scr, principal, movement=movement, track=track, offset=offset, limit=limit
    )
    await record_shown(scr, reads, [item["person_id"] for item in listed])
    return listed


@router.get("/figures")
async def get_figures(principal: FigureReader, scr: Service, region: Region = None) -> dict[str, Any]:
    return await queries.figures(scr, principal, region=region)


@router.get("/children/overdue-handovers")
async def overdue_handovers(principal: OverdueReader, scr: Service, reads: Reads) -> dict[str, Any]:
    """Children not handed over within 48 hours of their separation (its business time, not data entry):
    listed to child protection, a count through ``disclose_count`` to anyone else."""
    answer = await queries.overdue_handovers(scr, principal)
    await record_shown(scr, reads, [item["person_id"] for item in answer.get("items", ())])
    return answer
