"""The reinsertion API: thin routes that parse, build the command, call the service layer and answer.

Who may call what is declared once in :mod:`ddr_reinsertion.entrypoints.roles`. Money is answered as
decimal strings ("1500.00"), never floats. Bulk routes answer item by item (each item's index, its person,
status and rule when refused); ``?atomic=true`` records all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.encoders import jsonable_encoder
from starlette.responses import JSONResponse, Response

from ddr_reinsertion.domain import commands as c
from ddr_reinsertion.domain.beneficiary import Payment
from ddr_reinsertion.domain.catalogue import PackageTerms
from ddr_reinsertion.domain.values import TrancheTerms
from ddr_reinsertion.entrypoints import schemas as s
from ddr_reinsertion.entrypoints.roles import AggregateReader, CaseReader, Finance, Officer, ProfileReader
from ddr_reinsertion.service_layer import handlers
from ddr_reinsertion.service_layer.desk import Desk
from ddr_reinsertion.service_layer.handlers import Enrolled
from ddr_reinsertion.service_layer.views import ReadModel
from ddr_runtime.audit.reads import ReadOutcome
from ddr_runtime.audit.reads import Reads as Ledger
from ddr_runtime.auth.roles import Principal
from ddr_runtime.auth.visibility import sees_children
from ddr_runtime.http.paging import Limit, Offset
from ddr_runtime.http.problems import Problem, not_visible
from ddr_runtime.http.writes import Atomic, BulkAnswer, Command, bulk_answer, json_response
from ddr_runtime.kernel import UnknownRecord


def _desk(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    return desk


def _read_model(request: Request) -> ReadModel:
    queries: ReadModel = request.app.state.queries
    return queries


Reinsertion = Annotated[Desk, Depends(_desk)]
Queries = Annotated[ReadModel, Depends(_read_model)]


def answer(body: Any, status_code: int = 200, *, version: int | None = None) -> JSONResponse:
    """JSON with money as decimal strings."""
    return json_response(jsonable_encoder(body, custom_encoder={Decimal: str}), status_code, version=version)


async def check_region(principal: Principal, queries: ReadModel, person_id: str) -> None:
    """The gate before any read of one person: a person this service never heard of, a child (to anyone but
    child protection), and a person outside the caller's regions all answer the same 404 (reads then answer
    404 for someone never a beneficiary too). Writes are judged in their own transaction, on the store
    (:meth:`Touched.person_to_act_on`), never on this read."""
    standing = await queries.standing(person_id)
    if standing is None:
        raise not_visible("beneficiary")
    region, barred = standing
    if barred and not sees_children(principal):
        raise not_visible("beneficiary")
    if principal.regions and (region is None or not principal.covers_region(region)):
        raise not_visible("beneficiary")


async def read_of(
    ledger: Ledger, queries: ReadModel, person_ids: list[str], outcome: ReadOutcome = "shown"
) -> None:
    """Record the read of ``person_ids`` in the read ledger, saying which of them are children (so that an
    auditor without child protection is answered for a child as for a person no one was shown)."""
    await ledger.record(person_ids, outcome, children=await queries.children_among(person_ids))


@contextmanager
def on_one_person() -> Iterator[None]:
    """A write on one person refused for want of the person (never heard of, a child, outside the caller's
    regions, never enrolled) answers exactly as a read of a missing one."""
    try:
        yield
    except UnknownRecord as refused:
        if refused.kind != "beneficiary":
            raise
        raise not_visible("beneficiary") from None


def enrolled(result: Enrolled) -> dict[str, Any]:
    return {
        "status": "enrolled",
        "person_id": result.person_id,
        "caseload": result.caseload,
        "commitment_id": result.commitment_id,
        "package_id": result.package_id,
        "package_version": result.package_version,
        "line_id": result.line_id,
        "currency": result.currency,
        "amount": str(result.amount),
        "timetable": [
            {
                "tranche": t.number,
                "amount": str(t.amount),
                "due_on": t.due_on.isoformat(),
                "condition": t.condition,
            }
            for t in result.tranches
        ],
        "visits_due": [d.isoformat() for d in result.visits_due],
    }


def paid(result: Payment) -> dict[str, Any]:
    return {
        "status": "paid",
        "request_id": result.request_id,
        "person_id": result.person_id,
        "tranche": result.tranche,
        "amount": str(result.amount),
        "line_id": result.line_id,
        "disbursement_id": result.disbursement_id,
        "office": result.office,
        "paid_on": result.paid_on.isoformat(),
        "replayed": result.replayed,
    }


# -- rounds and the catalogue ---------------------------------------------------------------------------

catalogue = APIRouter(tags=["rounds and catalogue"])


@catalogue.post("/rounds", status_code=201)
async def open_round(
    body: s.RoundCreate, principal: Officer, command: Command, desk: Reinsertion, queries: Queries
) -> Response:
    """A volunteer round; a caller narrowed to regions opens rounds of those regions only (else 403)."""
    cmd = c.OpenRound(body.round_id, body.title, tuple(body.regions), body.size_per_region, body.opened_on)
    version = await handlers.open_round(desk, cmd, command.recording, command.causation, principal.regions)
    return answer(await queries.round(body.round_id), 201, version=version)


@catalogue.get("/rounds/{round_id}")
async def get_round(round_id: str, _: AggregateReader, queries: Queries) -> Response:
    return answer(await queries.round(round_id))


@catalogue.post("/rounds/{round_id}/volunteers", response_model=BulkAnswer)
async def list_volunteers(
    round_id: str, body: s.VolunteersIn, principal: Officer, command: Command, desk: Reinsertion,
    atomic: Atomic = False,
) -> Response:  # fmt: skip
    """Each volunteer listed or refused. A caller narrowed to regions lists volunteers of those regions only,
    judged on the region the person's record holds (the body's region only for someone not known yet); a
    person outside them is refused as an unknown one. A child's item answers as a stranger's, and nothing of
    the child is recorded."""
    volunteers = [
        c.Volunteer(v.person_id, v.region, v.sex, v.category, v.movement, v.rank) for v in body.volunteers
    ]
    outcomes = await handlers.list_volunteers(
        desk, round_id, volunteers, body.listed_on, command.recording, command.causation, atomic=atomic,
        regions=principal.regions,
    )  # fmt: skip
    return answer(bulk_answer(outcomes, key=lambda i: volunteers[i].person_id))


@catalogue.post("/packages", status_code=201)
async def publish_package(
    body: s.PackageIn, principal: Officer, command: Command, desk: Reinsertion
) -> Response:
    """The next version of a package. The catalogue applies to every region: a nationally scoped officer's
    (a token naming regions is refused 403)."""
    terms = PackageTerms(
        package_id=body.package_id,
        package_version=0,
        kind=body.kind,
        title=body.title,
        caseloads=tuple(body.caseloads),
        currency=body.currency.upper(),
        base_amount=body.base_amount,
        category_supplements=dict(body.category_supplements),
        rank_supplements=dict(body.rank_supplements),
        per_dependant_amount=body.per_dependant_amount,
        max_dependants=body.max_dependants,
        tranches=tuple(
            TrancheTerms(t.number, t.due_after_days, t.amount, t.share_percent, t.condition)
            for t in body.tranches
        ),
        follow_up_after_days=tuple(body.follow_up_after_days),
        effective_on=body.effective_on,
    )
    version = await handlers.publish_package(desk, terms, command.causation, principal.regions)
    return answer({"package_id": body.package_id, "package_version": version}, 201, version=version)


@catalogue.get("/packages")
async def list_packages(_: AggregateReader, queries: Queries) -> Response:
    return answer(await queries.packages())


# -- budget lines ---------------------------------------------------------------------------------------

ledger = APIRouter(tags=["budget lines"])


@ledger.post("/budget-lines", status_code=201)
async def open_line(
    body: s.BudgetLineCreate, _: Finance, command: Command, desk: Reinsertion, queries: Queries
) -> Response:
    cmd = c.OpenBudgetLine(
        body.line_id, body.funding_source, body.title, body.currency.upper(), body.allotted, body.opened_on
    )
    version = await handlers.open_budget_line(desk, cmd, command.recording, command.causation)
    return answer(await queries.budget_line(body.line_id), 201, version=version)


@ledger.post("/budget-lines/{line_id}/receipts")
async def receive(
    line_id: str, body: s.FundsIn, _: Finance, command: Command, desk: Reinsertion, queries: Queries
) -> Response:
    cmd = c.ReceiveFunds(line_id, body.amount, body.reference, body.received_on)
    version = await handlers.receive_funds(desk, cmd, command.recording, command.causation)
    return answer(await queries.budget_line(line_id), version=version)


@ledger.get("/budget-lines")
async def lines(_: AggregateReader, queries: Queries) -> Response:
    return answer(await queries.budget_lines())


@ledger.get("/budget-lines/{line_id}")
async def line(line_id: str, _: AggregateReader, queries: Queries) -> Response:
    return answer(await queries.budget_line(line_id))


@ledger.get("/dashboard")
async def dashboard(principal: AggregateReader, queries: Queries) -> Response:
    return answer(await queries.dashboard(principal.regions))


# -- beneficiaries --------------------------------------------------------------------------------------

people = APIRouter(tags=["beneficiaries"])


@people.get("/beneficiaries")
async def beneficiaries(
    principal: CaseReader, queries: Queries, ledger: Ledger, region: str | None = None,
    stage: str | None = None, limit: Limit = 500, offset: Offset = 0,
) -> Response:  # fmt: skip
    found = await queries.beneficiaries(
        regions=principal.regions, region=region, stage=stage, limit=limit, offset=offset,
        include_barred=sees_children(principal),
    )  # fmt: skip
    await read_of(ledger, queries, [row["person_id"] for row in found])
    return answer(found)


@people.get("/beneficiaries/{person_id}")
async def beneficiary(person_id: str, principal: CaseReader, queries: Queries, ledger: Ledger) -> Response:
    try:
        await check_region(principal, queries, person_id)
        found = await queries.beneficiary(person_id, include_barred=sees_children(principal))
    except (UnknownRecord, Problem):
        await read_of(ledger, queries, [person_id], "not_visible")
        raise not_visible("beneficiary") from None
    await read_of(ledger, queries, [person_id])
    return answer(found, version=found["version"])


@people.get("/beneficiaries/{person_id}/profile")
async def profile(person_id: str, principal: ProfileReader, queries: Queries, ledger: Ledger) -> Response:
    """The counselling profile, behind the same gate as the beneficiary's record (a child's answers 404)."""
    try:
        await check_region(principal, queries, person_id)
    except Problem:
        await read_of(ledger, queries, [person_id], "not_visible")
        raise
    found = await queries.counselling_profile(person_id)
    if found is None:
        raise not_visible("beneficiary")
    await read_of(ledger, queries, [person_id])
    return answer(found)


def _enrol(person_id: str, body: s.EnrolmentIn) -> c.Enrol:
    return c.Enrol(
        person_id, body.package_id, body.package_version, body.line_id, tuple(body.skills), body.literacy,
        body.area_of_return, body.dependants, body.enrolled_on,
    )  # fmt: skip


@people.post("/beneficiaries/{person_id}/enrolment", status_code=201)
async def enrol_one(
    person_id: str,
    body: s.EnrolmentIn,
    principal: Officer,
    command: Command,
    desk: Reinsertion,
) -> Response:
    with on_one_person():
        result = await handlers.enrol_one(
            desk, _enrol(person_id, body), command.recording, command.causation, principal.regions
        )
    return answer(enrolled(result), 201)


@people.post("/enrolments", response_model=BulkAnswer)
async def enrol_many(
    body: s.BatchEnrolments, principal: Officer, command: Command, desk: Reinsertion,
    atomic: Atomic = False,
) -> Response:  # fmt: skip
    commands = [_enrol(item.person_id, item) for item in body.enrolments]
    outcomes = await handlers.enrol(
        desk, commands, command.recording, command.causation, atomic=atomic, regions=principal.regions
    )
    return answer(bulk_answer(outcomes, key=lambda i: commands[i].person_id, result=enrolled))


@people.post("/beneficiaries/{person_id}/training", status_code=204)
async def training(
    person_id: str,
    body: s.TrainingIn,
    principal: Officer,
    command: Command,
    desk: Reinsertion,
) -> Response:
    cmd = c.RecordTraining(person_id, body.provider, body.attended_on)
    with on_one_person():
        await handlers.record_training(desk, cmd, command.recording, command.causation, principal.regions)
    return Response(status_code=204)


@people.post("/beneficiaries/{person_id}/visits", status_code=204)
async def visit(
    person_id: str, body: s.VisitIn, principal: Officer, command: Command, desk: Reinsertion
) -> Response:
    cmd = c.RecordVisit(person_id, body.visit_id, body.outcome, body.visited_on)
    with on_one_person():
        await handlers.record_visit(desk, cmd, command.recording, command.causation, principal.regions)
    return Response(status_code=204)


@people.post("/beneficiaries/{person_id}/exit", status_code=204)
async def leave(
    person_id: str, body: s.ExitIn, principal: Officer, command: Command, desk: Reinsertion
) -> Response:
    cmd = c.EndParticipation(person_id, body.reason, body.effective_on)
    with on_one_person():
        await handlers.end_participation(desk, cmd, command.recording, command.causation, principal.regions)
    return Response(status_code=204)


@people.get("/tranches/due")
async def due(
    principal: CaseReader, queries: Queries, ledger: Ledger, as_of: date, limit: Limit = 1000
) -> Response:
    found = await queries.tranches_due(as_of, principal.regions, limit)
    await read_of(ledger, queries, [row["person_id"] for row in found])
    return answer(found)


@people.get("/visits/overdue")
async def overdue(
    principal: CaseReader, queries: Queries, ledger: Ledger, as_of: date, limit: Limit = 1000
) -> Response:
    found = await queries.overdue_visits(as_of, principal.regions, limit)
    await read_of(ledger, queries, [row["person_id"] for row in found])
    return answer(found)


# -- disbursements --------------------------------------------------------------------------------------

payments = APIRouter(tags=["disbursements"])


def _disburse(body: s.DisbursementIn) -> c.Disburse:
    return c.Disburse(body.request_id, body.person_id, body.tranche, body.office, body.paid_on)


@payments.post("/disbursements", status_code=201)
async def disburse_one(
    body: s.DisbursementIn, principal: Finance, command: Command, desk: Reinsertion
) -> Response:
    with on_one_person():
        result = await handlers.disburse_one(
            desk, _disburse(body), command.recording, command.causation, principal.regions
        )
    return answer(paid(result), 200 if result.replayed else 201)


@payments.post("/disbursements/batch", response_model=BulkAnswer)
async def disburse_many(
    body: s.BatchDisbursements, principal: Finance, command: Command, desk: Reinsertion,
    atomic: Atomic = False,
) -> Response:  # fmt: skip
    commands = [_disburse(item) for item in body.disbursements]
    outcomes = await handlers.disburse(
        desk, commands, command.recording, command.causation, atomic=atomic, regions=principal.regions
    )
    return answer(bulk_answer(outcomes, key=lambda i: commands[i].person_id, result=paid))


ROUTERS = (catalogue, ledger, people, payments)
