"""A project's appraisal: the technical assessment and the risk analysis it may need, the committees'
decisions in order (local review, regional then national appraisal), and each committee's queue."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.responses import Response

from ddr_cvr.domain.projects import Decision, RiskAnalysis, TechnicalAssessment
from ddr_cvr.domain.terms import Committee
from ddr_cvr.entrypoints.answers import project_answer
from ddr_cvr.entrypoints.dependencies import Policy, Reads, Unit
from ddr_cvr.entrypoints.roles import COMMITTEE, OFFICER, QueueReader
from ddr_cvr.entrypoints.schemas import CommitteeDecision, RiskAnalysisBody
from ddr_cvr.entrypoints.schemas import TechnicalAssessment as TechnicalAssessmentBody
from ddr_cvr.service_layer import handlers
from ddr_runtime.http.writes import Command, MaybeExpectedVersion

router = APIRouter(tags=["appraisal"])


@router.post("/projects/{project_id}/technical-assessment", dependencies=OFFICER)
async def technical_assessment(
    project_id: str,
    body: TechnicalAssessmentBody,
    command: Command,
    unit: Unit,
    reads: Reads,
    expected: MaybeExpectedVersion,
) -> Response:
    assessment = TechnicalAssessment(**body.model_dump())
    version = await handlers.record_technical_assessment(unit, command, project_id, assessment, expected)
    return await project_answer(reads, command, project_id, version)


@router.post("/projects/{project_id}/risk-analysis", dependencies=OFFICER)
async def risk_analysis(
    project_id: str,
    body: RiskAnalysisBody,
    command: Command,
    unit: Unit,
    reads: Reads,
    expected: MaybeExpectedVersion,
) -> Response:
    analysis = RiskAnalysis(**body.model_dump())
    version = await handlers.attach_risk_analysis(unit, command, project_id, analysis, expected)
    return await project_answer(reads, command, project_id, version)


@router.post("/projects/{project_id}/decisions", dependencies=COMMITTEE)
async def decide(
    project_id: str,
    body: CommitteeDecision,
    command: Command,
    unit: Unit,
    reads: Reads,
    policy: Policy,
    expected: MaybeExpectedVersion,
) -> Response:
    decision = Decision(**body.model_dump())
    version = await handlers.decide(unit, command, policy, project_id, decision, expected)
    return await project_answer(reads, command, project_id, version)


@router.get("/committees/{committee}/queue")
async def committee_queue(committee: Committee, principal: QueueReader, reads: Reads) -> list[dict[str, Any]]:
    """Projects awaiting ``committee``, oldest submission first (within the caller's regions)."""
    return await reads.committee_queue(principal, committee)
