"""``/projects``: submission, appraisal, implementation and monitoring of CVR projects; committee queues."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from starlette.responses import Response

from ddr_contracts.cvr import Committee
from ddr_cvr.domain.errors import RuleViolated
from ddr_cvr.domain.projects import Counts, Decision, ProjectDraft, RiskAnalysis, Visit
from ddr_cvr.entrypoints.http_support import ExpectedVersion, json_response
from ddr_cvr.entrypoints.schemas import (
    BeneficiaryCounts,
    CommitteeDecision,
    Completion,
    HandOver,
    MonitoringVisit,
    Progress,
    ProjectCreate,
    ProjectProposal,
    ProjectResubmission,
    RiskAnalysisBody,
    TechnicalAssessment,
    Tranche,
    WamCollection,
)
from ddr_cvr.service_layer import handlers, queries
from ddr_cvr.service_layer.unit import Cvr
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import Causation

Officer = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER))]
PartnerOrOfficer = Annotated[Principal, Depends(require_roles(Role.CVR_PARTNER, Role.CNDDR_OFFICER))]
CommitteeMember = Annotated[Principal, Depends(require_roles(Role.COMMITTEE_MEMBER))]
Reader = Annotated[
    Principal,
    Depends(require_roles(Role.CVR_PARTNER, Role.COMMITTEE_MEMBER, Role.CNDDR_OFFICER, Role.AUDITOR)),
]


def draft_of(body: ProjectProposal) -> ProjectDraft:
    fields = body.model_dump(exclude={"project_id", "partner_id", "submitted_on"})
    return ProjectDraft(**fields)


def projects_router(cvr: Cvr) -> APIRouter:
    router = APIRouter(tags=["projects"])

    async def act(
        principal: Principal, project_id: str, run: Callable[[Causation], Awaitable[int]]
    ) -> Response:
        """Check the caller may act on the project (404 if not), run the handler, answer the project."""
        await queries.check_may_edit(cvr, principal, project_id)
        version = await run(Causation(principal.subject))
        return json_response(await queries.get_project(cvr, principal, project_id), version=version)

    @router.post("/projects", status_code=201)
    async def submit_project(body: ProjectCreate, principal: PartnerOrOfficer) -> Response:
        if Role.CVR_PARTNER in principal.roles:
            if body.partner_id not in (None, principal.partner):
                raise RuleViolated("own-projects-only", "a partner submits projects under its own id only")
            partner_id = principal.partner
        else:
            partner_id = body.partner_id
        if not partner_id:
            raise RuleViolated("partner-required", "partner_id names the implementing partner")
        project_id = body.project_id or cvr.new_id()
        version = await handlers.submit_project(
            cvr, project_id, partner_id, draft_of(body), body.submitted_on, Causation(principal.subject)
        )
        return json_response(await queries.get_project(cvr, principal, project_id), 201, version)

    @router.get("/projects")
    async def list_projects(
        principal: Reader,
        status: str | None = None,
        region: str | None = None,
        partner_id: str | None = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        return await queries.list_projects(
            cvr, principal, status=status, region=region, partner_id=partner_id, offset=offset, limit=limit
        )

    @router.get("/projects/{project_id}")
    async def get_project(project_id: str, principal: Reader) -> Response:
        project = await queries.get_project(cvr, principal, project_id)
        return json_response(project, version=project["version"])

    @router.get("/projects/{project_id}/history")
    async def project_history(project_id: str, principal: Reader) -> list[dict[str, Any]]:
        return await queries.project_history(cvr, principal, project_id)

    @router.get("/projects/{project_id}/targets")
    async def project_targets(project_id: str, principal: Reader) -> dict[str, Any]:
        return await queries.targets(cvr, principal, project_id)

    @router.post("/projects/{project_id}/resubmission")
    async def resubmit(
        project_id: str, body: ProjectResubmission, principal: PartnerOrOfficer, version: ExpectedVersion
    ) -> Response:
        return await act(
            principal,
            project_id,
            lambda c: handlers.resubmit_project(
                cvr, project_id, draft_of(body), body.submitted_on, version, c
            ),
        )

    @router.post("/projects/{project_id}/technical-assessment")
    async def technical_assessment(
        project_id: str, body: TechnicalAssessment, principal: Officer, version: ExpectedVersion
    ) -> Response:
        return await act(
            principal,
            project_id,
            lambda c: handlers.record_technical_assessment(
                cvr,
                project_id,
                body.agency,
                body.reference,
                body.assessed_on,
                body.favourable,
                body.conditions,
                version,
                c,
            ),
        )

    @router.post("/projects/{project_id}/risk-analysis")
    async def risk_analysis(
        project_id: str, body: RiskAnalysisBody, principal: Officer, version: ExpectedVersion
    ) -> Response:
        analysis = RiskAnalysis(**body.model_dump())
        return await act(
            principal,
            project_id,
            lambda c: handlers.attach_risk_analysis(cvr, project_id, analysis, version, c),
        )

    @router.post("/projects/{project_id}/decisions")
    async def decide(
        project_id: str, body: CommitteeDecision, principal: CommitteeMember, version: ExpectedVersion
    ) -> Response:
        decision = Decision(**body.model_dump())
        return await act(
            principal, project_id, lambda c: handlers.decide(cvr, project_id, decision, version, c)
        )

    @router.post("/projects/{project_id}/beneficiary-counts")
    async def beneficiary_counts(
        project_id: str, body: BeneficiaryCounts, principal: PartnerOrOfficer, version: ExpectedVersion
    ) -> Response:
        counts = Counts(**body.model_dump())
        return await act(
            principal, project_id, lambda c: handlers.record_counts(cvr, project_id, counts, version, c)
        )

    @router.post("/projects/{project_id}/tranches")
    async def pay_tranche(
        project_id: str, body: Tranche, principal: Officer, version: ExpectedVersion
    ) -> Response:
        return await act(
            principal,
            project_id,
            lambda c: handlers.pay_tranche(
                cvr, project_id, body.amount, body.currency, body.paid_on, version, c
            ),
        )

    @router.post("/projects/{project_id}/progress-reports")
    async def progress(
        project_id: str, body: Progress, principal: PartnerOrOfficer, version: ExpectedVersion
    ) -> Response:
        return await act(
            principal,
            project_id,
            lambda c: handlers.report_progress(
                cvr, project_id, body.reported_on, body.percent_complete, body.summary, version, c
            ),
        )

    @router.post("/projects/{project_id}/completion")
    async def complete(
        project_id: str, body: Completion, principal: Officer, version: ExpectedVersion
    ) -> Response:
        return await act(
            principal,
            project_id,
            lambda c: handlers.complete_project(cvr, project_id, body.completed_on, version, c),
        )

    @router.post("/projects/{project_id}/handover")
    async def hand_over(
        project_id: str, body: HandOver, principal: Officer, version: ExpectedVersion
    ) -> Response:
        return await act(
            principal,
            project_id,
            lambda c: handlers.hand_over(
                cvr, project_id, body.handed_over_on, body.handed_over_to, version, c
            ),
        )

    @router.post("/projects/{project_id}/wam-collections")
    async def wam_collection(
        project_id: str, body: WamCollection, principal: Officer, version: ExpectedVersion
    ) -> Response:
        return await act(
            principal,
            project_id,
            lambda c: handlers.collect_wam_items(
                cvr, project_id, body.collected_on, body.custodian, body.items, version, c
            ),
        )

    @router.post("/projects/{project_id}/monitoring-visits")
    async def monitoring_visit(
        project_id: str, body: MonitoringVisit, principal: Officer, version: ExpectedVersion
    ) -> Response:
        visit = Visit(**body.model_dump())
        return await act(
            principal, project_id, lambda c: handlers.record_visit(cvr, project_id, visit, version, c)
        )

    @router.get("/committees/{committee}/queue")
    async def committee_queue(
        committee: Committee,
        principal: Annotated[
            Principal, Depends(require_roles(Role.COMMITTEE_MEMBER, Role.CNDDR_OFFICER, Role.AUDITOR))
        ],
    ) -> list[dict[str, Any]]:
        return await queries.committee_queue(cvr, principal, committee)

    return router
