"""Each screening decision is its own command (``POST``; ``If-Match`` optional, ``Idempotency-Key`` for safe
retries), dated by the business time it happened; and bulk uploads of examination results, age assessments
and handling tests, answered item by item (``?atomic=true``: all or nothing)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ddr_runtime.audit.reads import Reads
from ddr_runtime.auth.dependencies import role_refusal
from ddr_runtime.auth.roles import Principal
from ddr_runtime.http.writes import (
    Atomic,
    BulkAnswer,
    Command,
    MaybeExpectedVersion,
    bulk_answer,
    json_response,
)
from ddr_runtime.kernel import UnknownRecord
from ddr_screening.domain.case import AgeEvidence, Ruling
from ddr_screening.entrypoints.dependencies import Service
from ddr_screening.entrypoints.roles import (
    AgeAssessor,
    Appellant,
    ChildProtection,
    Examiner,
    Officer,
    VettingOfficer,
)
from ddr_screening.entrypoints.schemas import (
    AgeAssessmentIn,
    AppealDecisionIn,
    AppealIn,
    BulkAgeAssessments,
    BulkExaminations,
    BulkHandlingTests,
    ExaminationIn,
    HandlingTestIn,
    HandoverIn,
    MembershipDecisionIn,
    ReExaminationRequestIn,
    ReinsertionChoiceIn,
    VettingDecisionIn,
)
from ddr_screening.service_layer import bulk, handlers, queries
from ddr_screening.service_layer.access import RoleRequired
from ddr_screening.service_layer.handlers import AgeAssessment, Decided, Examination, HandlingTest
from ddr_screening.service_layer.service import Screening

router = APIRouter(tags=["decisions"])


async def decided(
    scr: Screening, principal: Principal, reads: Reads, person_id: str, done: Decided[Any], **extra: Any
) -> JSONResponse:
    """201 with what was decided and the case as the caller may now see it: ``null`` when the decision put it
    out of the caller's sight (child protection's assessment that finds an adult). ``Content-Location`` is
    the case, so an idempotent replay reads it again instead of keeping it."""
    try:
        view: dict[str, Any] | None = (
            await queries.get_case(scr, principal, person_id, with_decisions=False)
        )[0]
    except UnknownRecord:
        view = None
    else:
        await reads.record([person_id], children=await queries.children_among(scr, [person_id]))
    location = f"/cases/{person_id}"
    return json_response(
        {**extra, "case": view}, 201, version=done.version, location=location, content_location=location
    )


def _evidence(body: AgeAssessmentIn) -> AgeEvidence:
    return AgeEvidence(
        body.method, body.youngest_age, body.document_issued_on, body.documented_age, body.note
    )


@router.post("/cases/{person_id}/examinations", status_code=201)
async def examine(
    person_id: str,
    body: ExaminationIn,
    examiner: Examiner,
    command: Command,
    scr: Service,
    reads: Reads,
    version: MaybeExpectedVersion,
) -> JSONResponse:
    exam = Examination(person_id, body.result, body.details, body.examined_on)
    done = await handlers.examine(scr, exam, command, version)
    return await decided(scr, examiner, reads, person_id, done, decision_id=done.result)


@router.post("/examinations/bulk", response_model=BulkAnswer)
async def examine_bulk(
    body: BulkExaminations, _examiner: Examiner, command: Command, scr: Service, atomic: Atomic = False
) -> BulkAnswer:
    items = [Examination(i.person_id, i.result, i.details, i.examined_on) for i in body.items]
    outcomes = await bulk.record_examinations(scr, items, command, atomic=atomic)
    return bulk_answer(outcomes)


@router.post("/cases/{person_id}/re-examination-requests", status_code=201)
async def request_re_examination(
    person_id: str,
    body: ReExaminationRequestIn,
    officer: Officer,
    command: Command,
    scr: Service,
    reads: Reads,
    version: MaybeExpectedVersion,
) -> JSONResponse:
    done = await handlers.request_re_examination(
        scr, person_id, body.reason, body.requested_on, command, version
    )
    return await decided(scr, officer, reads, person_id, done, request_id=done.result)


@router.post("/cases/{person_id}/age-assessments", status_code=201)
async def assess_age(
    person_id: str,
    body: AgeAssessmentIn,
    assessor: AgeAssessor,
    command: Command,
    scr: Service,
    reads: Reads,
    version: MaybeExpectedVersion,
) -> JSONResponse:
    item = AgeAssessment(person_id, _evidence(body), body.assessed_on)
    done = await handlers.assess_age(scr, item, command, version)
    return await decided(scr, assessor, reads, person_id, done, effect=done.result)


@router.post("/age-assessments/bulk", response_model=BulkAnswer)
async def assess_ages_bulk(
    body: BulkAgeAssessments, _assessor: AgeAssessor, command: Command, scr: Service, atomic: Atomic = False
) -> BulkAnswer:
    items = [AgeAssessment(i.person_id, _evidence(i), i.assessed_on) for i in body.items]
    outcomes = await bulk.assess_ages(scr, items, command, atomic=atomic)
    return bulk_answer(outcomes)


@router.post("/cases/{person_id}/handover", status_code=201)
async def hand_over(
    person_id: str,
    body: HandoverIn,
    protection: ChildProtection,
    command: Command,
    scr: Service,
    reads: Reads,
    version: MaybeExpectedVersion,
) -> JSONResponse:
    done = await handlers.hand_over(
        scr, person_id, body.receiving_actor, body.note, body.handed_over_at, command, version
    )
    return await decided(scr, protection, reads, person_id, done)


@router.post("/cases/{person_id}/vetting-decisions", status_code=201)
async def decide_vetting(
    person_id: str,
    body: VettingDecisionIn,
    vetting: VettingOfficer,
    command: Command,
    scr: Service,
    reads: Reads,
    version: MaybeExpectedVersion,
) -> JSONResponse:
    done = await handlers.decide_vetting(
        scr, person_id, body.status, body.reason_code, body.reason, body.decided_on, command, version
    )
    return await decided(scr, vetting, reads, person_id, done, decision_id=done.result)


@router.post("/cases/{person_id}/membership-decisions", status_code=201)
async def decide_membership(
    person_id: str,
    body: MembershipDecisionIn,
    officer: Officer,
    command: Command,
    scr: Service,
    reads: Reads,
    version: MaybeExpectedVersion,
) -> JSONResponse:
    done = await handlers.decide_membership(
        scr, person_id, body.verified, body.reason_code, body.reason, body.decided_on, command, version
    )
    return await decided(scr, officer, reads, person_id, done, decision_id=done.result)


@router.post("/cases/{person_id}/handling-tests", status_code=201)
async def handling_test(
    person_id: str,
    body: HandlingTestIn,
    officer: Officer,
    command: Command,
    scr: Service,
    reads: Reads,
    version: MaybeExpectedVersion,
) -> JSONResponse:
    test = HandlingTest(person_id, body.passed, body.tested_on)
    done = await handlers.record_handling_test(scr, test, command, version)
    return await decided(scr, officer, reads, person_id, done, decision_id=done.result)


@router.post("/handling-tests/bulk", response_model=BulkAnswer)
async def handling_tests_bulk(
    body: BulkHandlingTests, _officer: Officer, command: Command, scr: Service, atomic: Atomic = False
) -> BulkAnswer:
    items = [HandlingTest(i.person_id, i.passed, i.tested_on) for i in body.items]
    outcomes = await bulk.record_handling_tests(scr, items, command, atomic=atomic)
    return bulk_answer(outcomes)


@router.post("/cases/{person_id}/reinsertion-choice", status_code=201)
async def choose_reinsertion(
    person_id: str,
    officer: Officer,
    command: Command,
    scr: Service,
    reads: Reads,
    version: MaybeExpectedVersion,
    body: ReinsertionChoiceIn | None = None,
) -> JSONResponse:
    on = body.chosen_on if body is not None else None
    done = await handlers.choose_reinsertion(scr, person_id, on, command, version)
    return await decided(scr, officer, reads, person_id, done, decision_id=done.result)


@router.post("/cases/{person_id}/appeals", status_code=201)
async def lodge_appeal(
    person_id: str,
    body: AppealIn,
    appellant: Appellant,
    command: Command,
    scr: Service,
    reads: Reads,
    version: MaybeExpectedVersion,
) -> JSONResponse:
    """An appeal of a decision on the case: child protection's for an age decision, a screening officer's for
    any other (anyone else gets the 403 of a route it may not use)."""
    try:
        done = await handlers.lodge_appeal(
            scr, person_id, body.decision_id, body.reason, body.lodged_on, command, version
        )
    except RoleRequired as refused:
        raise role_refusal([refused.role]) from None
    return await decided(scr, appellant, reads, person_id, done, appeal_id=done.result)


@router.post("/cases/{person_id}/appeals/{appeal_id}/decision", status_code=201)
async def decide_appeal(
    person_id: str,
    appeal_id: str,
    body: AppealDecisionIn,
    appellant: Appellant,
    command: Command,
    scr: Service,
    reads: Reads,
    version: MaybeExpectedVersion,
) -> JSONResponse:
    """The appeal's decision, by the role the appeal belongs to (as for lodging it)."""
    ruling = Ruling(body.overturned, body.replacement, appellant.subject, body.reason)
    try:
        done = await handlers.decide_appeal(
            scr, person_id, appeal_id, ruling, body.decided_on, command, version
        )
    except RoleRequired as refused:
        raise role_refusal([refused.role]) from None
    return await decided(scr, appellant, reads, person_id, done, appeal_id=appeal_id)
