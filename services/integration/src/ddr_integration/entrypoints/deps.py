"""The service as a route sees it (set on the app by the bootstrap), and the query parameters routes share."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request

from ddr_integration.service_layer.context import Integration, may_see
from ddr_runtime.auth.roles import Principal
from ddr_runtime.auth.visibility import sees_medical_detail
from ddr_runtime.http.problems import not_visible


def integration(request: Request) -> Integration:
    found: Integration = request.app.state.integration
    return found


Integ = Annotated[Integration, Depends(integration)]
AsOf = Annotated[date | None, Query(description="business date of the figures (default: today, UTC)")]


def today() -> date:
    return datetime.now(UTC).date()


async def visible_candidate(integ: Integration, principal: Principal, person_id: str) -> dict[str, Any]:
    """The candidate's record as ``principal`` may see it, or the one 404 for a record it may not know of: a
    child's, another movement's member, a person outside its regions (or of a region not known)."""
    view = await integ.views.candidate(person_id)
    if view is None or not may_see(principal, view["movement"], view["region"]):
        raise not_visible("candidate")
    return shown_to(principal, view)


def shown_to(principal: Principal, view: dict[str, Any]) -> dict[str, Any]:
    """What of a record ``principal`` sees: a discharge's kind (a medical one is medical detail) only to
    those who see medical detail; everyone else sees that the member was discharged."""
    if sees_medical_detail(principal):
        return view
    entries = [{**entry, "discharge_kind": None} for entry in view.get("service_record", [])]
    return {**view, "service_record": entries}
