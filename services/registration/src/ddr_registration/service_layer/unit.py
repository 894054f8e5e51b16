"""What every handler works with: the event store, the read model, and the transaction that binds them.

An append and the read-model rows it implies commit together (one transaction of the service's database),
and the outbox relay is told after the commit, so what is published is exactly what is stored.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_registration.adapters.biometrics import BiometricHasher
from ddr_registration.adapters.projections import Projector
from ddr_registration.adapters.repository import AggregateRepository
from ddr_registration.domain.aggregate import Aggregate
from ddr_registration.domain.errors import UnknownRecord
from ddr_registration.domain.identity import CandidateIndex
from ddr_runtime.eventstore.store import Causation, EventStore

A = TypeVar("A", bound=Aggregate)


def _new_id() -> str:
    return str(uuid.uuid4())


def _nothing() -> None:
    return None


@dataclass
class Registration:
    store: EventStore
    hasher: BiometricHasher
    index: CandidateIndex = field(default_factory=CandidateIndex)
    notify: Callable[[], None] = _nothing  # wakes the outbox relay after a commit
    new_id: Callable[[], str] = _new_id

    def __post_init__(self) -> None:
        self.repository = AggregateRepository(self.store)
        self.projector = Projector(self.store.cipher)
        self.index_high_water = 0  # the last persons.seq the identity index has seen

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
