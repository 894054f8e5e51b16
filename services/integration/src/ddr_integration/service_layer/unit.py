"""What every handler works with: the event store, the read model beside it, and the transaction binding them.

Every decision appends its events and writes the read-model rows they imply in one transaction; the outbox
relay is woken after the commit. Streams: ``person-<id>`` (candidacy, rank, placement outside units),
``quota-<id>``, ``rank-rules-<version>``, ``cohort-<id>`` (enrolments and outcomes, subject the person),
``unit-<id>`` (establishment, contingent, assignments and the members' service record, subject the person):
a unit's stream version orders everything that changes its composition, so two concurrent assignments
decided on the same figures cannot both be stored.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_contracts.events import DomainEvent
from ddr_integration.domain.thirds import SIGNATORY_COALITIONS
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent

T = TypeVar("T")
CONFLICT_RETRIES = 5


def _nothing() -> None:
    return None


def business_time(on: date) -> datetime:
    """The business time of a decision dated ``on`` (midday UTC, so no time zone moves it to another day)."""
    return datetime.combine(on, time(12), tzinfo=UTC)


def person_stream(person_id: str) -> str:
    return f"person-{person_id}"


def unit_stream(unit_id: str) -> str:
    return f"unit-{unit_id}"


def cohort_stream(cohort_id: str) -> str:
    return f"cohort-{cohort_id}"


def quota_stream(quota_id: str) -> str:
    return f"quota-{quota_id}"


@dataclass
class Integration:
    store: EventStore
    notify: Callable[[], None] = _nothing
    coalitions: tuple[str, ...] = SIGNATORY_COALITIONS  # the signatory coalitions the rule of thirds counts
    policy_actor: str = "integration-policy"

    @property
    def engine(self) -> AsyncEngine:
        return self.store.engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as tx:
            yield tx
        self.notify()

    async def run(
        self, work: Callable[[AsyncConnection], Awaitable[T]], *, retries: int = CONFLICT_RETRIES
    ) -> T:
        """Run ``work`` in a transaction; when a stream moved under it, decide again on fresh figures."""
        for attempt in range(retries + 1):
            try:
                async with self.transaction() as tx:
                    return await work(tx)
            except ConcurrencyConflict:
                if attempt == retries:
                    raise
        raise AssertionError("unreachable")

    async def append(
        self,
        conn: AsyncConnection,
        stream_id: str,
        expected_version: int,
        events: Sequence[tuple[DomainEvent, str, date]],
        causation: Causation,
    ) -> int:
        """Append (event, subject, business date) triples; the stream's new version."""
        new = [NewEvent(event, subject, business_time(on)) for event, subject, on in events]
        await self.store.append(stream_id, expected_version, new, causation, conn=conn)
        return expected_version + len(new)
