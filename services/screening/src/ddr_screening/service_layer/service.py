"""What screening's handlers work with: the unit of work over its store, the reference data and the
intake's memory of registration (ports, implemented by the adapters), and the deployment's policy."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from ddr_runtime.eventstore.store import Causation
from ddr_runtime.eventstore.unit import Session, UnitOfWork
from ddr_runtime.kernel import Recording
from ddr_screening.domain.policy import ScreeningPolicy
from ddr_screening.domain.rules import RuleSet
from ddr_screening.domain.values import VettingListEntry


class Context(Protocol):
    """A command's context: when it is recorded (and the authority to record the past), and its causation."""

    @property
    def recording(self) -> Recording: ...

    @property
    def causation(self) -> Causation: ...


class Reference(Protocol):
    """The reference data commands decide by, read in the command's transaction."""

    async def rule_sets(self, session: Session) -> list[RuleSet]: ...

    async def vetting_list(
        self, session: Session, person_ids: Collection[str]
    ) -> tuple[int | None, dict[str, VettingListEntry]]: ...

    async def cases_to_recheck(self, session: Session, named: Collection[str]) -> list[str]: ...


class Persons(Protocol):
    """What registration said of each person (rows by person id), and the birth dates still needed."""

    async def load(
        self, session: Session, person_ids: Collection[str]
    ) -> tuple[dict[str, dict[str, Any]], dict[str, date | None]]: ...

    async def save(
        self, session: Session, rows: Sequence[Mapping[str, Any]], births: Mapping[str, date | None]
    ) -> None: ...


@dataclass
class Screening:
    unit: UnitOfWork
    reference: Reference
    persons: Persons
    policy: ScreeningPolicy = field(default_factory=ScreeningPolicy)
