"""What every handler works with: the event store, the policy, the read model, and the transaction that
binds them. An append and the read-model rows it implies commit together; the relay is told after commit."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_cvr.adapters.projection import Projector
from ddr_cvr.adapters.repository import AggregateRepository
from ddr_cvr.domain.aggregate import Aggregate
from ddr_cvr.domain.errors import UnknownRecord
from ddr_cvr.domain.policy import CvrPolicy
from ddr_runtime.eventstore.store import Causation, EventStore

A = TypeVar("A", bound=Aggregate)


def _new_id() -> str:
    return str(uuid.uuid4())


def _nothing() -> None:
    return None


@dataclass
class Cvr:
    store: EventStore
    policy: CvrPolicy = field(default_factory=CvrPolicy)
    notify: Callable[[], None] = _nothing  # wakes the outbox relay after a commit
    new_id: Callable[[], str] = _new_id

    def __post_init__(self) -> None:
        self.repository = AggregateRepository(self.store)
        self.projector = Projector()

    @property
    def engine(self) -> AsyncEngine:
        return self.store.engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as tx:
            yield tx
        self.notify()

    async def load(self, tx: AsyncConnection, stream_id: str, factory: Callable[[], A]) -> A:
        return await self.repository.load(tx, stream_id, factory)

    async def load_existing(
        self, tx: AsyncConnection, stream_id: str, factory: Callable[[], A], kind: str, key: str
    ) -> A:
        aggregate = await self.load(tx, stream_id, factory)
        if aggregate.version == 0:
            raise UnknownRecord(kind, key)
        return aggregate

    async def save(
        self,
        tx: AsyncConnection,
        stream_id: str,
        aggregate: Aggregate,
        subject: str,
        causation: Causation,
        expected_version: int | None = None,
    ) -> int:
        """Append the aggregate's pending events and project them; the stream's new version."""
        stored = await self.repository.save(
            tx, stream_id, aggregate, subject, causation, expected_version=expected_version
        )
        await self.projector.project(tx, stored)
        return aggregate.version

    async def save_new(
        self, tx: AsyncConnection, items: Sequence[tuple[str, Aggregate, str]], causation: Causation
    ) -> None:
        """Start many new streams in one append and project them in bulk."""
        await self.projector.project(tx, await self.repository.save_new(tx, items, causation))
