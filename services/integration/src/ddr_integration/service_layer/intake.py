"""Screening's events in batches, as the consumer delivers them (up to 500 in one transaction).

The common case, a first integration outcome for a person this service has never seen, is decided in
memory against the quotas and written in bulk: the new person streams in one append (one sealing call, one
COPY), one insert of read-model rows and one conditional update per quota for the whole batch. The price:
those events share one correlation id per batch and carry no envelope causation id; the screening decision
that caused each is named in its data (``screening_decision_id``). Anything else (a later outcome, a hold, a release) goes through the one-event policies in
:mod:`candidacy`, after the pending bulk writes, so every event sees the ones before it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.events import DomainEvent
from ddr_contracts.integration import CandidateAcceptanceDeferred, CandidateAccepted, CandidateReceived
from ddr_contracts.screening import BenefitsHeld, BenefitsReleased, ScreeningOutcomeDecided
from ddr_integration.adapters import readmodel as rm
from ddr_integration.adapters.tables import people, quota_uses, quotas
from ddr_integration.domain.errors import RuleViolated
from ddr_integration.domain.paths import path_for
from ddr_integration.domain.quotas import Quota, check_room, quotas_for
from ddr_integration.service_layer import candidacy
from ddr_integration.service_layer.unit import Integration, business_time, person_stream
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent

Item = tuple[DomainEvent, date, Causation]

_EMPTY_PERSON: dict[str, Any] = {
    "child_protection": False,
    "held": False,
    "reinsertion_active": False,
    "dual_enrolment": False,
    "ended_on": None,
    "rank": None,
    "command_function": None,
    "rank_rule_version": None,
    "cohort_id": None,
    "training_outcome": None,
    "unit_id": None,
    "command_post": False,
    "placed": False,
    "placement": None,
    "service_status": None,
    "service_since": None,
}


@dataclass
class _Pending:
    quotas: dict[str, Quota]
    rows: list[dict[str, Any]] = field(default_factory=list)
    taken: Counter[str] = field(default_factory=Counter)
    uses: list[dict[str, str]] = field(default_factory=list)
    streams: list[tuple[str, list[NewEvent]]] = field(default_factory=list)
    cause: Causation = field(default_factory=lambda: Causation("integration-policy"))

    def take(self, applicable: Sequence[Quota], person_id: str) -> None:
        for quota in applicable:
            self.quotas[quota.quota_id] = replace(quota, used=quota.used + 1)
            self.taken[quota.quota_id] += 1
            self.uses.append({"quota_id": quota.quota_id, "person_id": person_id})

    async def flush(self, conn: AsyncConnection, store: EventStore) -> None:
        if self.streams:
            await store.append_new_streams(self.streams, self.cause, conn=conn)
        if self.rows:
            await conn.execute(insert(people), self.rows)
        for quota_id, count in self.taken.items():
            result = await conn.execute(
                update(quotas)
                .where(quotas.c.quota_id == quota_id, quotas.c.used + count <= quotas.c.limit)
                .values(used=quotas.c.used + count)
            )
            if result.rowcount == 0:  # places taken meanwhile by an officer's acceptance: decide again
                raise ConcurrencyConflict(f"quota-{quota_id}", 0)
        if self.uses:
            await conn.execute(insert(quota_uses), self.uses)
        self.rows, self.uses, self.streams = [], [], []
        self.taken = Counter()


async def screening_batch(integ: Integration, conn: AsyncConnection, items: Sequence[Item]) -> None:
    ids = {getattr(event, "person_id", "") for event, _, _ in items}
    known = set(await rm.load_people(conn, ids))
    pending = _Pending(
        {q.quota_id: q for q in await rm.all_quotas(conn)}, cause=Causation(integ.policy_actor)
    )
    seen: set[str] = set()
    for event, on, cause in items:
        if (
            isinstance(event, ScreeningOutcomeDecided)
            and event.track == "integration"
            and event.person_id not in known
            and event.person_id not in seen
        ):
            seen.add(event.person_id)
            _receive_new(event, on, pending)
            continue
        await pending.flush(conn, integ.store)
        await _one(integ, conn, event, on, cause)
        known.add(getattr(event, "person_id", ""))
        pending.quotas = {q.quota_id: q for q in await rm.all_quotas(conn)}
    await pending.flush(conn, integ.store)


async def _one(
    integ: Integration, conn: AsyncConnection, event: DomainEvent, on: date, cause: Causation
) -> None:
    if isinstance(event, ScreeningOutcomeDecided):
        await candidacy.on_outcome(integ, conn, event, on, cause)
    elif isinstance(event, BenefitsHeld | BenefitsReleased):
        held = isinstance(event, BenefitsHeld)
        await candidacy.on_hold(
            integ, conn, event.person_id, event.decision_id, event.reason_code, held, on, cause
        )


def _receive_new(outcome: ScreeningOutcomeDecided, on: date, pending: _Pending) -> None:
    """A first integration outcome: the candidate, and at once their acceptance or its deferral."""
    pid = outcome.person_id
    path = path_for(outcome.category)
    received = CandidateReceived(
        person_id=pid,
        movement=outcome.movement,
        category=outcome.category,
        path=path,
        movement_rank=outcome.rank,
        screening_decision_id=outcome.decision_id,
        effective_on=on,
    )
    row: dict[str, Any] = {
        **_EMPTY_PERSON,
        "person_id": pid,
        "movement": outcome.movement,
        "category": outcome.category,
        "path": path,
        "movement_rank": outcome.rank,
        "screening_track": outcome.track,
        "screening_decision_id": outcome.decision_id,
        "received_on": on,
        "version": 2,
    }
    applicable = quotas_for(pending.quotas.values(), outcome.movement, on)
    decided: DomainEvent
    try:
        chosen = check_room(applicable, outcome.movement, on)
    except RuleViolated as refusal:
        decided = CandidateAcceptanceDeferred(
            person_id=pid,
            reason_code=refusal.rule,
            quota_id=refusal.figures.get("quota_id"),
            used=refusal.figures.get("used"),
            limit=refusal.figures.get("limit"),
            effective_on=on,
        )
        row |= {"status": "deferred", "deferral_reason": refusal.rule, "accepted_on": None, "quota_id": None}
    else:
        decided = CandidateAccepted(
            person_id=pid,
            movement=outcome.movement,
            path=path,
            quota_id=chosen.quota_id,
            screening_decision_id=outcome.decision_id,
            effective_on=on,
        )
        pending.take(applicable, pid)
        row |= {"status": "accepted", "deferral_reason": None, "accepted_on": on, "quota_id": chosen.quota_id}
    when = business_time(on)
    pending.streams.append(
        (person_stream(pid), [NewEvent(received, pid, when), NewEvent(decided, pid, when)])
    )
    pending.rows.append(row)
