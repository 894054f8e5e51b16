"""Aggregates loaded from and saved to the service's event store, inside the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, NamedTuple, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.events import DomainEvent
from ddr_cvr.domain.aggregate import Aggregate
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent

A = TypeVar("A", bound=Aggregate)


class Stored(NamedTuple):
    """An appended event, its stream version, and its data as stored (personal fields sealed)."""

    event: DomainEvent
    version: int
    sealed: dict[str, Any]


class AggregateRepository:
    def __init__(self, store: EventStore) -> None:
        self.store = store

    async def load(self, conn: AsyncConnection, stream_id: str, factory: Callable[[], A]) -> A:
        """The aggregate as of its last stored event; a fresh one (version 0) if the stream is empty."""
        aggregate = factory()
        aggregate.replay(recorded.event for recorded in await self.store.read_stream(stream_id, conn=conn))
        return aggregate

    async def save(
        self,
        conn: AsyncConnection,
        stream_id: str,
        aggregate: Aggregate,
        subject: str,
        causation: Causation,
        *,
        expected_version: int | None = None,
    ) -> list[Stored]:
        """Append the pending events after ``expected_version`` (default: the version loaded); each event
        with its stream version. A stale version raises ConcurrencyConflict and writes nothing."""
        version = aggregate.version if expected_version is None else expected_version
        pending, aggregate.pending = aggregate.pending, []
        stored = await self.store.append(
            stream_id, version, [NewEvent(event, subject) for event in pending], causation, conn=conn
        )
        aggregate.version = version + len(stored)
        return [
            Stored(event, s.envelope.streamversion, s.envelope.data)
            for event, s in zip(pending, stored, strict=True)
        ]

    async def save_new(
        self, conn: AsyncConnection, items: Sequence[tuple[str, Aggregate, str]], causation: Causation
    ) -> list[Stored]:
        """Start a stream for each new aggregate ``(stream_id, aggregate, subject)`` in one append."""
        pending: list[list[DomainEvent]] = []
        for _, aggregate, _ in items:
            events, aggregate.pending = aggregate.pending, []
            pending.append(events)
        chains = await self.store.append_new_streams(
            [
                (stream_id, [NewEvent(event, subject) for event in events])
                for (stream_id, _, subject), events in zip(items, pending, strict=True)
            ],
            causation,
            conn=conn,
        )
        saved: list[Stored] = []
        for (_, aggregate, _), events, chain in zip(items, pending, chains, strict=True):
            aggregate.version = len(chain)
            saved.extend(
                Stored(event, s.envelope.streamversion, s.envelope.data)
                for event, s in zip(events, chain, strict=True)
            )
        return saved
