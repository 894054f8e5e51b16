"""Each screening decision is its own command (``POST``, with an ``Idempotency-Key`` for safe retries),
plus bulk uploads of examination results, age assessments and handling tests for large caseloads."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.http.idempotency import IdempotencyStore
from ddr_screening.entrypoints.http_support import IdempotencyKey, idempotent, json_response
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
    VettingDecisionIn,
)
from ddr_screening.service_layer import handlers, queries
from ddr_screening.service_layer.handlers import AgeAssessment, Examination
from ddr_screening.service_layer.unit import Screening

Examiner = Annotated[Principal, Depends(require_roles(Role.EXAMINER))]
Officer = Annotated[Principal, Depends(require_roles(Role.SCREENING_OFFICER))]
VettingOfficer = Annotated[Principal, Depends(require_roles(Role.VETTING_OFFICER))]
ChildProtection = Annotated[Principal, Depends(require_roles(Role.CHILD_PROTECTION))]
AgeAssessor = Annotated[Principal, Depends(require_roles(Role.CHILD_PROTECTION, Role.SCREENING_OFFICER))]


def cause(principal: Principal, request: Request) -> Causation:
    correlation = request.headers.get("X-Correlation-ID")
    return Causation(principal.subject, correlation) if correlation else Causation(principal.subject)


def decisions_router(scr: Screening, keys: IdempotencyStore) -> APIRouter:
    router = APIRouter(tags=["decisions"])

    async def answer(
        principal: Principal, person_id: str, extra: dict[str, Any], status_code: int = 201
    ) -> Any:
        case = await queries.get_case(scr, principal, person_id, with_decisions=False)
        return json_response({**extra, "case": case}, status_code=status_code)

    @router.post("/cases/{person_id}/examinations")
    async def examine(
        person_id: str, body: ExaminationIn, principal: Examiner, request: Request, key: IdempotencyKey = None
    ) -> Response:
        async def run() -> Any:
            item = Examination(person_id, body.result, body.details)
            [decision] = await handlers.record_examinations(scr, [item], cause(principal, request))
            return await answer(principal, person_id, {"decision_id": decision})

        return await idempotent(keys, principal, key, request, f"{person_id}\n{body.model_dump_json()}", run)

    @router.post("/examinations/bulk")
    async def examine_bulk(
        body: BulkExaminations, principal: Examiner, request: Request, key: IdempotencyKey = None
    ) -> Response:
        async def run() -> Any:
            items = [Examination(i.person_id, i.result, i.details) for i in body.items]
            decisions = await handlers.record_examinations(scr, items, cause(principal, request))
            return json_response({"recorded": len(decisions), "decision_ids": decisions}, status_code=201)

        return await idempotent(keys, principal, key, request, body.model_dump_json(), run)

    @router.post("/cases/{person_id}/re-examination-requests")
    async def request_re_examination(
        person_id: str,
        body: ReExaminationRequestIn,
        principal: Officer,
        request: Request,
        key: IdempotencyKey = None,
    ) -> Response:
        async def run() -> Any:
            done = await handlers.request_re_examination(
                scr, person_id, body.reason, cause(principal, request)
            )
            return await answer(principal, person_id, {"request_id": done})

        return await idempotent(keys, principal, key, request, f"{person_id}\n{body.model_dump_json()}", run)

    @router.post("/cases/{person_id}/age-assessments")
    async def assess_age(
        person_id: str,
        body: AgeAssessmentIn,
        principal: AgeAssessor,
        request: Request,
        key: IdempotencyKey = None,
    ) -> Response:
        async def run() -> Any:
            item = AgeAssessment(person_id, **body.model_dump())
            [effect] = await handlers.assess_ages(scr, [item], cause(principal, request))
            # The case may now be a child's: answer with what the caller may see of it.
            case = await queries.get_case(scr, principal, person_id, with_decisions=False)
            return json_response({"effect": effect, "case": case}, status_code=201)

        return await idempotent(keys, principal, key, request, f"{person_id}\n{body.model_dump_json()}", run)

    @router.post("/age-assessments/bulk")
    async def assess_ages_bulk(
        body: BulkAgeAssessments, principal: AgeAssessor, request: Request, key: IdempotencyKey = None
    ) -> Response:
        async def run() -> Any:
            items = [AgeAssessment(**i.model_dump()) for i in body.items]
            effects = await handlers.assess_ages(scr, items, cause(principal, request))
            return json_response({"recorded": len(effects), "effects": effects}, status_code=201)

        return await idempotent(keys, principal, key, request, body.model_dump_json(), run)

    @router.post("/cases/{person_id}/handover")
    async def hand_over(
        person_id: str,
        body: HandoverIn,
        principal: ChildProtection,
        request: Request,
        key: IdempotencyKey = None,
    ) -> Response:
        async def run() -> Any:
            await handlers.record_handover(
                scr,
                person_id,
                body.receiving_actor,
                body.handed_over_at,
                body.note,
                cause(principal, request),
            )
            return await answer(principal, person_id, {})

        return await idempotent(keys, principal, key, request, f"{person_id}\n{body.model_dump_json()}", run)

    @router.post("/cases/{person_id}/vetting-decisions")
    async def decide_vetting(
        person_id: str,
        body: VettingDecisionIn,
        principal: VettingOfficer,
        request: Request,
        key: IdempotencyKey = None,
    ) -> Response:
        async def run() -> Any:
            decision = await handlers.decide_vetting(
                scr, person_id, body.status, body.reason_code, body.reason, cause(principal, request)
            )
            return await answer(principal, person_id, {"decision_id": decision})

        return await idempotent(keys, principal, key, request, f"{person_id}\n{body.model_dump_json()}", run)

    @router.post("/cases/{person_id}/membership-decisions")
    async def decide_membership(
        person_id: str,
        body: MembershipDecisionIn,
        principal: Officer,
        request: Request,
        key: IdempotencyKey = None,
    ) -> Response:
        async def run() -> Any:
            decision = await handlers.decide_membership(
                scr, person_id, body.verified, body.reason_code, body.reason, cause(principal, request)
            )
            return await answer(principal, person_id, {"decision_id": decision})

        return await idempotent(keys, principal, key, request, f"{person_id}\n{body.model_dump_json()}", run)

    @router.post("/cases/{person_id}/handling-tests")
    async def handling_test(
        person_id: str, body: HandlingTestIn, principal: Officer, request: Request, key: IdempotencyKey = None
    ) -> Response:
        async def run() -> Any:
            [decision] = await handlers.record_handling_tests(
                scr, [(person_id, body.passed)], cause(principal, request)
            )
            return await answer(principal, person_id, {"decision_id": decision})

        return await idempotent(keys, principal, key, request, f"{person_id}\n{body.model_dump_json()}", run)

    @router.post("/handling-tests/bulk")
    async def handling_tests_bulk(
        body: BulkHandlingTests, principal: Officer, request: Request, key: IdempotencyKey = None
    ) -> Response:
        async def run() -> Any:
            items = [(i.person_id, i.passed) for i in body.items]
            decisions = await handlers.record_handling_tests(scr, items, cause(principal, request))
            return json_response({"recorded": len(decisions), "decision_ids": decisions}, status_code=201)

        return await idempotent(keys, principal, key, request, body.model_dump_json(), run)

    @router.post("/cases/{person_id}/reinsertion-choice")
    async def choose_reinsertion(
        person_id: str, principal: Officer, request: Request, key: IdempotencyKey = None
    ) -> Response:
        async def run() -> Any:
            decision = await handlers.choose_reinsertion(scr, person_id, cause(principal, request))
            return await answer(principal, person_id, {"decision_id": decision})

        return await idempotent(keys, principal, key, request, person_id, run)

    @router.post("/cases/{person_id}/appeals")
    async def lodge_appeal(
        person_id: str, body: AppealIn, principal: Officer, request: Request, key: IdempotencyKey = None
    ) -> Response:
        async def run() -> Any:
            appeal = await handlers.lodge_appeal(
                scr, person_id, body.decision_id, body.reason, cause(principal, request)
            )
            return await answer(principal, person_id, {"appeal_id": appeal})

        return await idempotent(keys, principal, key, request, f"{person_id}\n{body.model_dump_json()}", run)

    @router.post("/cases/{person_id}/appeals/{appeal_id}/decision")
    async def decide_appeal(
        person_id: str,
        appeal_id: str,
        body: AppealDecisionIn,
        principal: Officer,
        request: Request,
        key: IdempotencyKey = None,
    ) -> Response:
        async def run() -> Any:
            await handlers.decide_appeal(
                scr,
                person_id,
                appeal_id,
                body.overturned,
                body.replacement,
                body.reason,
                cause(principal, request),
            )
            return await answer(principal, person_id, {"appeal_id": appeal_id})

        fingerprint = f"{person_id}\n{appeal_id}\n{body.model_dump_json()}"
        return await idempotent(keys, principal, key, request, fingerprint, run)

    return router
