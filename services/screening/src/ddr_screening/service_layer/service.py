"""What screening's handlers work with: the unit of work (the runtime's ports), the reference data, the
intake's memory of registration and the read model (ports the adapters implement, wired by the bootstrap),
and the deployment's policy. Nothing here reaches SQL but through these ports."""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from ddr_runtime.auth.roles import Principal
from ddr_runtime.eventstore.ports import AggregateSession, Causation, CommandRunner
from ddr_runtime.kernel import Recording
from ddr_screening.domain.policy import ScreeningPolicy
from ddr_screening.domain.rules import RuleSet
from ddr_screening.domain.values import VettingListEntry
from ddr_screening.domain.visibility import CaseFilter

Row = Mapping[str, Any]


class Context(Protocol):
    """A command's context: who gives it, when it is recorded (and the authority to record the past), and its
    causation."""

    @property
    def principal(self) -> Principal: ...

    @property
    def recording(self) -> Recording: ...

    @property
    def causation(self) -> Causation: ...


class Reference(Protocol):
    """The reference data commands decide by, read in the command's transaction."""

    async def rule_sets(self, session: AggregateSession) -> list[RuleSet]: ...

    async def vetting_list(
        self, session: AggregateSession, person_ids: Collection[str]
    ) -> tuple[int | None, dict[str, VettingListEntry]]: ...

    async def cases_to_recheck(self, session: AggregateSession, named: Collection[str]) -> list[str]: ...


class Persons(Protocol):
    """What registration said of each person (rows by person id), and the birth dates still needed."""

    async def load(
        self, session: AggregateSession, person_ids: Collection[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, date | None]]: ...

    async def save(
        self, session: AggregateSession, rows: Sequence[Mapping[str, Any]], births: Mapping[str, date | None]
    ) -> None: ...


class Reads(Protocol):
    """The read model, as the views and the alerts read it (rows as mappings)."""

    async def case_row(self, person_id: str) -> Row | None: ...

    async def history(self, person_id: str) -> Sequence[Row]:
        """The case's stored events: ``event`` (the contract event), ``version``, ``actor``, ``occurred_at``,
        ``recorded_at``."""
        ...

    async def queue(
        self, kind: str, shown: CaseFilter, region: str | None, offset: int, limit: int
    ) -> tuple[int, Sequence[Row]]: ...

    async def queue_person_ids(self, kind: str) -> list[str]: ...

    async def outcomes(
        self, shown: CaseFilter, movement: str | None, track: str | None, offset: int, limit: int
    ) -> Sequence[Row]: ...

    async def figures(self, region: str | None, regions: frozenset[str]) -> dict[str, Any]:
        """``by_track``, ``held``, ``superseded`` over adults' cases; ``restricted``: the others, counted."""
        ...

    async def overdue_children(self, now: datetime, regions: frozenset[str]) -> Sequence[Row]: ...

    async def count_overdue(self, now: datetime) -> int: ...

    def unrestricted_open_cases(self, shown: CaseFilter) -> AsyncIterator[Row]: ...

    async def rule_set_bodies(self) -> list[dict[str, Any]]: ...

    async def children_among(self, person_ids: Collection[str]) -> set[str]: ...

    async def published_vetting_lists(self, shown: CaseFilter | None = None) -> Sequence[Row]: ...


@dataclass
class Screening:
    unit: CommandRunner
    reference: Reference
    persons: Persons
    reads: Reads
    policy: ScreeningPolicy = field(default_factory=ScreeningPolicy)
