"""A unit of work in memory, for unit tests of a single command handler: no database, no broker.

Streams are lists of (event, business time) kept per stream id; saving checks the expected version as the
real store does (a stale one raises ConcurrencyConflict), and what was saved is kept in ``committed`` for the
test to inspect. Projections do not run, and the session has no connection: a handler that queries the
read model needs the real unit of work (an integration test).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation, EventStore
from ddr_runtime.eventstore.unit import Session, UnitOfWork
from ddr_runtime.kernel import Aggregate, UnknownRecord

A = TypeVar("A", bound=Aggregate[Any])


@dataclass(frozen=True)
class Committed:
    """One saved event: its stream, version, subject, business time and who caused it."""

    stream_id: str
    version: int
    event: Any
    subject: str
    at: datetime
    causation: Causation


class FakeSession(Session):
    def __init__(self, unit: FakeUnitOfWork) -> None:
        super().__init__(unit, cast(AsyncConnection, None))
        self.fake = unit

    async def load(self, stream_id: str, factory: Callable[[], A]) -> A:
        aggregate = factory()
        aggregate.replay([(c.event, c.at) for c in self.fake.streams.get(stream_id, [])])
        return aggregate

    async def load_many(self, stream_ids: Sequence[str], factory: Callable[[], A]) -> dict[str, A]:
        return {stream_id: await self.load(stream_id, factory) for stream_id in dict.fromkeys(stream_ids)}

    async def load_existing(self, stream_id: str, factory: Callable[[], A], kind: str, key: str) -> A:
        aggregate = await self.load(stream_id, factory)
        if aggregate.version == 0:
            raise UnknownRecord(kind, key)
        return aggregate

    async def save(
        self,
        aggregate: Aggregate[Any],
        stream_id: str,
        subject: str,
        causation: Causation,
        expected_version: int | None = None,
    ) -> int:
        version = aggregate.version if expected_version is None else expected_version
        stream = self.fake.streams.setdefault(stream_id, [])
        if len(stream) != version:
            raise ConcurrencyConflict(stream_id, version, len(stream))
        for change in aggregate.take_pending():
            entry = Committed(
                stream_id,
                len(stream) + 1,
                change.event,
                change.subject or subject,
                change.at or datetime.now(UTC),
                causation,
            )
            stream.append(entry)
            self.fake.committed.append(entry)
        aggregate.version = len(stream)
        return aggregate.version

    async def save_many(self, items: Sequence[tuple[Aggregate[Any], str, str]], causation: Causation) -> None:
        for aggregate, stream_id, _ in items:
            if len(self.fake.streams.get(stream_id, [])) != aggregate.version:
                raise ConcurrencyConflict(stream_id, aggregate.version)
        for aggregate, stream_id, subject in items:
            await self.save(aggregate, stream_id, subject, causation)


@dataclass
class FakeUnitOfWork(UnitOfWork):
    """:class:`UnitOfWork` over streams in memory (see the module's docstring)."""

    store: EventStore = field(default_factory=lambda: cast(EventStore, None))
    streams: dict[str, list[Committed]] = field(default_factory=dict)
    committed: list[Committed] = field(default_factory=list)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        before = {stream_id: list(events) for stream_id, events in self.streams.items()}
        committed = len(self.committed)
        try:
            yield FakeSession(self)
        except BaseException:
            self.streams, self.committed = before, self.committed[:committed]
            raise

    def holding_keys(self, subjects: Iterable[str]) -> AbstractAsyncContextManager[None]:
        """No key service in memory: nothing to fetch before a command."""
        return nullcontext()

    def given(self, stream_id: str, *events: Any, at: datetime | None = None) -> None:
        """History already stored before the test's command."""
        stream = self.streams.setdefault(stream_id, [])
        for event in events:
            stream.append(
                Committed(
                    stream_id, len(stream) + 1, event, stream_id, at or datetime.now(UTC), Causation("given")
                )
            )

    def events(self, stream_id: str | None = None) -> list[Any]:
        """The events the command saved (in one stream, or in all)."""
        return [c.event for c in self.committed if stream_id is None or c.stream_id == stream_id]
