"""Screening cases loaded from and saved to the service's event store, many at a time, in one transaction.

A case's stream id and subject are the person id. Loading many cases reads their events in one query and
opens their sealed fields in one call; saving starts new streams in one insert and appends to the others.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.envelope import EventEnvelope
from ddr_contracts.events import DomainEvent
from ddr_runtime.eventstore.schema import events
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent, RecordedEvent
from ddr_screening.domain.case import ScreeningCase

CHUNK = 1000


class CaseRepository:
    def __init__(self, store: EventStore, new_id: Callable[[], str]) -> None:
        self.store = store
        self.new_id = new_id

    def fresh(self, person_id: str) -> ScreeningCase:
        return ScreeningCase(person_id=person_id, new_id=self.new_id)

    async def load_many(self, conn: AsyncConnection, person_ids: Iterable[str]) -> dict[str, ScreeningCase]:
        """Every named case as of its last event; a person without a stream gets a fresh, unopened case."""
        wanted = sorted(set(person_ids))
        histories: dict[str, list[DomainEvent]] = defaultdict(list)
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            rows = (
                await conn.execute(
                    select(events.c.payload)
                    .where(events.c.stream_id.in_(chunk))
                    .order_by(events.c.stream_id, events.c.stream_version)
                )
            ).all()
            decoded = await self.store.decode([EventEnvelope.from_bytes(row.payload) for row in rows])
            for recorded in decoded:
                histories[recorded.envelope.streamid].append(recorded.event)
        cases: dict[str, ScreeningCase] = {}
        for person_id in wanted:
            case = self.fresh(person_id)
            case.replay(histories.get(person_id, ()))
            cases[person_id] = case
        return cases

    async def save_many(
        self,
        conn: AsyncConnection,
        cases: Sequence[ScreeningCase],
        cause: Callable[[str], Causation],
    ) -> list[tuple[ScreeningCase, list[DomainEvent]]]:
        """Store every case's pending events after the version it was loaded at; each changed case with the
        events it gained. ``cause(person_id)`` says who asked; new cases of one correlation start together.

        A case written by someone else since it was loaded raises ConcurrencyConflict (nothing is written).
        """
        changed = [(case, case.pending) for case in cases if case.pending]
        new_by_correlation: dict[str, list[ScreeningCase]] = defaultdict(list)
        for case, _ in changed:
            if case.version == 0:
                new_by_correlation[cause(case.person_id).correlation_id].append(case)
        for correlation, group in new_by_correlation.items():
            first = cause(group[0].person_id)
            together = first if len(group) == 1 else Causation(first.actor, correlation)
            await self.store.append_new_streams(
                [(c.person_id, [NewEvent(e, c.person_id) for e in c.pending]) for c in group],
                together,
                conn=conn,
            )
        for case, pending in changed:
            if case.version:
                await self.store.append(
                    case.person_id,
                    case.version,
                    [NewEvent(e, case.person_id) for e in pending],
                    cause(case.person_id),
                    conn=conn,
                )
        for case, pending in changed:
            case.version += len(pending)
            case.pending = []
        return changed

    async def history(self, conn: AsyncConnection, person_id: str) -> list[RecordedEvent]:
        return await self.store.read_stream(person_id, conn=conn)
