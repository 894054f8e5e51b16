"""``/projects``: submission and resubmission of CVR projects, what they are, their history and targets;
``/programmes``: the programmes a project may belong to."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from starlette.responses import Response

from ddr_cvr.entrypoints.answers import project_answer
from ddr_cvr.entrypoints.dependencies import Policy, Reads, Unit
from ddr_cvr.entrypoints.roles import PARTNER_OR_OFFICER, Reader
from ddr_cvr.entrypoints.schemas import ProjectCreate, ProjectResubmission
from ddr_cvr.service_layer import handlers
from ddr_runtime.http.paging import Offset
from ddr_runtime.http.writes import Command, MaybeExpectedVersion, json_response

router = APIRouter(tags=["projects"])


@router.get("/programmes")
async def list_programmes(_: Reader, policy: Policy) -> list[dict[str, str]]:
    """The programmes configured for CVR projects (``DDR_CVR_POLICY_PROGRAMMES``)."""
    return [{"programme": code, "name": name} for code, name in policy.programmes.items()]


@router.post("/projects", status_code=201, dependencies=PARTNER_OR_OFFICER)
async def submit_project(
    body: ProjectCreate, command: Command, unit: Unit, reads: Reads, policy: Policy
) -> Response:
    """A partner submits under its own id; an officer names the partner (``partner_id``)."""
    project_id, version = await handlers.submit_project(
        unit, command, policy, body.project_id, body.partner_id, body.draft(), body.submitted_on
    )
    return await project_answer(reads, command, project_id, version, created=True)


@router.get("/projects")
async def list_projects(
    principal: Reader,
    reads: Reads,
    status: str | None = None,
    programme: str | None = None,
    region: str | None = None,
    partner_id: str | None = None,
    offset: Offset = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[dict[str, Any]]:
    return await reads.projects(
        principal,
        status=status,
        programme=programme,
        region=region,
        partner_id=partner_id,
        offset=offset,
        limit=limit,
    )


@router.get("/projects/{project_id}")
async def get_project(project_id: str, principal: Reader, reads: Reads) -> Response:
    project = await reads.project(principal, project_id)
    return json_response(project, version=project["version"])


@router.get("/projects/{project_id}/history")
async def project_history(project_id: str, principal: Reader, reads: Reads) -> list[dict[str, Any]]:
    return await reads.project_history(principal, project_id)


@router.get("/projects/{project_id}/targets")
async def project_targets(project_id: str, principal: Reader, reads: Reads) -> dict[str, Any]:
    return await reads.targets(principal, project_id)


@router.post("/projects/{project_id}/resubmission", dependencies=PARTNER_OR_OFFICER)
async def resubmit(
    project_id: str,
    body: ProjectResubmission,
    command: Command,
    unit: Unit,
    reads: Reads,
    policy: Policy,
    expected: MaybeExpectedVersion,
) -> Response:
    version = await handlers.resubmit_project(
        unit, command, policy, project_id, body.draft(), body.submitted_on, expected
    )
    return await project_answer(reads, command, project_id, version)
