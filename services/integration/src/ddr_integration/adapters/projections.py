"""The read model as a projection of the service's own events, in the transaction that stores them (and, in a
rebuild, from the first stored event on).

Events are applied in their stored order. A person's row is folded in memory across the whole batch (one read
of the rows touched, one write of each at the end); the other tables take one statement per event, and
consecutive inserts into one table go in one ``executemany``. Nothing here depends on anything but the
events, so a rebuild gives the same rows as the live model.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Table, bindparam, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.dml import Update

from ddr_contracts import integration as e
from ddr_contracts.events import DomainEvent
from ddr_integration.adapters.tables import (
    candidacy_changes,
    coalitions,
    cohorts,
    contingents,
    people,
    postings,
    quota_decisions,
    quota_places,
    quotas,
    rank_disputes,
    rank_rules,
    service_records,
    trainees,
    units,
)
from ddr_runtime.eventstore.unit import Saved

Row = dict[str, Any]
CLEARED_CANDIDACY: Row = {
    "deferral_reason": None,
    "accepted_on": None,
    "ended_on": None,
    "quota_id": None,
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
EMPTY_PERSON: Row = {
    "version": 0,
    "movement": "",
    "region": None,
    "category": "",
    "path": None,
    "movement_rank": "",
    "screening_track": None,
    "screening_decision_id": None,
    "child_protection": False,
    "holds": [],
    "held": False,
    "reinsertion_active": False,
    "dual_enrolment": False,
    "status": "none",
    "received_on": None,
    **CLEARED_CANDIDACY,
}
CANDIDACY_STATUS: dict[type[DomainEvent], str] = {
    e.CandidateReceived: "received",
    e.CandidateAcceptanceDeferred: "deferred",
    e.CandidateAccepted: "accepted",
    e.CandidateWithdrawn: "withdrawn",
}


class Writer:
    """Statements in event order. Consecutive inserts into one table go in one ``executemany`` (an insert
    ``replacing`` a key replaces the row already there), and so do consecutive updates of the same shape."""

    def __init__(self, conn: AsyncConnection) -> None:
        self.conn = conn
        self._shape: tuple[Any, ...] | None = None
        self._statement: Any = None
        self._rows: list[Row] = []

    async def insert(self, table: Table, row: Row, *, replacing: tuple[str, ...] = ()) -> None:
        shape = ("insert", table, replacing)
        if shape != self._shape:
            await self._start(shape, self._inserting(table, replacing))
        self._rows.append(row)

    async def update(self, table: Table, where: Row, values: Row) -> None:
        """``UPDATE table SET values WHERE`` each column of ``where`` equals its value."""
        shape = ("update", table, tuple(where), tuple(values))
        if shape != self._shape:
            statement = (
                update(table)
                .where(*(table.c[k] == bindparam(f"w_{k}") for k in where))
                .values({k: bindparam(f"v_{k}") for k in values})
            )
            await self._start(shape, statement)
        self._rows.append(
            {**{f"w_{k}": v for k, v in where.items()}, **{f"v_{k}": v for k, v in values.items()}}
        )

    async def execute(self, statement: Update) -> None:
        await self.flush()
        await self.conn.execute(statement)

    async def flush(self) -> None:
        if self._rows:
            await self.conn.execute(self._statement, self._rows)
        self._shape, self._statement, self._rows = None, None, []

    async def _start(self, shape: tuple[Any, ...], statement: Any) -> None:
        await self.flush()
        self._shape, self._statement = shape, statement

    def _inserting(self, table: Table, replacing: tuple[str, ...]) -> Any:
        if not replacing:
            return insert(table)
        dialect = postgresql if self.conn.dialect.name == "postgresql" else sqlite
        statement = dialect.insert(table)
        kept = {c.name: statement.excluded[c.name] for c in table.columns if c.name not in replacing}
        return statement.on_conflict_do_update(index_elements=list(replacing), set_=kept)


class Batch:
    """One call's events: the people rows they fold into, and the writer of every other table."""

    def __init__(self, conn: AsyncConnection, people_rows: dict[str, Row]) -> None:
        self.writer = Writer(conn)
        self.stored = {pid: dict(row) for pid, row in people_rows.items()}  # as read, to write what changed
        self.people = people_rows

    def person(self, person_id: str) -> Row:
        row = self.people.get(person_id)
        if row is None:
            row = self.people[person_id] = {"person_id": person_id, **EMPTY_PERSON, "holds": []}
        return row


Handler = Callable[[Batch, Any, Saved], Awaitable[None]]


class IntegrationProjection:
    async def project(self, conn: AsyncConnection, saved: Sequence[Saved]) -> None:
        touched = {pid for s in saved if (pid := getattr(s.event, "person_id", None))}
        batch = Batch(conn, await _people_rows(conn, touched))
        for item in saved:
            handler = HANDLERS.get(type(item.event))
            if handler is not None:
                await handler(batch, item.event, item)
            person_id = getattr(item.event, "person_id", None)
            if person_id and item.envelope.streamid == f"person-{person_id}":
                batch.person(person_id)["version"] = item.version
        await batch.writer.flush()
        await _store_people(conn, batch)


async def _people_rows(conn: AsyncConnection, person_ids: set[str]) -> dict[str, Row]:
    ids = sorted(person_ids)
    found: dict[str, Row] = {}
    for start in range(0, len(ids), 1000):
        rows = await conn.execute(select(people).where(people.c.person_id.in_(ids[start : start + 1000])))
        found.update({row.person_id: dict(row._mapping) for row in rows})
    return found


async def _store_people(conn: AsyncConnection, batch: Batch) -> None:
    """New rows in one insert; changed rows in one update per set of changed columns (a batch of one kind
    of decision changes the same columns of every row it touches)."""
    new = [row for pid, row in batch.people.items() if pid not in batch.stored]
    if new:
        await conn.execute(insert(people), new)
    changed: dict[tuple[str, ...], list[Row]] = {}
    for pid, before in batch.stored.items():
        row = batch.people[pid]
        columns = tuple(c for c in row if c != "person_id" and row[c] != before[c])
        if columns:
            changed.setdefault(columns, []).append(row)
    for columns, rows in changed.items():
        statement = (
            update(people)
            .where(people.c.person_id == bindparam("pid"))
            .values({c: bindparam(f"v_{c}") for c in columns})
        )
        await conn.execute(
            statement, [{"pid": r["person_id"], **{f"v_{c}": r[c] for c in columns}} for r in rows]
        )


# -- a person's candidacy -------------------------------------------------------------------------------------


async def _candidacy(batch: Batch, event: Any, saved: Saved) -> None:
    row = batch.person(event.person_id)
    status = CANDIDACY_STATUS[type(event)]
    if isinstance(event, e.CandidateReceived):
        row.update(CLEARED_CANDIDACY)
        row.update(
            movement=event.movement,
            region=event.region or row["region"],
            category=event.category,
            path=event.path,
            movement_rank=event.movement_rank,
            screening_track="integration",
            screening_decision_id=event.screening_decision_id,
            received_on=event.effective_on,
        )
    elif isinstance(event, e.CandidateAccepted):
        row.update(accepted_on=event.effective_on, quota_id=event.quota_id)
    elif isinstance(event, e.CandidateAcceptanceDeferred):
        row["deferral_reason"] = event.reason_code
    else:
        row["ended_on"] = event.effective_on
        if row["cohort_id"] is not None and row["training_outcome"] is None:
            await batch.writer.execute(
                update(trainees)
                .where(
                    trainees.c.cohort_id == row["cohort_id"],
                    trainees.c.person_id == event.person_id,
                    trainees.c.outcome.is_(None),
                )
                .values(outcome="withdrawn", outcome_on=event.effective_on)
            )
    if status in ("accepted", "withdrawn"):
        row["deferral_reason"] = None
    row["status"] = status
    await batch.writer.insert(
        candidacy_changes,
        {
            "event_id": saved.envelope.id,
            "person_id": event.person_id,
            "status": status,
            "effective_on": event.effective_on,
            "occurred_at": saved.envelope.occurredat,
            "version": saved.version,
        },
    )


async def _screening_noted(batch: Batch, event: e.ScreeningOutcomeNoted, _: Saved) -> None:
    row = batch.person(event.person_id)
    row.update(
        movement=event.movement,
        region=event.region or row["region"],
        category=event.category,
        movement_rank=event.movement_rank,
        screening_track=event.track,
        screening_decision_id=event.decision_id,
        child_protection=row["child_protection"] or event.track == "child_protection",
    )


async def _hold(batch: Batch, event: e.BenefitsHoldNoted | e.BenefitsReleaseNoted, _: Saved) -> None:
    row = batch.person(event.person_id)
    holds = [d for d in row["holds"] if d != event.decision_id]
    if isinstance(event, e.BenefitsHoldNoted):
        holds.append(event.decision_id)
    row.update(holds=holds, held=bool(holds))


async def _reinsertion(
    batch: Batch, event: e.ReinsertionEnrolmentNoted | e.ReinsertionExitNoted, _: Saved
) -> None:
    batch.person(event.person_id)["reinsertion_active"] = isinstance(event, e.ReinsertionEnrolmentNoted)


async def _dual(batch: Batch, event: e.DualEnrolmentDetected, _: Saved) -> None:
    batch.person(event.person_id)["dual_enrolment"] = True


# -- rank -----------------------------------------------------------------------------------------------------


async def _rank(batch: Batch, event: e.RankAllocated, _: Saved) -> None:
    batch.person(event.person_id).update(
        rank=event.rank, command_function=event.command_function, rank_rule_version=event.rule_version
    )


async def _disputed(batch: Batch, event: e.RankDisputed, _: Saved) -> None:
    batch.person(event.person_id)
    await batch.writer.insert(
        rank_disputes,
        {
            "dispute_id": event.dispute_id,
            "person_id": event.person_id,
            "allocated_rank": event.allocated_rank,
            "claimed_rank": event.claimed_rank,
            "claimed_command_function": event.claimed_command_function,
            "grounds_code": event.grounds_code,
            "status": "open",
            "decision_ref": None,
            "raised_on": event.effective_on,
            "decided_on": None,
        },
    )


async def _dispute_decided(batch: Batch, event: e.RankDisputeDecided, _: Saved) -> None:
    await batch.writer.execute(
        update(rank_disputes)
        .where(rank_disputes.c.dispute_id == event.dispute_id)
        .values(status=event.outcome, decision_ref=event.decision_ref, decided_on=event.effective_on)
    )


async def _rules(batch: Batch, event: e.RankRulesPublished, _: Saved) -> None:
    await batch.writer.insert(
        rank_rules,
        {
            "rule_version": event.rule_version,
            "decree_ref": event.decree_ref,
            "effective_from": event.effective_from,
            "rules": [rule.model_dump(mode="json") for rule in event.rules],
        },
    )


# -- training -------------------------------------------------------------------------------------------------


async def _cohort_opened(batch: Batch, event: e.CohortOpened, _: Saved) -> None:
    await batch.writer.insert(
        cohorts,
        {
            "cohort_id": event.cohort_id,
            "camp": event.camp,
            "capacity": event.capacity,
            "starts_on": event.starts_on,
            "ends_on": event.ends_on,
            "enrolled": 0,
        },
    )


async def _seats(batch: Batch, event: e.CohortSeatsTaken | e.CohortSeatsFreed, _: Saved) -> None:
    change = event.seats if isinstance(event, e.CohortSeatsTaken) else -event.seats
    await batch.writer.execute(
        update(cohorts)
        .where(cohorts.c.cohort_id == event.cohort_id)
        .values(enrolled=cohorts.c.enrolled + change)
    )


async def _enrolled(batch: Batch, event: e.TraineeEnrolled, _: Saved) -> None:
    batch.person(event.person_id).update(cohort_id=event.cohort_id, training_outcome=None)
    await batch.writer.insert(  # enrolled again in a cohort they left or failed: their row starts afresh
        trainees,
        {
            "cohort_id": event.cohort_id,
            "person_id": event.person_id,
            "enrolled_on": event.effective_on,
            "outcome": None,
            "outcome_on": None,
        },
        replacing=("cohort_id", "person_id"),
    )


async def _trained(batch: Batch, event: e.TrainingOutcomeRecorded, _: Saved) -> None:
    batch.person(event.person_id)["training_outcome"] = event.outcome
    await batch.writer.update(
        trainees,
        {"cohort_id": event.cohort_id, "person_id": event.person_id},
        {"outcome": event.outcome, "outcome_on": event.effective_on},
    )


# -- placement and service record -----------------------------------------------------------------------------


async def _placed_outside(batch: Batch, event: e.RecalledToCorps | e.CivilServiceListed, _: Saved) -> None:
    destination = event.corps if isinstance(event, e.RecalledToCorps) else event.list_ref
    batch.person(event.person_id)["placement"] = destination


async def _service(batch: Batch, event: e.ServiceStatusChanged, saved: Saved) -> None:
    row = batch.person(event.person_id)
    if event.status == "serving" and not row["placed"]:
        row["placed"] = True
        if event.unit is not None:
            row.update(unit_id=event.unit, placement=event.unit)
    row.update(service_status=event.status, service_since=event.effective_on)
    if event.status == "discharged":
        row["ended_on"] = event.effective_on
    await batch.writer.insert(
        service_records,
        {
            "event_id": saved.envelope.id,
            "person_id": event.person_id,
            "unit_id": event.unit,
            "status": event.status,
            "effective_on": event.effective_on,
            "discharge_kind": event.discharge_kind,
            "referred_to_reinsertion": event.referred_to_reinsertion,
            "occurred_at": saved.envelope.occurredat,
            "version": saved.version,
        },
    )


async def _posted(batch: Batch, event: e.MemberAssigned | e.MemberReinstated, saved: Saved) -> None:
    row = batch.person(event.person_id)
    row.update(unit_id=event.unit_id, command_post=event.command_post)
    await batch.writer.insert(
        postings,
        {
            "event_id": saved.envelope.id,
            "unit_id": event.unit_id,
            "person_id": event.person_id,
            "movement": event.movement if isinstance(event, e.MemberAssigned) else row["movement"],
            "command_post": event.command_post,
            "start_on": event.effective_on,
            "end_on": None,
        },
    )


async def _struck_off(batch: Batch, event: e.MemberStruckOff, _: Saved) -> None:
    await batch.writer.execute(
        update(postings)
        .where(
            postings.c.unit_id == event.unit_id,
            postings.c.person_id == event.person_id,
            postings.c.end_on.is_(None),
        )
        .values(end_on=event.effective_on)
    )


# -- quotas ---------------------------------------------------------------------------------------------------


async def _quota_set(batch: Batch, event: e.QuotaSet, saved: Saved) -> None:
    await batch.writer.insert(
        quotas,
        {
            "quota_id": event.quota_id,
            "movement": event.movement,
            "period_start": event.period_start,
            "period_end": event.period_end,
            "limit": event.limit,
            "used": 0,
        },
    )
    await _quota_decision(batch, saved, event.quota_id, None, event.limit, event.period_start)


async def _quota_changed(batch: Batch, event: e.QuotaChanged, saved: Saved) -> None:
    await batch.writer.execute(
        update(quotas).where(quotas.c.quota_id == event.quota_id).values(limit=event.limit)
    )
    await _quota_decision(batch, saved, event.quota_id, event.previous_limit, event.limit, event.effective_on)


async def _quota_decision(
    batch: Batch, saved: Saved, quota_id: str, previous: int | None, limit: int, on: date
) -> None:
    event = saved.event
    await batch.writer.insert(
        quota_decisions,
        {
            "event_id": saved.envelope.id,
            "quota_id": quota_id,
            "decision_ref": getattr(event, "decision_ref", ""),
            "previous_limit": previous,
            "limit": limit,
            "reason": getattr(event, "reason", ""),
            "effective_on": on,
            "occurred_at": saved.envelope.occurredat,
        },
    )


async def _places_taken(batch: Batch, event: e.QuotaPlacesTaken, saved: Saved) -> None:
    await batch.writer.execute(
        update(quotas)
        .where(quotas.c.quota_id == event.quota_id)
        .values(used=quotas.c.used + len(event.person_ids))
    )
    for person_id in event.person_ids:
        await batch.writer.insert(
            quota_places,
            {
                "event_id": saved.envelope.id,
                "person_id": person_id,
                "quota_id": event.quota_id,
                "taken_on": event.effective_on,
                "released_on": None,
            },
        )


async def _places_released(batch: Batch, event: e.QuotaPlacesReleased, _: Saved) -> None:
    await batch.writer.execute(
        update(quotas)
        .where(quotas.c.quota_id == event.quota_id)
        .values(used=quotas.c.used - len(event.person_ids))
    )
    await batch.writer.execute(
        update(quota_places)
        .where(
            quota_places.c.quota_id == event.quota_id,
            quota_places.c.person_id.in_(event.person_ids),
            quota_places.c.released_on.is_(None),
        )
        .values(released_on=event.effective_on)
    )


# -- units and coalitions -------------------------------------------------------------------------------------


async def _unit(batch: Batch, event: e.UnitEstablished, _: Saved) -> None:
    await batch.writer.insert(
        units,
        {
            "unit_id": event.unit_id,
            "display_name": event.display_name,
            "kind": event.kind,
            "location": event.location,
            "establishment": event.establishment,
            "thirds_applies": event.thirds_applies,
            "tolerance": event.tolerance,
        },
    )


async def _contingent(batch: Batch, event: e.ArmedForcesContingentRecorded, saved: Saved) -> None:
    await batch.writer.insert(
        contingents,
        {
            "event_id": saved.envelope.id,
            "unit_id": event.unit_id,
            "effective_on": event.effective_on,
            "strength": event.strength,
            "command_posts": event.command_posts,
            "recorded_at": saved.envelope.recordedat,
        },
    )


async def _joined(batch: Batch, event: e.CoalitionJoinNoted, saved: Saved) -> None:
    await batch.writer.insert(
        coalitions,
        {
            "event_id": saved.envelope.id,
            "movement": event.movement,
            "coalition": event.coalition,
            "since": event.since,
            "until": None,
        },
    )


async def _left(batch: Batch, event: e.CoalitionLeaveNoted, _: Saved) -> None:
    await batch.writer.execute(
        update(coalitions)
        .where(
            coalitions.c.movement == event.movement,
            coalitions.c.coalition == event.coalition,
            coalitions.c.until.is_(None),
        )
        .values(until=event.until)
    )


HANDLERS: dict[type[DomainEvent], Handler] = {
    e.CandidateReceived: _candidacy,
    e.CandidateAcceptanceDeferred: _candidacy,
    e.CandidateAccepted: _candidacy,
    e.CandidateWithdrawn: _candidacy,
    e.ScreeningOutcomeNoted: _screening_noted,
    e.BenefitsHoldNoted: _hold,
    e.BenefitsReleaseNoted: _hold,
    e.ReinsertionEnrolmentNoted: _reinsertion,
    e.ReinsertionExitNoted: _reinsertion,
    e.DualEnrolmentDetected: _dual,
    e.RankAllocated: _rank,
    e.RankDisputed: _disputed,
    e.RankDisputeDecided: _dispute_decided,
    e.RankRulesPublished: _rules,
    e.CohortOpened: _cohort_opened,
    e.CohortSeatsTaken: _seats,
    e.CohortSeatsFreed: _seats,
    e.TraineeEnrolled: _enrolled,
    e.TrainingOutcomeRecorded: _trained,
    e.RecalledToCorps: _placed_outside,
    e.CivilServiceListed: _placed_outside,
    e.ServiceStatusChanged: _service,
    e.MemberAssigned: _posted,
    e.MemberReinstated: _posted,
    e.MemberStruckOff: _struck_off,
    e.QuotaSet: _quota_set,
    e.QuotaChanged: _quota_changed,
    e.QuotaPlacesTaken: _places_taken,
    e.QuotaPlacesReleased: _places_released,
    e.UnitEstablished: _unit,
    e.ArmedForcesContingentRecorded: _contingent,
    e.CoalitionJoinNoted: _joined,
    e.CoalitionLeaveNoted: _left,
}
