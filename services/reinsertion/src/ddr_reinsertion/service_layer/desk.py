"""What every reinsertion command handler is given: the unit of work, and aggregates kept warm.

A budget line's stream grows by one event per commitment and per tranche paid (32,000 in a programme of
16,000 beneficiaries), and a batch of payments follows the batch of enrolments that made its beneficiaries:
replaying them from the start for every command would cost more than deciding. So the aggregates a command
saved are kept in memory once its transaction has committed, each at the version it was saved at. A load
asks the store for the streams' last versions (one query for a batch): an aggregate whose stream has not
moved is used as kept, one that moved is brought up to date with the events after its version, and anything
not kept is replayed from the store. Saving still appends after the version decided on, so a stream changed
by another office or process in between is a conflict and the command is decided again: what is kept saves
reads, never a check.
"""

from __future__ import annotations

import copy
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ddr_reinsertion.domain.beneficiary import Beneficiary, Release
from ddr_reinsertion.domain.catalogue import Package
from ddr_reinsertion.domain.ledger import BudgetLine
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.eventstore.unit import Session, UnitOfWork
from ddr_runtime.kernel import Aggregate, UnknownRecord

A = TypeVar("A", bound=Aggregate[Any])
T = TypeVar("T")


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
    """Aggregates as committed, by stream, the least recently used dropped beyond ``limit``."""

    limit: int = 50_000
    kept: OrderedDict[str, Aggregate[Any]] = field(default_factory=OrderedDict)

    async def load_many(
        self, session: Session, stream_ids: Sequence[str], factory: Callable[[], A]
    ) -> dict[str, A]:
        """Each stream's aggregate as of its last stored event (version 0 when the stream is empty)."""
        ids = list(dict.fromkeys(stream_ids))
        known = [stream_id for stream_id in ids if stream_id in self.kept]
        heads = await session.unit.store.stream_versions(known, conn=session.conn) if known else {}
        found: dict[str, A] = {}
        for stream_id in known:
            kept: A = self.kept[stream_id]  # type: ignore[assignment]
            head = heads.get(stream_id, 0)
            if head < kept.version:
                continue  # cannot happen to committed history; replayed whole below all the same
            aggregate = copy.deepcopy(kept)
            if head > kept.version:
                tail = await session.unit.store.read_stream(stream_id, after=kept.version, conn=session.conn)
                aggregate.replay(session.unit.history(tail))
            found[stream_id] = aggregate
        missing = [stream_id for stream_id in ids if stream_id not in found]
        if missing:
            found.update(await session.load_many(missing, factory))
        return found

    def keep(self, stream_id: str, aggregate: Aggregate[Any]) -> None:
        if aggregate.version == 0 or aggregate.pending:
            return
        self.kept[stream_id] = copy.deepcopy(aggregate)
        self.kept.move_to_end(stream_id)
        while len(self.kept) > self.limit:
            self.kept.popitem(last=False)


@dataclass
class Desk:
    """The unit of work of the reinsertion service, and its warm aggregates (``None``: always replayed,
    as with the in-memory unit of work of the unit tests)."""

    unit: UnitOfWork
    warm: WarmStreams | None = field(default_factory=WarmStreams)

    async def run(self, work: Callable[[Touched], Awaitable[T]]) -> T:
        """``work`` on the aggregates it touches, in one transaction (decided again on a conflict); once
        committed, what it saved is kept warm."""
        attempts: list[Touched] = []

        async def attempt(session: Session) -> T:
            attempts.append(Touched(self, session))
            return await work(attempts[-1])

        result = await self.unit.run(attempt)
        if self.warm is not None:
            for stream_id, aggregate in attempts[-1].saved():
                self.warm.keep(stream_id, aggregate)
        return result

    async def load_many(
        self, session: Session, stream_ids: Sequence[str], factory: Callable[[], A]
    ) -> dict[str, A]:
        if self.warm is None:
            return await session.load_many(stream_ids, factory)
        return await self.warm.load_many(session, stream_ids, factory)

    async def line(self, session: Session, line_id: str) -> BudgetLine:
        """The budget line as of its last stored event (version 0 when it does not exist)."""
        return (await self.load_many(session, [line_stream(line_id)], BudgetLine))[line_stream(line_id)]

    async def beneficiaries(self, session: Session, person_ids: list[str]) -> dict[str, Beneficiary]:
        loaded = await self.load_many(session, [beneficiary_stream(p) for p in person_ids], Beneficiary)
        return {p: loaded.get(beneficiary_stream(p)) or Beneficiary() for p in person_ids}


class Touched:
    """The aggregates one command decides on, each loaded once, all saved in one append."""

    def __init__(self, desk: Desk, session: Session) -> None:
        self.desk, self.session = desk, session
        self.people: dict[str, Beneficiary] = {}
        self.lines: dict[str, BudgetLine] = {}
        self.packages: dict[str, Package] = {}

    async def load_people(self, person_ids: Sequence[str]) -> None:
        missing = [p for p in dict.fromkeys(person_ids) if p not in self.people]
        if missing:
            self.people.update(await self.desk.beneficiaries(self.session, missing))

    async def person(self, person_id: str) -> Beneficiary:
        await self.load_people([person_id])
        return self.people[person_id]

    async def line(self, line_id: str) -> BudgetLine:
        if line_id not in self.lines:
            self.lines[line_id] = await self.desk.line(self.session, line_id)
        line = self.lines[line_id]
        if line.version == 0:
            raise UnknownRecord("budget_line", line_id)
        return line

    async def package(self, package_id: str) -> Package:
        if package_id not in self.packages:
            self.packages[package_id] = await self.session.load(package_stream(package_id), Package)
        return self.packages[package_id]

    async def release(self, release: Release | None, at_person: Beneficiary) -> None:
        if release is not None:
            line = await self.line(release.line_id)
            line.release(release.commitment_id, release.amount, at_person.at)

    def saved(self) -> list[tuple[str, Aggregate[Any]]]:
        """The people and lines this command touched, by stream (to keep warm once committed)."""
        kept: list[tuple[str, Aggregate[Any]]] = [(beneficiary_stream(p), b) for p, b in self.people.items()]
        return kept + [(line_stream(line_id), line) for line_id, line in self.lines.items()]

    async def save(self, causation: Causation, *also: tuple[Aggregate[Any], str, str]) -> None:
        items: list[tuple[Aggregate[Any], str, str]] = list(also)
        items += [(p, beneficiary_stream(pid), pid) for pid, p in self.people.items()]
        items += [(line, line_stream(lid), lid) for lid, line in self.lines.items()]
        await self.session.save_many(items, causation)
