"""Training cohorts at the camps (Kati: 250 at once): opening, enrolments and outcomes, item by item."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ddr_integration.domain.cohorts import CohortPlan
from ddr_integration.entrypoints import schemas as s
from ddr_integration.entrypoints.deps import Integ
from ddr_integration.entrypoints.roles import Nic, ProgrammeReader
from ddr_integration.service_layer import cohorts
from ddr_runtime.http.writes import Atomic, Command, bulk_answer, json_response
from ddr_runtime.kernel import UnknownRecord

router = APIRouter(tags=["training"])


async def _cohort(integ: Integ, cohort_id: str) -> dict[str, Any]:
    found = await integ.views.cohort(cohort_id)
    if found is None:
        raise UnknownRecord("cohort", cohort_id)
    return found


@router.post("/cohorts", status_code=201)
async def open_cohort(body: s.CohortCreate, integ: Integ, _: Nic, command: Command) -> JSONResponse:
    """A cohort of ``duration_days`` from ``starts_on``; its ``ends_on`` is the last day of training, from
    which outcomes are recorded."""
    plan = CohortPlan(body.cohort_id, body.camp, body.capacity, body.starts_on, body.duration_days)
    await cohorts.open_cohort(integ, plan, body.opened_on, command)
    cohort = await _cohort(integ, body.cohort_id)
    return json_response(cohort, 201, location=f"/cohorts/{body.cohort_id}")


@router.get("/cohorts/{cohort_id}")
async def get_cohort(cohort_id: str, integ: Integ, _: ProgrammeReader) -> dict[str, Any]:
    return await _cohort(integ, cohort_id)


@router.post("/cohorts/{cohort_id}/enrolments", response_model=s.CohortAnswer)
async def enrol(
    cohort_id: str, body: s.EnrolBody, integ: Integ, _: Nic, command: Command, atomic: Atomic = False
) -> s.CohortAnswer:
    """Enrol trainees: each answered on their own (``cohort_full`` once the cohort is at capacity)."""
    outcomes = await cohorts.enrol(
        integ, cohort_id, body.person_ids, body.effective_on, command, atomic=atomic
    )
    answer = bulk_answer(outcomes, key=lambda index: body.person_ids[index])
    return s.CohortAnswer(**answer.model_dump(), cohort=await _cohort(integ, cohort_id))


@router.post("/cohorts/{cohort_id}/outcomes", response_model=s.CohortAnswer)
async def outcomes(
    cohort_id: str,
    body: s.TrainingOutcomesBody,
    integ: Integ,
    _: Nic,
    command: Command,
    atomic: Atomic = False,
) -> s.CohortAnswer:
    """Trainees' outcomes: each answered on their own (``training_not_over`` before the cohort's last day)."""
    pairs = [(o.person_id, o.outcome) for o in body.outcomes]
    answers = await cohorts.record_outcomes(
        integ, cohort_id, pairs, body.effective_on, command, atomic=atomic
    )
    answer = bulk_answer(answers, key=lambda index: pairs[index][0])
    return s.CohortAnswer(**answer.model_dump(), cohort=await _cohort(integ, cohort_id))
