"""How a change to a project is answered: the project as the caller now reads it, with its new version."""

from __future__ import annotations

from starlette.responses import Response

from ddr_cvr.entrypoints.dependencies import Reads
from ddr_runtime.eventstore.ports import CommandContext
from ddr_runtime.http.writes import json_response


async def project_answer(
    reads: Reads, command: CommandContext, project_id: str, version: int, *, created: bool = False
) -> Response:
    project = await reads.project(command.principal, project_id)
    location = f"/projects/{project_id}" if created else None
    return json_response(project, 201 if created else 200, version=version, location=location)
