"""What every reinsertion command handler is given: the unit of work, and the budget lines kept warm.

A budget line's stream grows by one event per commitment and per tranche paid (32,000 in a programme of
16,000 beneficiaries), so it is not replayed from the start for every command: the line as last read is kept
in memory with the version and event id it was read at, and a load reads only what was appended since. The
event at that version is read again and must be the same event, or the line is replayed whole (a transaction
that read it rolled back meanwhile). Saving still appends after the version decided on, so a line changed by
another office or process in between is a conflict, and the command is decided again: the cache saves reads,
never a check.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ddr_reinsertion.domain.beneficiary import Beneficiary
from ddr_reinsertion.domain.ledger import BudgetLine
from ddr_runtime.eventstore.unit import Session, UnitOfWork
from ddr_runtime.kernel import Aggregate

A = TypeVar("A", bound=Aggregate[Any])


def beneficiary_stream(person_id: str) -> str:
    return f"beneficiary-{person_id}"


def line_stream(line_id: str) -> str:
    return f"budget-line-{line_id}"


def round_stream(round_id: str) -> str:
    return f"round-{round_id}"


def package_stream(package_id: str) -> str:
    return f"package-{package_id}"


@dataclass
class WarmStreams:
    """Aggregates as last read, by stream: (version, id of the event at that version, the aggregate)."""

    limit: int = 256
    entries: dict[str, tuple[int, str, Aggregate[Any]]] = field(default_factory=dict)

    async def load(self, session: Session, stream_id: str, factory: Callable[[], A]) -> A:
        store = session.unit.store
        entry = self.entries.get(stream_id)
        if entry is not None:
            version, event_id, kept = entry
            tail = await store.read_stream(stream_id, after=version - 1, conn=session.conn)
            if tail and str(tail[0].envelope.id) == event_id:
                aggregate: A = copy.deepcopy(kept)  # type: ignore[assignment]
                aggregate.replay(session.unit.history(tail[1:]))
                self._keep(stream_id, aggregate, str(tail[-1].envelope.id))
                return aggregate
        recorded = await store.read_stream(stream_id, conn=session.conn)
        aggregate = factory()
        aggregate.replay(session.unit.history(recorded))
        if recorded:
            self._keep(stream_id, aggregate, str(recorded[-1].envelope.id))
        return aggregate

    def _keep(self, stream_id: str, aggregate: Aggregate[Any], event_id: str) -> None:
        if len(self.entries) >= self.limit and stream_id not in self.entries:
            self.entries.pop(next(iter(self.entries)))
        self.entries[stream_id] = (aggregate.version, event_id, copy.deepcopy(aggregate))


@dataclass
class Desk:
    """The unit of work of the reinsertion service, and its warm budget lines (``None``: always replayed,
    as with the in-memory unit of work of the unit tests)."""

    unit: UnitOfWork
    warm: WarmStreams | None = field(default_factory=WarmStreams)

    async def line(self, session: Session, line_id: str) -> BudgetLine:
        """The budget line as of its last stored event (version 0 when it does not exist)."""
        if self.warm is None:
            return await session.load(line_stream(line_id), BudgetLine)
        return await self.warm.load(session, line_stream(line_id), BudgetLine)

    async def beneficiary(self, session: Session, person_id: str) -> Beneficiary:
        return await session.load(beneficiary_stream(person_id), Beneficiary)

    async def beneficiaries(self, session: Session, person_ids: list[str]) -> dict[str, Beneficiary]:
        loaded = await session.load_many([beneficiary_stream(p) for p in person_ids], Beneficiary)
        return {p: loaded.get(beneficiary_stream(p)) or Beneficiary() for p in person_ids}
