"""The reinsertion API. Who may do what:

* ``reinsertion_officer`` (CNDDR): rounds, volunteers, packages, enrolment, training, visits, exits;
* ``finance_officer``: budget lines, receipts, disbursements, the ledger;
* ``donor``: aggregates only (dashboard, ledger totals, catalogue), never a person id or personal data;
* ``auditor``: read-only, everything; ``cnddr_officer``: reads.

A caller whose token names regions sees and acts on beneficiaries of those regions only.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from starlette.responses import Response

from ddr_reinsertion.domain import commands as c
from ddr_reinsertion.domain.catalogue import PackageTerms, Tranche
from ddr_reinsertion.domain.errors import UnknownRecord
from ddr_reinsertion.entrypoints import schemas as s
from ddr_reinsertion.entrypoints.errors import refused_response
from ddr_reinsertion.service_layer import handlers, queries
from ddr_reinsertion.service_layer.results import Enrolled, Listed, Paid, Refused
from ddr_reinsertion.service_layer.unit import Reinsertion
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import Causation

R = Role
Officer = Annotated[Principal, Depends(require_roles(R.REINSERTION_OFFICER))]
Finance = Annotated[Principal, Depends(require_roles(R.FINANCE_OFFICER))]
CaseReader = Annotated[
    Principal, Depends(require_roles(R.REINSERTION_OFFICER, R.FINANCE_OFFICER, R.CNDDR_OFFICER, R.AUDITOR))
]
ProfileReader = Annotated[Principal, Depends(require_roles(R.REINSERTION_OFFICER, R.AUDITOR))]
AggregateReader = Annotated[
    Principal,
    Depends(require_roles(R.REINSERTION_OFFICER, R.FINANCE_OFFICER, R.CNDDR_OFFICER, R.AUDITOR, R.DONOR)),
]
LedgerReader = Annotated[
    Principal,
    Depends(require_roles(R.FINANCE_OFFICER, R.REINSERTION_OFFICER, R.CNDDR_OFFICER, R.AUDITOR, R.DONOR)),
]


def _json(body: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=status_code)


def _causation(principal: Principal) -> Causation:
    return Causation(actor=principal.subject)


def _enrolled(result: Enrolled) -> dict[str, Any]:
    return {
        "status": "enrolled",
        "person_id": result.person_id,
        "caseload": result.caseload,
        "commitment_id": result.commitment_id,
        "package_id": result.package_id,
        "package_version": result.package_version,
        "line_id": result.line_id,
        "currency": result.currency,
        "amount": result.amount,
        "timetable": [
            {"tranche": t.number, "amount": t.amount, "due_on": t.due_on, "condition": t.condition}
            for t in result.tranches
        ],
        "visits_due": list(result.visits_due),
    }


def _paid(result: Paid) -> dict[str, Any]:
    return {
        "status": "paid",
        "request_id": result.request_id,
        "person_id": result.person_id,
        "tranche": result.tranche,
        "amount": result.amount,
        "line_id": result.line_id,
        "disbursement_id": result.disbursement_id,
        "office": result.office,
        "paid_on": result.paid_on,
        "replayed": result.replayed,
    }


def _refused(result: Refused) -> dict[str, Any]:
    return {"status": "refused", "key": result.key, "rule": result.rule, "detail": result.detail}


def _check_regions(principal: Principal, *regions: str | None) -> None:
    for region in regions:
        if region is not None and not principal.covers_region(region):
            raise UnknownRecord("beneficiary", "in a region outside your remit")


def reinsertion_router(unit: Reinsertion) -> APIRouter:
    router = APIRouter(tags=["reinsertion"])

    async def region_of(person_id: str) -> str | None:
        async with unit.reading() as conn:
            try:
                found = await queries.beneficiary(conn, person_id, include_barred=True)
            except UnknownRecord:
                return None
        region: str | None = found["region"]
        return region

    # -- rounds ---------------------------------------------------------------------------------------

    @router.post("/rounds", status_code=201)
    async def open_round(body: s.RoundCreate, principal: Officer) -> Response:
        cmd = c.OpenRound(
            body.round_id, body.title, tuple(body.regions), body.size_per_region, body.opened_on
        )
        await handlers.open_round(unit, cmd, _causation(principal))
        async with unit.reading() as conn:
            return _json(await queries.round_detail(conn, body.round_id), 201)

    @router.get("/rounds/{round_id}")
    async def get_round(round_id: str, _: AggregateReader) -> Response:
        async with unit.reading() as conn:
            return _json(await queries.round_detail(conn, round_id))

    @router.post("/rounds/{round_id}/volunteers")
    async def list_volunteers(round_id: str, body: s.VolunteersIn, principal: Officer) -> Response:
        _check_regions(principal, *(v.region for v in body.volunteers))
        volunteers = tuple(
            c.Volunteer(v.person_id, v.region, v.sex, v.category, v.movement, v.rank) for v in body.volunteers
        )
        results = await handlers.list_volunteers(
            unit, c.ListVolunteers(round_id, volunteers, body.listed_on), _causation(principal)
        )
        listed = [r for r in results if isinstance(r, Listed)]
        return _json(
            {
                "listed": len(listed),
                "refused": [_refused(r) for r in results if isinstance(r, Refused)],
            }
        )

    # -- catalogue ------------------------------------------------------------------------------------

    @router.post("/packages", status_code=201)
    async def publish_package(body: s.PackageIn, principal: Officer) -> Response:
        terms = PackageTerms(
            package_id=body.package_id,
            package_version=0,
            kind=body.kind,
            title=body.title,
            caseloads=tuple(body.caseloads),
            currency=body.currency.upper(),
            base_amount=body.base_amount,
            category_supplements=body.category_supplements,
            rank_supplements=body.rank_supplements,
            per_dependant_amount=body.per_dependant_amount,
            max_dependants=body.max_dependants,
            tranches=tuple(
                Tranche(t.number, t.share_percent, t.due_after_days, t.condition) for t in body.tranches
            ),
            follow_up_after_days=tuple(body.follow_up_after_days),
            effective_on=body.effective_on,
        )
        version = await handlers.publish_package(unit, terms, _causation(principal))
        return _json({"package_id": body.package_id, "package_version": version}, 201)

    @router.get("/packages")
    async def list_packages(_: AggregateReader) -> Response:
        async with unit.reading() as conn:
            return _json(await queries.package_list(conn))

    # -- budget lines ---------------------------------------------------------------------------------

    @router.post("/budget-lines", status_code=201)
    async def open_line(body: s.BudgetLineCreate, principal: Finance) -> Response:
        cmd = c.OpenBudgetLine(
            body.line_id,
            body.funding_source,
            body.title,
            body.currency.upper(),
            body.allotted,
            body.opened_on,
        )
        await handlers.open_budget_line(unit, cmd, _causation(principal))
        async with unit.reading() as conn:
            return _json(await queries.budget_line(conn, body.line_id), 201)

    @router.post("/budget-lines/{line_id}/receipts")
    async def receive(line_id: str, body: s.FundsIn, principal: Finance) -> Response:
        cmd = c.ReceiveFunds(line_id, body.amount, body.reference, body.received_on)
        await handlers.receive_funds(unit, cmd, _causation(principal))
        async with unit.reading() as conn:
            return _json(await queries.budget_line(conn, line_id))

    @router.get("/budget-lines")
    async def lines(_: LedgerReader) -> Response:
        async with unit.reading() as conn:
            return _json(await queries.budget_line_list(conn))

    @router.get("/budget-lines/{line_id}")
    async def line(line_id: str, _: LedgerReader) -> Response:
        async with unit.reading() as conn:
            return _json(await queries.budget_line(conn, line_id))

    # -- beneficiaries --------------------------------------------------------------------------------

    @router.get("/beneficiaries")
    async def beneficiaries(
        principal: CaseReader,
        region: str | None = None,
        stage: str | None = None,
        limit: Annotated[int, Query(ge=1, le=5000)] = 500,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> Response:
        async with unit.reading() as conn:
            found = await queries.list_beneficiaries(
                conn,
                regions=principal.regions,
                region=region,
                stage=stage,
                limit=limit,
                offset=offset,
                include_barred=principal.has_role(R.AUDITOR),
            )
        return _json(found)

    @router.get("/beneficiaries/{person_id}")
    async def beneficiary(person_id: str, principal: CaseReader) -> Response:
        async with unit.reading() as conn:
            found = await queries.beneficiary(conn, person_id, include_barred=principal.has_role(R.AUDITOR))
        _check_regions(principal, found["region"])
        return _json(found)

    @router.get("/beneficiaries/{person_id}/profile")
    async def profile(person_id: str, principal: ProfileReader) -> Response:
        _check_regions(principal, await region_of(person_id))
        found = await queries.counselling_profile(unit.store, person_id)
        if found is None:
            raise UnknownRecord("counselling_profile", person_id)
        return _json(found)

    @router.post("/beneficiaries/{person_id}/enrolment", status_code=201)
    async def enrol_one(
        person_id: str, body: s.EnrolmentIn, request: Request, principal: Officer
    ) -> Response:
        _check_regions(principal, await region_of(person_id))
        (result,) = await handlers.enrol(unit, [_enrol(person_id, body)], _causation(principal))
        if isinstance(result, Refused):
            return refused_response(result, request.url.path)
        return _json(_enrolled(result), 201)

    @router.post("/enrolments")
    async def enrol_many(body: s.BatchEnrolments, principal: Officer) -> Response:
        if principal.regions:
            for item in body.enrolments:
                _check_regions(principal, await region_of(item.person_id))
        results = await handlers.enrol(
            unit, [_enrol(item.person_id, item) for item in body.enrolments], _causation(principal)
        )
        return _json({"results": [_enrolled(r) if isinstance(r, Enrolled) else _refused(r) for r in results]})

    @router.post("/beneficiaries/{person_id}/training", status_code=204)
    async def training(person_id: str, body: s.TrainingIn, principal: Officer) -> Response:
        _check_regions(principal, await region_of(person_id))
        cmd = c.RecordTraining(person_id, body.provider, body.attended_on)
        await handlers.record_training(unit, cmd, _causation(principal))
        return Response(status_code=204)

    @router.post("/beneficiaries/{person_id}/visits", status_code=204)
    async def visit(person_id: str, body: s.VisitIn, principal: Officer) -> Response:
        _check_regions(principal, await region_of(person_id))
        cmd = c.RecordVisit(person_id, body.visit_id, body.outcome, body.visited_on)
        await handlers.record_visit(unit, cmd, _causation(principal))
        return Response(status_code=204)

    @router.post("/beneficiaries/{person_id}/exit", status_code=204)
    async def leave(person_id: str, body: s.ExitIn, principal: Officer) -> Response:
        _check_regions(principal, await region_of(person_id))
        cmd = c.EndParticipation(person_id, body.reason, body.effective_on)
        await handlers.end_participation(unit, cmd, _causation(principal))
        return Response(status_code=204)

    # -- disbursements --------------------------------------------------------------------------------

    @router.post("/disbursements", status_code=201)
    async def disburse_one(body: s.DisbursementIn, request: Request, principal: Finance) -> Response:
        _check_regions(principal, await region_of(body.person_id))
        (result,) = await handlers.disburse(unit, [_disburse(body)], _causation(principal))
        if isinstance(result, Refused):
            return refused_response(result, request.url.path)
        return _json(_paid(result), 200 if result.replayed else 201)

    @router.post("/disbursements/batch")
    async def disburse_many(body: s.BatchDisbursements, principal: Finance) -> Response:
        if principal.regions:
            for item in body.disbursements:
                _check_regions(principal, await region_of(item.person_id))
        results = await handlers.disburse(
            unit, [_disburse(item) for item in body.disbursements], _causation(principal)
        )
        return _json({"results": [_paid(r) if isinstance(r, Paid) else _refused(r) for r in results]})

    @router.get("/tranches/due")
    async def due(
        principal: CaseReader, as_of: date, limit: Annotated[int, Query(ge=1, le=5000)] = 1000
    ) -> Response:
        async with unit.reading() as conn:
            return _json(await queries.tranches_due(conn, as_of, principal.regions, limit))

    @router.get("/visits/overdue")
    async def overdue(
        principal: CaseReader, as_of: date, limit: Annotated[int, Query(ge=1, le=5000)] = 1000
    ) -> Response:
        async with unit.reading() as conn:
            return _json(await queries.overdue_visits(conn, as_of, principal.regions, limit))

    # -- aggregates -----------------------------------------------------------------------------------

    @router.get("/dashboard")
    async def dashboard(principal: AggregateReader) -> Response:
        async with unit.reading() as conn:
            return _json(await queries.dashboard(conn, principal.regions))

    return router


def _enrol(person_id: str, body: s.EnrolmentIn) -> c.Enrol:
    return c.Enrol(
        person_id=person_id,
        package_id=body.package_id,
        package_version=body.package_version,
        line_id=body.line_id,
        skills=tuple(body.skills),
        literacy=body.literacy,
        area_of_return=body.area_of_return,
        dependants=body.dependants,
        enrolled_on=body.enrolled_on,
    )


def _disburse(body: s.DisbursementIn) -> c.Disburse:
    return c.Disburse(body.request_id, body.person_id, body.tranche, body.office, body.paid_on)
