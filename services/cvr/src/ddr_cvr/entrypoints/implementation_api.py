"""A project under way: beneficiary counts, tranches, progress, completion, hand-over, weapons-and-ammunition
collections, and the monitoring visit due a year after completion."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from ddr_cvr.domain.projects import Counts, Visit
from ddr_cvr.entrypoints.answers import project_answer
from ddr_cvr.entrypoints.dependencies import Reads, Unit
from ddr_cvr.entrypoints.roles import OFFICER, PARTNER_OR_OFFICER
from ddr_cvr.entrypoints.schemas import (
    BeneficiaryCounts,
    Completion,
    HandOver,
    MonitoringVisit,
    Progress,
    Tranche,
    WamCollection,
)
from ddr_cvr.service_layer import handlers
from ddr_runtime.http.writes import Command, MaybeExpectedVersion

router = APIRouter(prefix="/projects/{project_id}", tags=["implementation"])


@router.post("/beneficiary-counts", dependencies=PARTNER_OR_OFFICER)
async def beneficiary_counts(
    project_id: str,
    body: BeneficiaryCounts,
    command: Command,
    unit: Unit,
    reads: Reads,
    expected: MaybeExpectedVersion,
) -> Response:
    counts = Counts(**body.model_dump())
    version = await handlers.record_counts(unit, command, project_id, counts, expected)
    return await project_answer(reads, command, project_id, version)


@router.post("/tranches", dependencies=OFFICER)
async def pay_tranche(
    project_id: str, body: Tranche, command: Command, unit: Unit, reads: Reads, expected: MaybeExpectedVersion
) -> Response:
    version = await handlers.pay_tranche(
        unit, command, project_id, body.amount, body.currency, body.paid_on, expected
    )
    return await project_answer(reads, command, project_id, version)


@router.post("/progress-reports", dependencies=PARTNER_OR_OFFICER)
async def report_progress(
    project_id: str,
    body: Progress,
    command: Command,
    unit: Unit,
    reads: Reads,
    expected: MaybeExpectedVersion,
) -> Response:
    version = await handlers.report_progress(
        unit, command, project_id, body.reported_on, body.percent_complete, body.summary, expected
    )
    return await project_answer(reads, command, project_id, version)


@router.post("/completion", dependencies=OFFICER)
async def complete(
    project_id: str,
    body: Completion,
    command: Command,
    unit: Unit,
    reads: Reads,
    expected: MaybeExpectedVersion,
) -> Response:
    version = await handlers.complete_project(unit, command, project_id, body.completed_on, expected)
    return await project_answer(reads, command, project_id, version)


@router.post("/handover", dependencies=OFFICER)
async def hand_over(
    project_id: str,
    body: HandOver,
    command: Command,
    unit: Unit,
    reads: Reads,
    expected: MaybeExpectedVersion,
) -> Response:
    version = await handlers.hand_over(
        unit, command, project_id, body.handed_over_on, body.handed_over_to, expected
    )
    return await project_answer(reads, command, project_id, version)


@router.post("/wam-collections", dependencies=OFFICER)
async def collect_wam_items(
    project_id: str,
    body: WamCollection,
    command: Command,
    unit: Unit,
    reads: Reads,
    expected: MaybeExpectedVersion,
) -> Response:
    version = await handlers.collect_wam_items(
        unit, command, project_id, body.collected_on, body.custodian, body.collected(), expected
    )
    return await project_answer(reads, command, project_id, version)


@router.post("/monitoring-visits", dependencies=OFFICER)
async def record_visit(
    project_id: str,
    body: MonitoringVisit,
    command: Command,
    unit: Unit,
    reads: Reads,
    expected: MaybeExpectedVersion,
) -> Response:
    visit = Visit(**body.model_dump())
    version = await handlers.record_visit(unit, command, project_id, visit, expected)
    return await project_answer(reads, command, project_id, version)
