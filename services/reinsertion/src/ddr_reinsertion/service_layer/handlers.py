"""Command handlers: each loads what it decides on, asks the domain, appends events and keeps the read model,
all in one transaction (see :mod:`ddr_reinsertion.service_layer.unit` for how concurrency is held)."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row, bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.events import DomainEvent
from ddr_contracts.reinsertion import (
    BeneficiaryEnrolled,
    BudgetLineOpened,
    CounsellingProfileRecorded,
    FollowUpVisitRecorded,
    FundsCommitted,
    FundsDisbursed,
    FundsReceived,
    PackageGranted,
    PackageVersionPublished,
    PlannedTranche,
    TrainingAttended,
    TrancheDisbursed,
    TrancheTerms,
    VolunteerListed,
    VolunteerRoundOpened,
)
from ddr_reinsertion.adapters.bulk import insert_rows
from ddr_reinsertion.adapters.tables import (
    beneficiaries,
    budget_lines,
    holds,
    packages,
    payment_requests,
    round_regions,
    rounds,
    tranches,
    visits,
)
from ddr_reinsertion.domain import commands as c
from ddr_reinsertion.domain.beneficiary import (
    Progress,
    Standing,
    TrancheDue,
    caseload_of,
    check_may_draw,
    check_may_enrol,
    check_payable,
)
from ddr_reinsertion.domain.catalogue import PackageTerms
from ddr_reinsertion.domain.errors import AlreadyDone, ReinsertionError, RuleViolated, UnknownRecord
from ddr_reinsertion.domain.ledger import BudgetLine
from ddr_reinsertion.domain.rounds import Round
from ddr_reinsertion.service_layer.catalogue import package_terms
from ddr_reinsertion.service_layer.results import Enrolled, Listed, Paid, Refused
from ddr_reinsertion.service_layer.unit import (
    LineDecision,
    Reinsertion,
    at,
    beneficiary_stream,
    change_line,
    end_beneficiary,
    line_stream,
    lock_beneficiaries,
    new_id,
    tranche_stream,
)
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation, NewEvent

LITERACY = ("none", "basic", "functional", "fluent")
VISIT_OUTCOMES = ("business_running", "employed", "dropped_out", "relocated", "not_found")


def refused(key: str, error: ReinsertionError) -> Refused:
    return Refused(key, error.rule, error.detail, conflict=isinstance(error, AlreadyDone))


async def holds_of(conn: AsyncConnection, person_ids: Sequence[str]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    ids = list(set(person_ids))
    for start in range(0, len(ids), 500):
        rows = await conn.execute(
            select(holds.c.person_id, func.count())
            .where(holds.c.person_id.in_(ids[start : start + 500]))
            .group_by(holds.c.person_id)
        )
        counts.update({row[0]: row[1] for row in rows})
    return counts


def standing(row: Row[Any] | None, held: int) -> Standing:
    if row is None:
        return Standing(barred=False, integration_active=False, holds=held)
    return Standing(barred=row.barred, integration_active=row.integration_active, holds=held)


# -- rounds ---------------------------------------------------------------------------------------------


async def open_round(unit: Reinsertion, cmd: c.OpenRound, causation: Causation) -> None:
    if not cmd.regions or len(set(cmd.regions)) != len(cmd.regions):
        raise RuleViolated("regions", "a round names one or more distinct regions")
    if cmd.size_per_region <= 0:
        raise RuleViolated("size_per_region", "a round lists at least one volunteer per region")

    async def work(conn: AsyncConnection) -> None:
        event = VolunteerRoundOpened(
            round_id=cmd.round_id,
            title=cmd.title,
            regions=list(cmd.regions),
            size_per_region=cmd.size_per_region,
            opened_on=cmd.opened_on,
        )
        try:
            await unit.store.append(
                f"round-{cmd.round_id}",
                0,
                [NewEvent(event, cmd.round_id, at(cmd.opened_on))],
                causation,
                conn=conn,
            )
        except ConcurrencyConflict:
            raise AlreadyDone("round_exists", f"round {cmd.round_id} is already open") from None
        await conn.execute(
            insert(rounds).values(
                round_id=cmd.round_id,
                title=cmd.title,
                size_per_region=cmd.size_per_region,
                opened_on=cmd.opened_on,
                version=1,
            )
        )
        await conn.execute(
            insert(round_regions), [{"round_id": cmd.round_id, "region": r} for r in cmd.regions]
        )

    await unit.run(work)


async def list_volunteers(
    unit: Reinsertion, cmd: c.ListVolunteers, causation: Causation
) -> list[Listed | Refused]:
    async def work(conn: AsyncConnection) -> list[Listed | Refused]:
        head = (await conn.execute(select(rounds).where(rounds.c.round_id == cmd.round_id))).first()
        if head is None:
            raise UnknownRecord("round", cmd.round_id)
        counts = {
            row.region: row.listed
            for row in await conn.execute(
                select(round_regions).where(round_regions.c.round_id == cmd.round_id)
            )
        }
        the_round = Round(cmd.round_id, tuple(counts), head.size_per_region)
        rows = await lock_beneficiaries(conn, [v.person_id for v in cmd.volunteers])
        results: list[Listed | Refused] = []
        events: list[NewEvent] = []
        accepted: list[c.Volunteer] = []
        seen: set[str] = set()
        for volunteer in cmd.volunteers:
            row = rows.get(volunteer.person_id)
            try:
                if volunteer.person_id in seen:
                    raise AlreadyDone("duplicate_volunteer", "the person is listed twice in this request")
                check_may_draw(standing(row, 0))
                if row is not None and row.stage in ("waiting", "active"):
                    raise AlreadyDone("already_a_beneficiary", f"the person is already {row.stage}")
                the_round.check_listing(volunteer.region, counts.get(volunteer.region, 0))
            except ReinsertionError as error:
                results.append(refused(volunteer.person_id, error))
                continue
            seen.add(volunteer.person_id)
            counts[volunteer.region] += 1
            accepted.append(volunteer)
            results.append(Listed(volunteer.person_id, volunteer.region))
            event = VolunteerListed(
                round_id=cmd.round_id,
                person_id=volunteer.person_id,
                region=volunteer.region,
                sex=volunteer.sex,
                category=volunteer.category,
                movement=volunteer.movement,
                rank=volunteer.rank,
                listed_on=cmd.listed_on,
            )
            events.append(NewEvent(event, volunteer.person_id, at(cmd.listed_on)))
        if not events:
            return results
        await unit.store.append(f"round-{cmd.round_id}", head.version, events, causation, conn=conn)
        await conn.execute(
            update(rounds).where(rounds.c.round_id == cmd.round_id).values(version=head.version + len(events))
        )
        await conn.execute(
            update(round_regions)
            .where(round_regions.c.round_id == cmd.round_id, round_regions.c.region == bindparam("b_region"))
            .values(listed=bindparam("b_listed")),
            [{"b_region": region, "b_listed": listed} for region, listed in counts.items()],
        )
        fresh = [v for v in accepted if v.person_id not in rows]
        known = [v for v in accepted if v.person_id in rows]
        values = [
            {
                "b_person": v.person_id,
                "stage": "waiting",
                "source": "volunteer_round",
                "round_id": cmd.round_id,
                "region": v.region,
                "sex": v.sex,
                "category": v.category,
                "movement": v.movement,
                "rank": v.rank,
            }
            for v in accepted
        ]
        if fresh:
            await conn.execute(
                insert(beneficiaries),
                [
                    {**{k: v for k, v in value.items() if k != "b_person"}, "person_id": value["b_person"]}
                    for value in values
                    if value["b_person"] not in rows
                ],
            )
        if known:
            await conn.execute(
                update(beneficiaries)
                .where(beneficiaries.c.person_id == bindparam("b_person"))
                .values({k: bindparam(k) for k in values[0] if k != "b_person"}),
                [value for value in values if value["b_person"] in rows],
            )
        return results

    return await unit.run(work)


# -- catalogue and budget lines -------------------------------------------------------------------------


async def publish_package(unit: Reinsertion, terms: PackageTerms, causation: Causation) -> int:
    """Publish a new version of ``terms.package_id``; returns its version number."""
    terms.validate()

    async def work(conn: AsyncConnection) -> int:
        current = (
            await conn.execute(
                select(func.max(packages.c.package_version)).where(packages.c.package_id == terms.package_id)
            )
        ).scalar() or 0
        version = current + 1
        event = PackageVersionPublished(
            package_id=terms.package_id,
            package_version=version,
            kind=terms.kind,
            title=terms.title,
            caseloads=list(terms.caseloads),
            currency=terms.currency,
            base_amount=terms.base_amount,
            category_supplements=terms.category_supplements,
            rank_supplements=terms.rank_supplements,
            per_dependant_amount=terms.per_dependant_amount,
            max_dependants=terms.max_dependants,
            tranches=[
                TrancheTerms(
                    number=t.number,
                    share_percent=t.share_percent,
                    due_after_days=t.due_after_days,
                    condition=t.condition,
                )
                for t in terms.tranches
            ],
            follow_up_after_days=list(terms.follow_up_after_days),
            effective_on=terms.effective_on,
        )
        await unit.store.append(
            f"package-{terms.package_id}",
            current,
            [NewEvent(event, terms.package_id, at(terms.effective_on))],
            causation,
            conn=conn,
        )
        await conn.execute(
            insert(packages).values(
                package_id=terms.package_id,
                package_version=version,
                kind=terms.kind,
                title=terms.title,
                terms=json.dumps(event.model_dump(mode="json")),
                effective_on=terms.effective_on,
            )
        )
        return version

    return await unit.run(work)


async def open_budget_line(unit: Reinsertion, cmd: c.OpenBudgetLine, causation: Causation) -> None:
    if cmd.allotted <= 0:
        raise RuleViolated("allotted", "a budget line's allotment must be positive")

    async def work(conn: AsyncConnection) -> None:
        event = BudgetLineOpened(
            line_id=cmd.line_id,
            funding_source=cmd.funding_source,
            title=cmd.title,
            currency=cmd.currency,
            allotted=cmd.allotted,
            opened_on=cmd.opened_on,
        )
        try:
            await unit.store.append(
                line_stream(cmd.line_id),
                0,
                [NewEvent(event, cmd.line_id, at(cmd.opened_on))],
                causation,
                conn=conn,
            )
        except ConcurrencyConflict:
            raise AlreadyDone("budget_line_exists", f"budget line {cmd.line_id} already exists") from None
        await conn.execute(
            insert(budget_lines).values(
                line_id=cmd.line_id,
                funding_source=cmd.funding_source,
                title=cmd.title,
                currency=cmd.currency,
                allotted=cmd.allotted,
                version=1,
            )
        )

    await unit.run(work)


async def receive_funds(unit: Reinsertion, cmd: c.ReceiveFunds, causation: Causation) -> None:
    def decide(line: BudgetLine) -> LineDecision[None]:
        event = FundsReceived(
            line_id=line.line_id, amount=cmd.amount, reference=cmd.reference, received_on=cmd.received_on
        )
        return line.receive(cmd.amount), [event], None

    async def work(conn: AsyncConnection) -> None:
        await change_line(unit.store, conn, cmd.line_id, decide, causation, at(cmd.received_on))

    await unit.run(work)


# -- enrolment ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Choice:
    index: int
    cmd: c.Enrol
    row: Row[Any]
    terms: PackageTerms
    caseload: str
    amount: int
    commitment_id: str


async def enrol(
    unit: Reinsertion, commands: Sequence[c.Enrol], causation: Causation
) -> list[Enrolled | Refused]:
    """Counselling and choice for each person: enrolment, profile, package granted and funds committed."""

    async def work(conn: AsyncConnection) -> list[Enrolled | Refused]:
        rows = await lock_beneficiaries(conn, [cmd.person_id for cmd in commands])
        held = await holds_of(conn, list(rows))
        results: dict[int, Enrolled | Refused] = {}
        by_line: dict[str, list[_Choice]] = defaultdict(list)
        terms_cache: dict[tuple[str, int | None, Any], PackageTerms] = {}
        seen: set[str] = set()
        for index, cmd in enumerate(commands):
            row = rows.get(cmd.person_id)
            try:
                if cmd.person_id in seen:
                    raise AlreadyDone("duplicate_in_request", "the person appears twice in this request")
                check_may_enrol(None if row is None else row.stage, standing(row, held.get(cmd.person_id, 0)))
                assert row is not None
                if cmd.literacy not in LITERACY:
                    raise RuleViolated("literacy", f"literacy must be one of {', '.join(LITERACY)}")
                if cmd.dependants < 0:
                    raise RuleViolated("dependants", "dependants cannot be negative")
                key = (cmd.package_id, cmd.package_version, cmd.enrolled_on)
                if key not in terms_cache:
                    terms_cache[key] = await package_terms(
                        conn, cmd.package_id, cmd.package_version, cmd.enrolled_on
                    )
                terms = terms_cache[key]
                caseload = caseload_of(row.category or "")
                if not terms.admits(caseload):
                    raise RuleViolated(
                        "package_not_for_caseload",
                        f"package {terms.package_id} is not offered to the {caseload} caseload",
                    )
            except ReinsertionError as error:
                results[index] = refused(cmd.person_id, error)
                continue
            seen.add(cmd.person_id)
            amount = terms.entitlement(row.category or "", row.rank or "", cmd.dependants)
            by_line[cmd.line_id].append(_Choice(index, cmd, row, terms, caseload, amount, new_id()))

        accepted: list[_Choice] = []
        for line_id in sorted(by_line):
            choices = by_line[line_id]

            def decide(line: BudgetLine, choices: list[_Choice] = choices) -> LineDecision[list[_Choice]]:
                events: list[DomainEvent] = []
                taken: list[_Choice] = []
                for choice in choices:
                    try:
                        line = line.commit(choice.amount, choice.terms.currency)
                    except RuleViolated as error:
                        results[choice.index] = refused(choice.cmd.person_id, error)
                        continue
                    taken.append(choice)
                    events.append(
                        FundsCommitted(
                            line_id=line.line_id, commitment_id=choice.commitment_id, amount=choice.amount
                        )
                    )
                return line, events, taken

            try:
                accepted += await change_line(unit.store, conn, line_id, decide, causation)
            except UnknownRecord as error:
                for choice in choices:
                    results[choice.index] = refused(choice.cmd.person_id, error)
        await _record_enrolments(unit, conn, accepted, causation, results)
        return [results[i] for i in range(len(commands))]

    return await unit.run(work)


async def _record_enrolments(
    unit: Reinsertion,
    conn: AsyncConnection,
    accepted: list[_Choice],
    causation: Causation,
    results: dict[int, Enrolled | Refused],
) -> None:
    new_streams: list[tuple[str, list[NewEvent]]] = []
    tranche_rows: list[dict[str, Any]] = []
    visit_rows: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    for choice in accepted:
        cmd, row, terms = choice.cmd, choice.row, choice.terms
        planned = terms.timetable(choice.amount, cmd.enrolled_on)
        visits_due = terms.visits_due(cmd.enrolled_on)
        when = at(cmd.enrolled_on)
        events = [
            BeneficiaryEnrolled(
                person_id=cmd.person_id,
                source=row.source,
                round_id=row.round_id,
                region=row.region or "",
                sex=row.sex or "",
                category=row.category or "",
                movement=row.movement or "",
                effective_on=cmd.enrolled_on,
            ),
            CounsellingProfileRecorded(
                person_id=cmd.person_id,
                caseload=choice.caseload,
                skills=list(cmd.skills),
                literacy=cmd.literacy,
                area_of_return=cmd.area_of_return,
                dependants=cmd.dependants,
                counselled_on=cmd.enrolled_on,
            ),
            PackageGranted(
                person_id=cmd.person_id,
                commitment_id=choice.commitment_id,
                package_id=terms.package_id,
                package_version=terms.package_version,
                kind=terms.kind,
                line_id=cmd.line_id,
                currency=terms.currency,
                amount=choice.amount,
                tranches=[
                    PlannedTranche(number=t.number, amount=t.amount, due_on=t.due_on, condition=t.condition)
                    for t in planned
                ],
                visits_due=visits_due,
                granted_on=cmd.enrolled_on,
            ),
        ]
        new = [NewEvent(e, cmd.person_id, when) for e in events]
        if row.version == 0:
            new_streams.append((beneficiary_stream(cmd.person_id), new))
        else:  # a person coming back after an earlier exit
            await unit.store.append(beneficiary_stream(cmd.person_id), row.version, new, causation, conn=conn)
        updates.append(
            {
                "b_person": cmd.person_id,
                "stage": "active",
                "version": row.version + len(events),
                "caseload": choice.caseload,
                "package_id": terms.package_id,
                "package_kind": terms.kind,
                "commitment_id": choice.commitment_id,
                "line_id": cmd.line_id,
                "committed": choice.amount,
                "disbursed": 0,
                "training_attended": False,
                "visits_done": 0,
                "enrolled_on": cmd.enrolled_on,
                "exited_on": None,
            }
        )
        tranche_rows += [
            {
                "commitment_id": choice.commitment_id,
                "number": t.number,
                "person_id": cmd.person_id,
                "amount": t.amount,
                "due_on": t.due_on,
                "condition": t.condition,
                "paid": False,
            }
            for t in planned
        ]
        visit_rows += [
            {"commitment_id": choice.commitment_id, "seq": seq, "person_id": cmd.person_id, "due_on": due}
            for seq, due in enumerate(visits_due, start=1)
        ]
        results[choice.index] = Enrolled(
            person_id=cmd.person_id,
            caseload=choice.caseload,
            commitment_id=choice.commitment_id,
            package_id=terms.package_id,
            package_version=terms.package_version,
            line_id=cmd.line_id,
            currency=terms.currency,
            amount=choice.amount,
            tranches=tuple(planned),
            visits_due=tuple(visits_due),
        )
    if new_streams:
        await unit.store.append_new_streams(new_streams, causation, conn=conn)
    if updates:
        await conn.execute(
            update(beneficiaries)
            .where(beneficiaries.c.person_id == bindparam("b_person"))
            .values({k: bindparam(k) for k in updates[0] if k != "b_person"}),
            updates,
        )
    await insert_rows(conn, tranches, tranche_rows)
    await insert_rows(conn, visits, visit_rows)


# -- disbursements --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Payment:
    index: int
    cmd: c.Disburse
    row: Row[Any]
    tranche: TrancheDue
    disbursement_id: str


def _paid_from(row: Row[Any], replayed: bool) -> Paid:
    return Paid(
        request_id=row.request_id,
        person_id=row.person_id,
        tranche=row.tranche,
        amount=row.amount,
        line_id=row.line_id,
        disbursement_id=row.disbursement_id,
        office=row.office,
        paid_on=row.paid_on,
        replayed=replayed,
    )


async def disburse(
    unit: Reinsertion, commands: Sequence[c.Disburse], causation: Causation
) -> list[Paid | Refused]:
    """Pay tranches, each exactly once: a request id seen before answers what it paid then; a tranche
    already paid under another request is refused; the budget line's cash never goes below zero."""

    async def work(conn: AsyncConnection) -> list[Paid | Refused]:
        rows = await lock_beneficiaries(conn, [cmd.person_id for cmd in commands])
        held = await holds_of(conn, list(rows))
        earlier = await _earlier_requests(conn, [cmd.request_id for cmd in commands])
        plans = await _tranches_of(conn, [row.commitment_id for row in rows.values() if row.commitment_id])
        results: dict[int, Paid | Refused] = {}
        by_line: dict[str, list[_Payment]] = defaultdict(list)
        in_request: set[tuple[str, int]] = set()
        for index, cmd in enumerate(commands):
            previous = earlier.get(cmd.request_id)
            if previous is not None:
                if (previous.person_id, previous.tranche) == (cmd.person_id, cmd.tranche):
                    results[index] = _paid_from(previous, replayed=True)
                else:
                    results[index] = Refused(
                        cmd.request_id,
                        "request_id_reused",
                        "this request id already paid another tranche",
                        True,
                    )
                continue
            row = rows.get(cmd.person_id)
            try:
                if row is None or row.commitment_id is None:
                    raise UnknownRecord("beneficiary", cmd.person_id)
                if (cmd.person_id, cmd.tranche) in in_request:
                    raise AlreadyDone("tranche_already_paid", "the tranche appears twice in this request")
                tranche = check_payable(
                    row.stage,
                    standing(row, held.get(cmd.person_id, 0)),
                    plans.get(row.commitment_id, []),
                    cmd.tranche,
                    cmd.paid_on,
                    Progress(row.training_attended, row.visits_done),
                )
            except ReinsertionError as error:
                results[index] = refused(cmd.request_id, error)
                continue
            in_request.add((cmd.person_id, cmd.tranche))
            by_line[row.line_id].append(_Payment(index, cmd, row, tranche, new_id()))

        accepted: list[_Payment] = []
        for line_id in sorted(by_line):
            payments = by_line[line_id]

            def decide(line: BudgetLine, payments: list[_Payment] = payments) -> LineDecision[list[_Payment]]:
                events: list[DomainEvent] = []
                taken: list[_Payment] = []
                for payment in payments:
                    try:
                        line = line.disburse(payment.tranche.amount)
                    except RuleViolated as error:
                        results[payment.index] = refused(payment.cmd.request_id, error)
                        continue
                    taken.append(payment)
                    events.append(
                        FundsDisbursed(
                            line_id=line.line_id,
                            commitment_id=payment.row.commitment_id,
                            disbursement_id=payment.disbursement_id,
                            amount=payment.tranche.amount,
                        )
                    )
                return line, events, taken

            accepted += await change_line(unit.store, conn, line_id, decide, causation)
        await _record_payments(unit, conn, accepted, causation, results)
        return [results[i] for i in range(len(commands))]

    return await unit.run(work)


async def _earlier_requests(conn: AsyncConnection, request_ids: Sequence[str]) -> dict[str, Row[Any]]:
    found: dict[str, Row[Any]] = {}
    ids = list(set(request_ids))
    for start in range(0, len(ids), 500):
        query = select(payment_requests).where(payment_requests.c.request_id.in_(ids[start : start + 500]))
        found.update({row.request_id: row for row in await conn.execute(query)})
    return found


async def _tranches_of(conn: AsyncConnection, commitment_ids: Sequence[str]) -> dict[str, list[TrancheDue]]:
    plans: dict[str, list[TrancheDue]] = defaultdict(list)
    ids = list(set(commitment_ids))
    for start in range(0, len(ids), 500):
        query = (
            select(tranches)
            .where(tranches.c.commitment_id.in_(ids[start : start + 500]))
            .order_by(tranches.c.commitment_id, tranches.c.number)
        )
        for row in await conn.execute(query):
            plans[row.commitment_id].append(
                TrancheDue(row.number, row.amount, row.due_on, row.condition, row.paid)
            )
    return plans


async def _record_payments(
    unit: Reinsertion,
    conn: AsyncConnection,
    accepted: list[_Payment],
    causation: Causation,
    results: dict[int, Paid | Refused],
) -> None:
    if not accepted:
        return
    streams: list[tuple[str, list[NewEvent]]] = []
    for payment in accepted:
        cmd, row = payment.cmd, payment.row
        event = TrancheDisbursed(
            person_id=cmd.person_id,
            commitment_id=row.commitment_id,
            tranche=cmd.tranche,
            amount=payment.tranche.amount,
            line_id=row.line_id,
            disbursement_id=payment.disbursement_id,
            request_id=cmd.request_id,
            office=cmd.office,
            paid_on=cmd.paid_on,
        )
        streams.append(
            (
                tranche_stream(row.commitment_id, cmd.tranche),
                [NewEvent(event, cmd.person_id, at(cmd.paid_on))],
            )
        )
        results[payment.index] = Paid(
            request_id=cmd.request_id,
            person_id=cmd.person_id,
            tranche=cmd.tranche,
            amount=payment.tranche.amount,
            line_id=row.line_id,
            disbursement_id=payment.disbursement_id,
            office=cmd.office,
            paid_on=cmd.paid_on,
        )
    # A tranche stream exists once its tranche is paid: a second payment cannot be stored.
    await unit.store.append_new_streams(streams, causation, conn=conn)
    await insert_rows(
        conn,
        payment_requests,
        [
            {
                "request_id": p.cmd.request_id,
                "person_id": p.cmd.person_id,
                "commitment_id": p.row.commitment_id,
                "tranche": p.cmd.tranche,
                "amount": p.tranche.amount,
                "line_id": p.row.line_id,
                "disbursement_id": p.disbursement_id,
                "office": p.cmd.office,
                "paid_on": p.cmd.paid_on,
            }
            for p in accepted
        ],
    )
    await conn.execute(
        update(tranches)
        .where(
            tranches.c.commitment_id == bindparam("b_commitment"), tranches.c.number == bindparam("b_number")
        )
        .values(paid=True, disbursement_id=bindparam("b_disbursement"), paid_on=bindparam("b_paid_on")),
        [
            {
                "b_commitment": p.row.commitment_id,
                "b_number": p.cmd.tranche,
                "b_disbursement": p.disbursement_id,
                "b_paid_on": p.cmd.paid_on,
            }
            for p in accepted
        ],
    )
    await conn.execute(
        update(beneficiaries)
        .where(beneficiaries.c.person_id == bindparam("b_person"))
        .values(disbursed=beneficiaries.c.disbursed + bindparam("b_amount")),
        [{"b_person": p.cmd.person_id, "b_amount": p.tranche.amount} for p in accepted],
    )


# -- follow-up ------------------------------------------------------------------------------------------


async def _active_row(conn: AsyncConnection, person_id: str) -> Row[Any]:
    row = (await lock_beneficiaries(conn, [person_id])).get(person_id)
    if row is None or row.enrolled_on is None:
        raise UnknownRecord("beneficiary", person_id)
    if row.stage != "active":
        raise RuleViolated("not_active", f"the beneficiary is {row.stage}")
    return row


async def record_training(unit: Reinsertion, cmd: c.RecordTraining, causation: Causation) -> None:
    async def work(conn: AsyncConnection) -> None:
        row = await _active_row(conn, cmd.person_id)
        event = TrainingAttended(
            person_id=cmd.person_id,
            commitment_id=row.commitment_id,
            provider=cmd.provider,
            attended_on=cmd.attended_on,
        )
        await unit.store.append(
            beneficiary_stream(cmd.person_id),
            row.version,
            [NewEvent(event, cmd.person_id, at(cmd.attended_on))],
            causation,
            conn=conn,
        )
        await conn.execute(
            update(beneficiaries)
            .where(beneficiaries.c.person_id == cmd.person_id)
            .values(training_attended=True, version=row.version + 1)
        )

    await unit.run(work)


async def record_visit(unit: Reinsertion, cmd: c.RecordVisit, causation: Causation) -> None:
    """A follow-up visit fills the earliest planned visit still open; ``dropped_out`` ends participation."""
    if cmd.outcome not in VISIT_OUTCOMES:
        raise RuleViolated("outcome", f"outcome must be one of {', '.join(VISIT_OUTCOMES)}")

    async def work(conn: AsyncConnection) -> None:
        row = await _active_row(conn, cmd.person_id)
        if cmd.visited_on < row.enrolled_on:
            raise RuleViolated("visited_on", "a follow-up visit comes after enrolment")
        event = FollowUpVisitRecorded(
            person_id=cmd.person_id,
            visit_id=cmd.visit_id,
            outcome=cmd.outcome,
            visited_on=cmd.visited_on,
        )
        await unit.store.append(
            beneficiary_stream(cmd.person_id),
            row.version,
            [NewEvent(event, cmd.person_id, at(cmd.visited_on))],
            causation,
            conn=conn,
        )
        await conn.execute(
            update(beneficiaries)
            .where(beneficiaries.c.person_id == cmd.person_id)
            .values(visits_done=row.visits_done + 1, version=row.version + 1)
        )
        open_visit = (
            await conn.execute(
                select(visits.c.seq)
                .where(visits.c.commitment_id == row.commitment_id, visits.c.visit_id.is_(None))
                .order_by(visits.c.seq)
                .limit(1)
            )
        ).scalar()
        if open_visit is not None:
            await conn.execute(
                update(visits)
                .where(visits.c.commitment_id == row.commitment_id, visits.c.seq == open_visit)
                .values(visit_id=cmd.visit_id, visited_on=cmd.visited_on, outcome=cmd.outcome)
            )
        if cmd.outcome == "dropped_out":
            fresh = (await lock_beneficiaries(conn, [cmd.person_id]))[cmd.person_id]
            await end_beneficiary(unit.store, conn, fresh, "dropped_out", cmd.visited_on, causation)

    await unit.run(work)


async def end_participation(unit: Reinsertion, cmd: c.EndParticipation, causation: Causation) -> None:
    if cmd.reason not in ("completed", "dropped_out", "withdrawn"):
        raise RuleViolated("reason", "reason must be completed, dropped_out or withdrawn")

    async def work(conn: AsyncConnection) -> None:
        row = await _active_row(conn, cmd.person_id)
        if cmd.reason == "completed":
            unpaid = (
                await conn.execute(
                    select(func.count())
                    .select_from(tranches)
                    .where(tranches.c.commitment_id == row.commitment_id, tranches.c.paid.is_(False))
                )
            ).scalar()
            if unpaid:
                raise RuleViolated("tranches_unpaid", f"{unpaid} tranche(s) are still unpaid: not complete")
        await end_beneficiary(unit.store, conn, row, cmd.reason, cmd.effective_on, causation)

    await unit.run(work)
