"""The service as a route sees it (set on the app by the bootstrap), and the query parameters routes share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from ddr_integration.service_layer.context import Integration
from ddr_runtime.auth.roles import Principal
from ddr_runtime.kernel import UnknownRecord


def integration(request: Request) -> Integration:
    found: Integration = request.app.state.integration
    return found


Integ = Annotated[Integration, Depends(integration)]
AsOf = Annotated[date | None, Query(description="business date of the figures (default: today, UTC)")]


def today() -> date:
    return datetime.now(UTC).date()


async def visible_candidate(integ: Integration, principal: Principal, person_id: str) -> dict[str, Any]:
    """The candidate's record, or a 404 for one the caller may not know of (another movement's member)."""
    view = await integ.views.candidate(person_id)
    if view is None or not principal.covers_movement(view["movement"]):
        raise UnknownRecord("candidate", person_id)
    return view
