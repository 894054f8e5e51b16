"""Policies: what this service does when another service's fact reaches it, inside the consumer's transaction
(effect and inbox row commit together, so a redelivered event changes nothing).

Each fact learnt is first recorded as an event of this service, on the record it concerns (the candidacy
records what screening decided, the holds, the reinsertion enrolment; the ``coalitions`` stream what
registration said of movements), then acted on: a first integration outcome makes a candidate, accepted at
once under the quotas or deferred; a later outcome on another track withdraws the candidacy or discharges the
member; a released hold or a reinsertion exit lets a deferred candidate in. A rebuild from this service's
store alone therefore reproduces every decision's grounds. The business time of each is the upstream fact's,
never before the fact it depends on here.

A consumer batch is decided on the records loaded once (one read of every person's stream, one of the quotas)
and saved in one append for all their streams.

The double-payment check spans two services through events, so it is eventually consistent: between
reinsertion enrolling a person and this service consuming that event (normally well under a second, longer
if a consumer is down), integration can still accept them, and the reverse. Such crossings are not lost:
each side sees the other's event later, and this side records ``DualEnrolmentDetected`` for a decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from ddr_integration.domain.candidates import Candidate, Outcome, ServiceEntry
from ddr_integration.domain.coalitions import COALITIONS_STREAM, CoalitionBook
from ddr_integration.domain.cohorts import Cohort, cohort_stream
from ddr_integration.domain.quotas import QUOTAS_STREAM, QuotaBook
from ddr_integration.domain.timing import Upstream
from ddr_integration.domain.units import Unit, unit_stream
from ddr_integration.service_layer.context import Saving, load_candidates, saving
from ddr_runtime.eventstore.ports import AggregateSession, Causation


@dataclass(frozen=True)
class ScreeningDecided:
    person_id: str
    outcome: Outcome
    at: datetime


@dataclass(frozen=True)
class HoldChanged:
    person_id: str
    decision_id: str
    reason_code: str
    held: bool
    at: datetime


@dataclass(frozen=True)
class ReinsertionChanged:
    person_id: str
    enrolled: bool
    on: date
    at: datetime


PersonFact = ScreeningDecided | HoldChanged | ReinsertionChanged


@dataclass(frozen=True)
class CoalitionChanged:
    movement: str
    coalition: str
    joined: bool
    on: date
    at: datetime


class _Batch:
    """The records one batch of facts touches, loaded once and saved together."""

    def __init__(self, session: AggregateSession, candidates: dict[str, Candidate], book: QuotaBook) -> None:
        self.session = session
        self.candidates = candidates
        self.book = book
        self.cohorts: dict[str, Cohort] = {}
        self.units: dict[str, Unit] = {}

    async def cohort(self, cohort_id: str) -> Cohort:
        if cohort_id not in self.cohorts:
            self.cohorts[cohort_id] = await self.session.load(cohort_stream(cohort_id), Cohort)
        return self.cohorts[cohort_id]

    async def unit(self, unit_id: str) -> Unit:
        if unit_id not in self.units:
            self.units[unit_id] = await self.session.load(unit_stream(unit_id), Unit)
        return self.units[unit_id]

    async def save(self, causation: Causation) -> None:
        others: list[Saving] = [
            (self.book, QUOTAS_STREAM, QUOTAS_STREAM),
            *((c, cohort_stream(i), i) for i, c in self.cohorts.items()),
            *((u, unit_stream(i), i) for i, u in self.units.items()),
        ]
        await self.session.save_many(saving(others, self.candidates), causation)


async def learn(session: AggregateSession, facts: Sequence[PersonFact], causation: Causation) -> None:
    """Record and act on facts about people learnt from screening and reinsertion, in their order."""
    candidates = await load_candidates(session, [fact.person_id for fact in facts])
    batch = _Batch(session, candidates, await session.load(QUOTAS_STREAM, QuotaBook))
    for fact in facts:
        candidate = candidates[fact.person_id]
        if isinstance(fact, ScreeningDecided):
            await _screened(batch, candidate, fact)
        elif isinstance(fact, HoldChanged):
            _hold(batch, candidate, fact)
        else:
            _reinsertion(batch, candidate, fact)
    await batch.save(causation)


async def _screened(batch: _Batch, candidate: Candidate, fact: ScreeningDecided) -> None:
    clock, outcome = Upstream(fact.at), fact.outcome
    action = candidate.screening_action(outcome.track)
    if action == "receive":
        candidate.receive(outcome, clock)
        candidate.accept(batch.book, None, clock, strict=False)
        return
    if not candidate.known and outcome.track != "child_protection":
        return  # neither a candidate nor a child: nothing of this service's business
    candidate.note_outcome(outcome, clock)
    if action == "withdraw":
        reason = "child_protection" if outcome.track == "child_protection" else "screening_superseded"
        cohort = (
            await batch.cohort(candidate.cohort_id) if candidate.in_training and candidate.cohort_id else None
        )
        candidate.withdraw(reason, clock, book=batch.book, cohort=cohort)
    elif action == "discharge":
        unit = await batch.unit(candidate.unit_id) if candidate.unit_id else None
        entry = ServiceEntry(candidate.person_id, "discharged", None, "other", outcome.track == "reinsertion")
        candidate.change_service(entry, clock, unit=unit, enforce_transition=False)


def _hold(batch: _Batch, candidate: Candidate, fact: HoldChanged) -> None:
    clock = Upstream(fact.at)
    if fact.held:
        candidate.note_hold(fact.decision_id, fact.reason_code, clock)
        return
    candidate.note_release(fact.decision_id, fact.reason_code, clock)
    if candidate.status == "deferred" and candidate.deferral_reason == "benefits_held" and not candidate.held:
        candidate.accept(batch.book, None, clock, strict=False)


def _reinsertion(batch: _Batch, candidate: Candidate, fact: ReinsertionChanged) -> None:
    clock = Upstream(fact.at)
    if fact.enrolled:
        candidate.note_reinsertion_enrolment(fact.on, clock)
        return
    candidate.note_reinsertion_exit(fact.on, clock)
    if candidate.status == "deferred" and candidate.deferral_reason == "reinsertion_beneficiary":
        candidate.accept(batch.book, None, clock, strict=False)


async def note_coalitions(
    session: AggregateSession, changes: Sequence[CoalitionChanged], causation: Causation
) -> None:
    """Movements joining and leaving coalitions, as registration recorded them."""
    book = await session.load(COALITIONS_STREAM, CoalitionBook)
    for change in changes:
        if change.joined:
            book.note_join(change.movement, change.coalition, change.on, change.at)
        else:
            book.note_leave(change.movement, change.coalition, change.on, change.at)
    await session.save(book, COALITIONS_STREAM, COALITIONS_STREAM, causation)
