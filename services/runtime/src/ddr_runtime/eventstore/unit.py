"""The unit of work every command handler runs in, the same in every service.

A handler gets a :class:`Session` from :meth:`UnitOfWork.run`: it loads aggregates from the service's own
event store, lets them decide, and saves their pending events with the expected version. Everything one
command saves, and the read-model rows its projections derive from it, commit in one transaction; the outbox
relay is woken after the commit. When a stream moved under the handler (:class:`ConcurrencyConflict`), the
whole command is decided again on fresh state: the retry policy is chosen here, once.

Bulk commands (:meth:`UnitOfWork.run_items`) answer item by item: by default each valid item is recorded and
each refused one answered with its rule, so retrying the same batch is safe; ``atomic`` records all or nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_contracts.envelope import EventEnvelope
from ddr_contracts.events import DomainEvent
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.ports import BulkRefused as BulkRefused  # re-exported: their former home
from ddr_runtime.eventstore.ports import ItemOutcome as ItemOutcome
from ddr_runtime.eventstore.ports import refusal as refusal
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent, RecordedEvent, StoredEvent
from ddr_runtime.eventstore.translation import SameEvents, Translation
from ddr_runtime.kernel import Aggregate, Change, DomainError, UnknownRecord

A = TypeVar("A", bound=Aggregate[Any])
T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - an item of a bulk command

CONFLICT_RETRIES = 10
"""How many times a command is decided again after a concurrent writer moved one of its streams."""


@dataclass(frozen=True)
class Saved:
    """An event as stored, for projections: the contract event (personal fields open) and its envelope
    (personal fields sealed, stream version, business and record times)."""

    event: DomainEvent
    envelope: EventEnvelope

    @property
    def version(self) -> int:
        return self.envelope.streamversion

    @property
    def sealed(self) -> dict[str, Any]:
        return self.envelope.data


class Projection(Protocol):
    """Read-model rows derived from saved events, written in the transaction that saved them."""

    async def project(self, conn: AsyncConnection, saved: Sequence[Saved]) -> None: ...


def _nothing() -> None:
    return None


def new_id() -> str:
    return str(uuid.uuid4())


class Session:
    """One transaction of a unit of work: load, save, and the connection for the read model's queries."""

    def __init__(self, unit: UnitOfWork, conn: AsyncConnection) -> None:
        self.unit = unit
        self.conn = conn

    async def load(self, stream_id: str, factory: Callable[[], A]) -> A:
        """The aggregate as of its last stored event; a fresh one (version 0) if the stream is empty."""
        aggregate = factory()
        history = await self.unit.store.read_stream(stream_id, conn=self.conn)
        aggregate.replay(self.unit.history(history))
        return aggregate

    async def load_many(self, stream_ids: Sequence[str], factory: Callable[[], A]) -> dict[str, A]:
        """Many aggregates in one read (a bulk command's people): each as of its last stored event."""
        found = await self.unit.store.read_streams(list(dict.fromkeys(stream_ids)), conn=self.conn)
        loaded: dict[str, A] = {}
        for stream_id, history in found.items():
            aggregate = factory()
            aggregate.replay(self.unit.history(history))
            loaded[stream_id] = aggregate
        return loaded

    async def load_existing(self, stream_id: str, factory: Callable[[], A], kind: str, key: str) -> A:
        """The aggregate, or :class:`UnknownRecord` when its stream is empty."""
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
        """Append the aggregate's pending events after ``expected_version`` (default: the version loaded)
        and project them; the stream's new version. A stale version raises ConcurrencyConflict."""
        version = aggregate.version if expected_version is None else expected_version
        changes = aggregate.take_pending()
        if not changes:
            return aggregate.version
        new = self.unit.new_events(changes, subject)
        stored = await self.unit.store.append(stream_id, version, new, causation, conn=self.conn)
        aggregate.version = version + len(stored)
        await self.unit.project(self.conn, new, stored)
        return aggregate.version

    async def save_many(self, items: Sequence[tuple[Aggregate[Any], str, str]], causation: Causation) -> None:
        """Save many aggregates ``(aggregate, stream_id, subject)``, new or loaded, in one append: each after
        the version it was loaded at. One statement for all their streams, then one projection call."""
        batch: list[tuple[str, int, Sequence[NewEvent]]] = []
        saving: list[Aggregate[Any]] = []
        for aggregate, stream_id, subject in items:
            changes = aggregate.take_pending()
            if changes:
                batch.append((stream_id, aggregate.version, self.unit.new_events(changes, subject)))
                saving.append(aggregate)
        if not batch:
            return
        chains = await self.unit.store.append_many(batch, causation, conn=self.conn)
        for aggregate, chain in zip(saving, chains, strict=True):
            aggregate.version += len(chain)
        await self.unit.project(
            self.conn,
            [new for _, _, events in batch for new in events],
            [stored for chain in chains for stored in chain],
        )


@dataclass
class UnitOfWork:
    """The service's event store, the projections of its read model, and the transactions binding them."""

    store: EventStore
    projections: Sequence[Projection] = ()
    translation: Translation = field(default_factory=SameEvents)
    notify: Callable[[], None] = _nothing  # wakes the outbox relay after a commit
    retries: int = CONFLICT_RETRIES

    @property
    def engine(self) -> AsyncEngine:
        return self.store.engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Session]:
        """One transaction, without retry (for work that must not be repeated)."""
        async with self.engine.begin() as conn:
            yield Session(self, conn)
        self.notify()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncConnection]:
        """A connection for queries of the read model, outside any command."""
        async with self.engine.connect() as conn:
            yield conn

    async def run(self, work: Callable[[Session], Awaitable[T]], *, subjects: Iterable[str] = ()) -> T:
        """Run ``work`` in one transaction; when a stream moved under it, decide again on fresh state.

        ``subjects``: the people the command reads or writes, when known: their keys are fetched before the
        transaction begins, so it never waits on the key service while holding the store's write lock."""
        async with self.holding_keys(subjects):
            return await self._run(work)

    def holding_keys(self, subjects: Iterable[str]) -> AbstractAsyncContextManager[None]:
        """The subjects' keys fetched in one call and held for this command (the store's cipher)."""
        return self.store.cipher.holding(subjects)

    async def _run(self, work: Callable[[Session], Awaitable[T]]) -> T:
        for attempt in range(self.retries + 1):
            try:
                async with self.transaction() as session:
                    return await work(session)
            except ConcurrencyConflict:
                if attempt == self.retries:
                    raise
        raise AssertionError("unreachable")

    async def run_items(
        self,
        items: Sequence[I],
        work: Callable[[Session, I], Awaitable[T]],
        *,
        atomic: bool = False,
        subjects: Callable[[I], str] | None = None,
    ) -> list[ItemOutcome[T]]:
        """Each item of a bulk command, with its outcome.

        By default each item is decided and saved on its own: the valid ones are recorded, each refused one
        is answered with its rule. With ``atomic`` every item is decided in one transaction (each in a
        savepoint, so every refusal is found) and, if any is refused, :class:`BulkRefused` is raised and
        nothing is recorded.

        ``subjects`` names each item's person: every key is then fetched in one call before any transaction.
        """
        async with self.holding_keys(() if subjects is None else [subjects(item) for item in items]):
            if atomic:
                return await self._run(lambda session: self._all_or_nothing(session, items, work))
            outcomes: list[ItemOutcome[T]] = []
            for index, item in enumerate(items):
                try:
                    result = await self._run(lambda session, item=item: work(session, item))  # type: ignore[misc]
                except DomainError as error:
                    outcomes.append(refusal(index, error))
                else:
                    outcomes.append(ItemOutcome(index, "recorded", result))
            return outcomes

    async def _all_or_nothing(
        self, session: Session, items: Sequence[I], work: Callable[[Session, I], Awaitable[T]]
    ) -> list[ItemOutcome[T]]:
        outcomes: list[ItemOutcome[T]] = []
        for index, item in enumerate(items):
            savepoint = await session.conn.begin_nested()
            try:
                result = await work(session, item)
            except DomainError as error:
                await savepoint.rollback()
                outcomes.append(refusal(index, error))
            else:
                await savepoint.commit()
                outcomes.append(ItemOutcome(index, "recorded", result))
        if any(outcome.status == "refused" for outcome in outcomes):
            raise BulkRefused(outcomes)
        return outcomes

    # -- translation and projection ---------------------------------------------------------------------

    def history(self, recorded: Sequence[RecordedEvent]) -> list[tuple[Any, Any]]:
        """Stored events as the domain replays them: its own events, each with its business time."""
        return [
            (self.translation.from_contract(event.event), event.envelope.occurredat) for event in recorded
        ]

    def new_events(self, changes: Sequence[Change[Any]], subject: str) -> list[NewEvent]:
        return [
            NewEvent(self.translation.to_contract(change.event), change.subject or subject, change.at)
            for change in changes
        ]

    async def project(
        self, conn: AsyncConnection, new: Sequence[NewEvent], stored: Sequence[StoredEvent]
    ) -> None:
        if not self.projections:
            return
        saved = [Saved(n.event, s.envelope) for n, s in zip(new, stored, strict=True)]
        for projection in self.projections:
            await projection.project(conn, saved)

    async def project_recorded(self, conn: AsyncConnection, recorded: Sequence[RecordedEvent]) -> None:
        """Project events read back from the store (a rebuild)."""
        saved = [Saved(r.event, r.envelope) for r in recorded]
        for projection in self.projections:
            await projection.project(conn, saved)
