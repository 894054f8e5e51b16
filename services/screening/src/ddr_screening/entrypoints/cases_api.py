"""Reads: case view, queues by type and region, outcomes, figures, overdue child handovers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from ddr_runtime.http.problems import Forbidden
from ddr_runtime.http.writes import json_response
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

Page = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]
Region = Annotated[str | None, Query(max_length=100)]

router = APIRouter(tags=["cases"])


@router.get("/cases/{person_id}")
async def get_case(person_id: str, principal: Reader, scr: Service) -> JSONResponse:
    """The case as the caller may see it, with its decisions; ``ETag`` is its version (for ``If-Match``)."""
    view, version = await queries.get_case(scr, principal, person_id)
    return json_response(view, version=version)


@router.get("/queues/{kind}")
async def get_queue(
    kind: QueueType,
    principal: QueueReader,
    scr: Service,
    region: Region = None,
    offset: Page = 0,
    limit: Limit = 100,
) -> dict[str, Any]:
    if not principal.has_any(*QUEUE_ROLES[kind]):
        raise Forbidden(f"the {kind} queue needs one of the roles: {', '.join(QUEUE_ROLES[kind])}")
    return await queries.queue(scr, principal, kind, region=region, offset=offset, limit=limit)


@router.get("/outcomes")
async def get_outcomes(
    principal: OutcomeReader,
    scr: Service,
    movement: Annotated[str | None, Query(max_length=40)] = None,
    track: Annotated[str | None, Query(max_length=20)] = None,
    offset: Page = 0,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    return await queries.outcomes(scr, principal, movement=movement, track=track, offset=offset, limit=limit)


@router.get("/figures")
async def get_figures(principal: FigureReader, scr: Service, region: Region = None) -> dict[str, Any]:
    return await queries.figures(scr, principal, region=region)


@router.get("/children/overdue-handovers")
async def overdue_handovers(principal: OverdueReader, scr: Service) -> dict[str, Any]:
    """Children not handed over within 48 hours of their separation (its business time, not data entry)."""
    return await queries.overdue_handovers(scr, principal)
