"""What every reinsertion command handler is given: the unit of work, and the aggregates kept warm.

A budget line's stream grows by one event per commitment and per tranche paid, and a batch of payments
follows the batch of enrolments that made its beneficiaries: the aggregates a command saved are kept warm
once its transaction has committed (see :mod:`ddr_reinsertion.adapters.warm`), and loaded from there when
their streams have not moved. Saving still appends after the version decided on: what is kept saves reads,
never a check.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from ddr_reinsertion.domain.beneficiary import Beneficiary, Release
from ddr_reinsertion.domain.catalogue import Package
from ddr_reinsertion.domain.ledger import BudgetLine
from ddr_runtime.eventstore.ports import AggregateSession, Causation, CommandRunner
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


Cold = Callable[[AggregateSession, Sequence[str]], Awaitable[dict[str, A]]]
"""Loads streams not kept warm (by stream id): by default, each replayed from its first event."""


class Warm(Protocol):
    """Aggregates kept warm between commands (an adapter): loaded as of their streams' last events."""

    async def load_many(
        self,
        session: AggregateSession,
        stream_ids: Sequence[str],
        factory: Callable[[], A],
        cold: Cold[A] | None = None,
    ) -> dict[str, A]: ...

    def keep(self, stream_id: str, aggregate: Aggregate[Any]) -> None: ...


class Lines(Protocol):
    """Budget lines loaded as of their streams' last events without replaying them (an adapter: from the
    running balance the read model keeps in the transaction that stores the events)."""

    async def load_lines(
        self, session: AggregateSession, line_ids: Sequence[str]
    ) -> dict[str, BudgetLine]: ...


@dataclass
class Desk:
    """The unit of work of the reinsertion service, its warm aggregates (``None``: always replayed) and how a
    budget line not kept warm is loaded (``None``: replayed)."""

    unit: CommandRunner
    warm: Warm | None = None
    lines: Lines | None = None

    async def run(self, work: Callable[[Touched], Awaitable[T]]) -> T:
        """``work`` on the aggregates it touches, in one transaction (decided again on a conflict); once
        committed, what it saved is kept warm."""
        attempts: list[Touched] = []

        async def attempt(session: AggregateSession) -> T:
            attempts.append(Touched(self, session))
            return await work(attempts[-1])

        result = await self.unit.run(attempt)
        if self.warm is not None:
            for stream_id, aggregate in attempts[-1].saved():
                self.warm.keep(stream_id, aggregate)
        return result

    async def load_many(
        self,
        session: AggregateSession,
        stream_ids: Sequence[str],
        factory: Callable[[], A],
        cold: Cold[A] | None = None,
    ) -> dict[str, A]:
        if self.warm is not None:
            return await self.warm.load_many(session, stream_ids, factory, cold)
        if cold is not None:
            return await cold(session, stream_ids)
        return await session.load_many(stream_ids, factory)

    async def line(self, session: AggregateSession, line_id: str) -> BudgetLine:
        """The budget line as of its last stored event (version 0 when it does not exist): kept warm, else
        from its running balance (``lines``), else replayed."""
        stream = line_stream(line_id)
        cold: Cold[BudgetLine] | None = None
        if self.lines is not None:
            lines = self.lines

            async def cold(on: AggregateSession, _streams: Sequence[str]) -> dict[str, BudgetLine]:
                return {stream: (await lines.load_lines(on, [line_id]))[line_id]}

        return (await self.load_many(session, [stream], BudgetLine, cold)).get(stream) or BudgetLine()

    async def beneficiaries(self, session: AggregateSession, person_ids: list[str]) -> dict[str, Beneficiary]:
        loaded = await self.load_many(session, [beneficiary_stream(p) for p in person_ids], Beneficiary)
        return {p: loaded.get(beneficiary_stream(p)) or Beneficiary() for p in person_ids}


class Touched:
    """The aggregates one command decides on, each loaded once, all saved in one append."""

    def __init__(self, desk: Desk, session: AggregateSession) -> None:
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

    async def person_to_act_on(self, person_id: str, regions: frozenset[str]) -> Beneficiary:
        """The person, if a caller narrowed to ``regions`` (empty: every region) may act on them, as this
        transaction reads them: someone this service never heard of, a child, and a person outside the regions
        (or of no known region) are refused alike (UnknownRecord: 404), before anything is decided."""
        person = await self.person(person_id)
        if person.version == 0 or person.outside(regions):
            raise UnknownRecord("beneficiary", person_id)
        return person

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
