"""Reads: case view, queues by type and region, outcomes, figures, overdue child handovers."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.http.problems import Forbidden
from ddr_screening.service_layer import queries
from ddr_screening.service_layer.access import CASE_READERS
from ddr_screening.service_layer.queries import QueueType
from ddr_screening.service_layer.unit import Screening

Reader = Annotated[Principal, Depends(require_roles(*CASE_READERS))]
QueueReader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.SCREENING_OFFICER, Role.EXAMINER, Role.VETTING_OFFICER, Role.CHILD_PROTECTION, Role.AUDITOR
        )
    ),
]
OutcomeReader = Annotated[
    Principal, Depends(require_roles(Role.SCREENING_OFFICER, Role.AUDITOR, Role.MOVEMENT_LIAISON))
]
FigureReader = Annotated[Principal, Depends(require_roles(Role.SCREENING_OFFICER, Role.AUDITOR))]
OverdueReader = Annotated[
    Principal, Depends(require_roles(Role.CHILD_PROTECTION, Role.SCREENING_OFFICER, Role.AUDITOR))
]

# Which roles work each queue (an auditor reads them all, restricted ones as counts and restricted stubs).
QUEUE_ROLES: dict[str, tuple[Role, ...]] = {
    "age_assessment": (Role.CHILD_PROTECTION, Role.AUDITOR),
    "handover": (Role.CHILD_PROTECTION, Role.AUDITOR),
    "medical": (Role.EXAMINER, Role.SCREENING_OFFICER, Role.AUDITOR),
    "vetting": (Role.VETTING_OFFICER, Role.SCREENING_OFFICER, Role.AUDITOR),
    "weapon": (Role.SCREENING_OFFICER, Role.AUDITOR),
    "outcome": (Role.SCREENING_OFFICER, Role.AUDITOR),
}
Page = Annotated[int, Query(ge=0)]
Limit = Annotated[int, Query(ge=1, le=1000)]


def cases_router(scr: Screening) -> APIRouter:
    router = APIRouter(tags=["cases"])

    @router.get("/cases/{person_id}")
    async def get_case(person_id: str, principal: Reader) -> dict[str, Any]:
        return await queries.get_case(scr, principal, person_id)

    @router.get("/queues/{kind}")
    async def get_queue(
        kind: QueueType,
        principal: QueueReader,
        region: Annotated[str | None, Query(max_length=100)] = None,
        offset: Page = 0,
        limit: Limit = 100,
    ) -> dict[str, Any]:
        if not principal.has_any(*QUEUE_ROLES[kind]):
            raise Forbidden(f"the {kind} queue needs one of the roles: {', '.join(QUEUE_ROLES[kind])}")
        return await queries.queue(scr, principal, kind, region=region, offset=offset, limit=limit)

    @router.get("/outcomes")
    async def get_outcomes(
        principal: OutcomeReader,
        movement: Annotated[str | None, Query(max_length=40)] = None,
        track: Annotated[str | None, Query(max_length=20)] = None,
        offset: Page = 0,
        limit: Limit = 100,
    ) -> list[dict[str, Any]]:
        return await queries.outcomes(
            scr, principal, movement=movement, track=track, offset=offset, limit=limit
        )

    @router.get("/figures")
    async def get_figures(
        principal: FigureReader, region: Annotated[str | None, Query(max_length=100)] = None
    ) -> dict[str, Any]:
        return await queries.figures(scr, principal, region=region)

    @router.get("/children/overdue-handovers")
    async def overdue_handovers(principal: OverdueReader) -> dict[str, Any]:
        return await queries.overdue_handovers(scr, principal)

    return router
