"""Units as data, the armed forces' contingent, assignment under the rule of thirds, composition and figures
as of a date."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ddr_integration.domain.events import UnitEstablished
from ddr_integration.entrypoints import schemas as s
from ddr_integration.entrypoints.deps import AsOf, Integ, today
from ddr_integration.entrypoints.roles import Mod, Nic, NicOrMod, UnitReader
from ddr_integration.service_layer import units
from ddr_runtime.http.writes import Atomic, Command, bulk_answer, json_response
from ddr_runtime.kernel import UnknownRecord

router = APIRouter(tags=["units"])


async def _composition(integ: Integ, unit_id: str, on: Any) -> dict[str, Any]:
    found = await integ.views.composition(unit_id, on, integ.coalitions)
    if found is None:
        raise UnknownRecord("unit", unit_id)
    return found


@router.post("/units", status_code=201)
async def establish(body: s.UnitCreate, integ: Integ, _: NicOrMod, command: Command) -> JSONResponse:
    unit = UnitEstablished(**body.model_dump(exclude={"established_on"}))
    await units.establish_unit(integ, unit, body.established_on, command)
    location = f"/units/{body.unit_id}/composition"
    return json_response({"unit_id": body.unit_id}, 201, location=location)


@router.get("/units")
async def list_units(integ: Integ, _: UnitReader) -> dict[str, Any]:
    return {"items": await integ.views.units()}


@router.post("/units/{unit_id}/armed-forces-contingent")
async def contingent(
    unit_id: str, body: s.ContingentBody, integ: Integ, _: Mod, command: Command
) -> dict[str, Any]:
    await units.record_contingent(
        integ, unit_id, body.strength, body.command_posts, body.effective_on, command
    )
    return await _composition(integ, unit_id, body.effective_on or today())


@router.post("/units/{unit_id}/assignments", response_model=s.AssignmentAnswer)
async def assign(
    unit_id: str, body: s.AssignmentsBody, integ: Integ, _: Nic, command: Command, atomic: Atomic = False
) -> s.AssignmentAnswer:
    """Assign members in one decision: each member is answered on their own record; those who may serve
    are judged together against the rule of thirds (a 422 naming the party over its third records nothing)."""
    entries = [units.Assignment(a.person_id, a.command_post) for a in body.assignments]
    on = body.effective_on or today()
    outcomes, after = await units.assign(integ, unit_id, entries, on, command, atomic=atomic)
    answer = bulk_answer(outcomes, key=lambda index: entries[index].person_id)
    return s.AssignmentAnswer(**answer.model_dump(), composition=after)


@router.get("/units/{unit_id}/composition")
async def composition(unit_id: str, integ: Integ, _: UnitReader, as_of: AsOf = None) -> dict[str, Any]:
    return await _composition(integ, unit_id, as_of or today())


@router.get("/coalitions")
async def coalitions(integ: Integ, _: UnitReader, as_of: AsOf = None) -> dict[str, Any]:
    """Which coalition each movement belonged to on the date (registration's time-bound data)."""
    on = as_of or today()
    return {"as_of": on, "movements": await integ.views.coalitions_on(on)}


@router.get("/figures")
async def figures(integ: Integ, principal: UnitReader, as_of: AsOf = None) -> dict[str, Any]:
    """Counts as of the date, from every dated fact up to it: active members (a deserter is not active
    from the day they deserted), candidates and members by status, quota places, unit strength, cohorts.
    A caller narrowed to regions counts people of those regions only."""
    return await integ.views.figures(as_of or today(), principal.regions)
