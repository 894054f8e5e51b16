"""Command handlers: load the aggregates, let them decide, save them with the versions they were loaded at.

Every handler runs in :meth:`UnitOfWork.run`: a stream moved by a concurrent writer (another office paying
from the same budget line) makes the whole command decided again on fresh state. Every write on a person
checks, in that transaction and before deciding, that the caller (narrowed to ``regions``; empty: every
region) may act on them: one gate, :meth:`Touched.person_to_act_on`, or per item on bulk commands.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from ddr_reinsertion.domain import commands as c
from ddr_reinsertion.domain.beneficiary import Choice, Payment
from ddr_reinsertion.domain.catalogue import Package, PackageTerms
from ddr_reinsertion.domain.events import BudgetLineOpened, VolunteerListed, VolunteerRoundOpened
from ddr_reinsertion.domain.ledger import BudgetLine
from ddr_reinsertion.domain.rounds import Round
from ddr_reinsertion.domain.values import PlannedTranche
from ddr_reinsertion.service_layer.bulk import decide_items
from ddr_reinsertion.service_layer.desk import (
    Desk,
    Touched,
    line_stream,
    package_stream,
    round_stream,
)
from ddr_runtime.eventstore.ports import AggregateSession, Causation, ItemOutcome
from ddr_runtime.kernel import AlreadyDone, OutsideRemit, Recording, RuleViolated, UnknownRecord


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass(frozen=True)
class Enrolled:
    person_id: str
    caseload: str
    commitment_id: str
    package_id: str
    package_version: int
    line_id: str
    currency: str
    amount: Decimal
    tranches: tuple[PlannedTranche, ...]
    visits_due: tuple[date, ...]


# -- rounds ---------------------------------------------------------------------------------------------


def within(regions: frozenset[str], named: Iterable[str]) -> bool:
    """Whether a caller narrowed to ``regions`` (empty: every region) covers every one of ``named``."""
    return not regions or set(named) <= regions


async def open_round(
    desk: Desk,
    cmd: c.OpenRound,
    recording: Recording,
    causation: Causation,
    regions: frozenset[str] = frozenset(),
) -> int:
    """Open a volunteer round. A caller narrowed to ``regions`` opens rounds of those regions only: a round
    naming another, or an id already taken by a round naming another, is refused (OutsideRemit, the one 403
    whether or not such a round exists), in the transaction that decides and before anything else."""
    at = recording.moment(cmd.opened_on)

    async def work(session: AggregateSession) -> int:
        existing = await session.load(round_stream(cmd.round_id), Round)
        if not within(regions, cmd.regions) or not within(regions, existing.regions):
            raise OutsideRemit()
        existing.check_new()
        opened = VolunteerRoundOpened(
            cmd.round_id, cmd.title, cmd.regions, cmd.size_per_region, cmd.opened_on
        )
        return await session.save(
            Round.open(opened, at), round_stream(cmd.round_id), cmd.round_id, causation, 0
        )

    return await desk.unit.run(work)


async def list_volunteers(
    desk: Desk,
    round_id: str,
    volunteers: Sequence[c.Volunteer],
    listed_on: date,
    recording: Recording,
    causation: Causation,
    *,
    atomic: bool = False,
    regions: frozenset[str] = frozenset(),
) -> list[ItemOutcome[str]]:
    """Volunteers on a round's list, each waiting for enrolment; no region beyond its size per region.

    ``regions``: the caller's remit (empty: every region). A person already known here is judged on the
    region their record holds, never on the one the request gives (a different one is refused); someone
    outside the remit is refused as an unknown beneficiary, in the transaction that decides. A child is never
    a volunteer, and its item answers exactly as that of a person this service never heard of (judged on the
    request's region, listed): nothing is recorded of the child, no place taken, so the child is in no list
    and no count here. Within the request the child's item holds a place as a stranger's would, so the items
    after it answer alike (``round_region_full``); the round's recorded places do not count it, and a second
    listing of the child answers ``recorded`` again where a stranger's is refused: that would take a record
    of the child's listing, which is never written."""

    async def work(touched: Touched) -> list[ItemOutcome[str]]:
        the_round = await touched.session.load_existing(round_stream(round_id), Round, "round", round_id)
        at = recording.moment(listed_on, after=the_round.opened_at, after_what="the round's opening")
        await touched.load_people([v.person_id for v in volunteers])
        taking: Counter[str] = Counter()
        held: Counter[str] = Counter()  # a child's place, for this request's answers only (never recorded)
        seen: set[str] = set()

        async def one(v: c.Volunteer) -> str:
            if v.person_id in seen:
                raise AlreadyDone("duplicate_volunteer", "the person is listed twice in this request")
            person = touched.people[v.person_id]
            region = v.region if person.barred else person.region or v.region
            if regions and region not in regions:
                raise UnknownRecord("beneficiary", v.person_id)
            if not person.barred and person.region and person.region != v.region:
                raise RuleViolated(
                    "region_mismatch",
                    "the person's record holds another region than the one given",
                    figures={"field": "region"},
                )
            the_round.check_place(v.region, taking + held)
            if person.barred:  # as a stranger's answer, recording nothing
                seen.add(v.person_id)
                held[v.region] += 1  # the items after it answer as after a stranger's
                return v.region
            listed = VolunteerListed(
                round_id, v.person_id, v.region, v.sex, v.category, v.movement, v.rank, listed_on
            )
            person.list_volunteer(listed, at)
            seen.add(v.person_id)
            taking[v.region] += 1
            return v.region

        outcomes = await decide_items(volunteers, one, lambda v: v.person_id, atomic=atomic)
        the_round.take(taking, listed_on, at)
        await touched.save(causation, (the_round, round_stream(round_id), round_id))
        return outcomes

    return await desk.run(work)


# -- catalogue and budget lines -------------------------------------------------------------------------


async def publish_package(
    desk: Desk, terms: PackageTerms, causation: Causation, regions: frozenset[str] = frozenset()
) -> int:
    """Publish the next version of ``terms.package_id``; its version number. The catalogue applies to every
    region: a caller narrowed to some (``regions``) is refused (OutsideRemit) before anything is read."""

    async def work(session: AggregateSession) -> int:
        if regions:
            raise OutsideRemit()
        package = await session.load(package_stream(terms.package_id), Package)
        version = package.publish(terms)
        await session.save(package, package_stream(terms.package_id), terms.package_id, causation)
        return version

    return await desk.unit.run(work)


async def open_budget_line(
    desk: Desk, cmd: c.OpenBudgetLine, recording: Recording, causation: Causation
) -> int:
    at = recording.moment(cmd.opened_on)

    async def work(session: AggregateSession) -> int:
        (await desk.line(session, cmd.line_id)).check_new()
        opened = BudgetLineOpened(
            cmd.line_id, cmd.funding_source, cmd.title, cmd.currency, cmd.allotted, cmd.opened_on
        )
        return await session.save(
            BudgetLine.open(opened, at), line_stream(cmd.line_id), cmd.line_id, causation, 0
        )

    return await desk.unit.run(work)


async def receive_funds(desk: Desk, cmd: c.ReceiveFunds, recording: Recording, causation: Causation) -> int:
    async def work(touched: Touched) -> int:
        line = await touched.line(cmd.line_id)
        at = recording.moment(cmd.received_on, after=line.opened_at, after_what="the line's opening")
        line.receive(cmd.amount, cmd.reference, at)
        await touched.save(causation)
        return line.version

    return await desk.run(work)


# -- enrolment ------------------------------------------------------------------------------------------


async def _enrol_one(
    touched: Touched, cmd: c.Enrol, recording: Recording, regions: frozenset[str] = frozenset()
) -> Enrolled:
    person = touched.people[cmd.person_id]
    package = await touched.package(cmd.package_id)
    if package.version == 0:
        raise UnknownRecord("package", cmd.package_id)
    terms = package.terms(cmd.package_id, cmd.package_version, cmd.enrolled_on)
    line = await touched.line(cmd.line_id)
    choice = Choice(
        terms,
        cmd.line_id,
        new_id(),
        cmd.skills,
        cmd.literacy,
        cmd.area_of_return,
        cmd.dependants,
        cmd.enrolled_on,
    )
    enrolling = person.prepare_enrolment(choice, recording, regions)
    line.commit(choice.commitment_id, enrolling.amount, terms.currency, enrolling.at)
    person.enrol(cmd.person_id, enrolling)
    return Enrolled(
        cmd.person_id, enrolling.caseload, choice.commitment_id, terms.package_id, terms.package_version,
        cmd.line_id, terms.currency, enrolling.amount, enrolling.tranches, tuple(terms.visits_due(cmd.enrolled_on)),
    )  # fmt: skip


async def enrol(
    desk: Desk,
    commands: Sequence[c.Enrol],
    recording: Recording,
    causation: Causation,
    *,
    atomic: bool = False,
    regions: frozenset[str] = frozenset(),
) -> list[ItemOutcome[Enrolled]]:
    """Counselling and choice for each person: enrolment, profile, package granted and funds committed. A child
    or a person outside ``regions`` (the caller's; empty: every region) is refused as a non-candidate."""

    async def work(touched: Touched) -> list[ItemOutcome[Enrolled]]:
        await touched.load_people([cmd.person_id for cmd in commands])
        seen: set[str] = set()

        async def one(cmd: c.Enrol) -> Enrolled:
            if cmd.person_id in seen:
                raise AlreadyDone("duplicate_in_request", "the person is enrolled earlier in this request")
            enrolled = await _enrol_one(touched, cmd, recording, regions)
            seen.add(cmd.person_id)
            return enrolled

        outcomes = await decide_items(commands, one, lambda cmd: cmd.person_id, atomic=atomic)
        await touched.save(causation)
        return outcomes

    return await desk.run(work)


async def enrol_one(
    desk: Desk, cmd: c.Enrol, recording: Recording, causation: Causation, regions: frozenset[str]
) -> Enrolled:
    """One person's enrolment; a caller narrowed to ``regions`` acts on that person only if the store, in
    this transaction, holds them within those regions (else 404, as for an unknown person)."""

    async def work(touched: Touched) -> Enrolled:
        await touched.person_to_act_on(cmd.person_id, regions)
        enrolled = await _enrol_one(touched, cmd, recording, regions)
        await touched.save(causation)
        return enrolled

    return await desk.run(work)


# -- disbursements --------------------------------------------------------------------------------------


async def _pay_one(
    touched: Touched,
    cmd: c.Disburse,
    recording: Recording,
    in_request: set[tuple[str, int]],
    regions: frozenset[str] = frozenset(),
) -> Payment:
    person = touched.people[cmd.person_id]
    if person.outside(regions):  # a child, or outside the caller's regions: as an unknown beneficiary
        raise UnknownRecord("beneficiary", cmd.person_id)
    earlier = person.earlier_request(cmd.request_id, cmd.tranche)
    if earlier is not None:
        return earlier
    if person.enrolment is None:
        raise UnknownRecord("beneficiary", cmd.person_id)
    if (cmd.person_id, cmd.tranche) in in_request:
        raise AlreadyDone("tranche_already_paid", "the tranche appears twice in this request")
    payment = person.prepare_payment(
        cmd.request_id, cmd.tranche, cmd.office, cmd.paid_on, new_id(), recording
    )
    line = await touched.line(payment.line_id)
    line.disburse(payment.commitment_id, payment.disbursement_id, payment.amount, payment.at)
    person.pay(payment)
    in_request.add((cmd.person_id, cmd.tranche))
    return payment


async def disburse(
    desk: Desk,
    commands: Sequence[c.Disburse],
    recording: Recording,
    causation: Causation,
    *,
    atomic: bool = False,
    regions: frozenset[str] = frozenset(),
) -> list[ItemOutcome[Payment]]:
    """Pay tranches, each exactly once: a request id seen before answers what it paid then; a tranche
    already paid under another request is refused; the budget line's cash never goes below zero."""

    async def work(touched: Touched) -> list[ItemOutcome[Payment]]:
        await touched.load_people([cmd.person_id for cmd in commands])
        in_request: set[tuple[str, int]] = set()
        outcomes = await decide_items(
            commands,
            lambda cmd: _pay_one(touched, cmd, recording, in_request, regions),
            lambda cmd: cmd.person_id,
            atomic=atomic,
        )
        await touched.save(causation)
        return outcomes

    return await desk.run(work)


async def disburse_one(
    desk: Desk, cmd: c.Disburse, recording: Recording, causation: Causation, regions: frozenset[str]
) -> Payment:
    async def work(touched: Touched) -> Payment:
        await touched.person_to_act_on(cmd.person_id, regions)
        payment = await _pay_one(touched, cmd, recording, set(), regions)
        await touched.save(causation)
        return payment

    return await desk.run(work)


# -- follow-up ------------------------------------------------------------------------------------------


async def record_training(
    desk: Desk, cmd: c.RecordTraining, recording: Recording, causation: Causation, regions: frozenset[str]
) -> None:
    async def work(touched: Touched) -> None:
        person = await touched.person_to_act_on(cmd.person_id, regions)
        person.attend_training(cmd.provider, cmd.attended_on, recording)
        await touched.save(causation)

    await desk.run(work)


async def record_visit(
    desk: Desk, cmd: c.RecordVisit, recording: Recording, causation: Causation, regions: frozenset[str]
) -> None:
    """A follow-up visit; ``dropped_out`` ends participation and releases the unpaid rest."""

    async def work(touched: Touched) -> None:
        person = await touched.person_to_act_on(cmd.person_id, regions)
        await touched.release(person.visit(cmd.visit_id, cmd.outcome, cmd.visited_on, recording), person)
        await touched.save(causation)

    await desk.run(work)


async def end_participation(
    desk: Desk, cmd: c.EndParticipation, recording: Recording, causation: Causation, regions: frozenset[str]
) -> None:
    async def work(touched: Touched) -> None:
        person = await touched.person_to_act_on(cmd.person_id, regions)
        await touched.release(person.end(cmd.reason, cmd.effective_on, recording), person)
        await touched.save(causation)

    await desk.run(work)
