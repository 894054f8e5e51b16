"""Aggregates kept warm between commands, in this process's memory.

A budget line's stream grows by one event per commitment and per tranche paid (32,000 in a programme of
16,000 beneficiaries), and a batch of payments follows the batch of enrolments that made its beneficiaries:
replaying them from the start for every command would cost more than deciding. So the aggregates a command
saved are kept once its transaction has committed, each at the version it was saved at. A load asks the
store for the streams' last versions (one query for a batch): an aggregate whose stream has not moved is used
as kept, one that moved is brought up to date with the events after its version, and anything not kept is
replayed from the store (or loaded as the caller says: a budget line from its running balance, see
:mod:`ddr_reinsertion.adapters.snapshots`). Only committed history is kept, so a kept version is never one that was rolled back.

A budget line is shared by every command of its offices: each load takes a copy (its state is a handful of
amounts). A beneficiary is touched by one command at a time: a load takes it out, and the command that saves
it puts it back once committed (copying a person's timetable and payments would cost more than it saves); a
second command on the same person meanwhile replays the person's short stream.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar, cast

from ddr_reinsertion.domain.ledger import BudgetLine
from ddr_runtime.eventstore.ports import AggregateSession
from ddr_runtime.eventstore.unit import Session
from ddr_runtime.kernel import Aggregate

A = TypeVar("A", bound=Aggregate[Any])
Cold = Callable[[AggregateSession, Sequence[str]], Awaitable[dict[str, A]]]
"""Loads the streams not kept (by stream id); by default, each replayed from its first event."""


def _shared(aggregate: Aggregate[Any]) -> bool:
    return isinstance(aggregate, BudgetLine)


@dataclass
class WarmStreams:
    """Aggregates as committed, by stream, the least recently used dropped beyond ``limit``."""

    limit: int = 50_000
    kept: OrderedDict[str, Aggregate[Any]] = field(default_factory=OrderedDict)

    async def load_many(
        self,
        on: AggregateSession,
        stream_ids: Sequence[str],
        factory: Callable[[], A],
        cold: Cold[A] | None = None,
    ) -> dict[str, A]:
        """Each stream's aggregate as of its last stored event (version 0 when the stream is empty); those
        not kept are loaded by ``cold`` (by default, replayed from the store)."""
        session = cast(Session, on)  # the runtime's session: its store tells the streams' last versions
        ids = list(dict.fromkeys(stream_ids))
        known = [stream_id for stream_id in ids if stream_id in self.kept]
        heads = await session.unit.store.stream_versions(known, conn=session.conn) if known else {}
        found: dict[str, A] = {}
        for stream_id in known:
            kept = cast(A | None, self.kept.get(stream_id))  # another command may have taken it meanwhile
            head = heads.get(stream_id, 0)
            if kept is None or head < kept.version:
                continue  # replayed from the store below (a kept version ahead of the store cannot happen)
            version = kept.version
            aggregate = copy.deepcopy(kept) if _shared(kept) else cast(A, self.kept.pop(stream_id))
            if head > version:
                tail = await session.unit.store.read_stream(stream_id, after=version, conn=session.conn)
                aggregate.replay(session.unit.history(tail))
            found[stream_id] = aggregate
        missing = [stream_id for stream_id in ids if stream_id not in found]
        if missing:
            found.update(await (session.load_many(missing, factory) if cold is None else cold(on, missing)))
        return found

    def keep(self, stream_id: str, aggregate: Aggregate[Any]) -> None:
        """An aggregate as committed; the caller no longer changes it."""
        if aggregate.version == 0 or aggregate.pending:
            return
        self.kept[stream_id] = copy.deepcopy(aggregate) if _shared(aggregate) else aggregate
        self.kept.move_to_end(stream_id)
        while len(self.kept) > self.limit:
            self.kept.popitem(last=False)
