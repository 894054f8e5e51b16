"""What every handler works with: the event store, the read model, the policy, and one transaction.

Events and the read-model rows they imply commit together; the outbox relay is told after the commit.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_contracts.screening import VettingListEntry
from ddr_runtime.eventstore.store import EventStore
from ddr_screening.adapters.repository import CaseRepository
from ddr_screening.adapters.tables import rule_sets, vetting_entries, vetting_lists
from ddr_screening.domain.policy import ScreeningPolicy
from ddr_screening.domain.rules import RuleSet, in_force


def _new_id() -> str:
    return str(uuid.uuid4())


def _nothing() -> None:
    return None


@dataclass
class Screening:
    store: EventStore
    policy: ScreeningPolicy = field(default_factory=ScreeningPolicy)
    notify: Callable[[], None] = _nothing  # wakes the outbox relay after a commit
    new_id: Callable[[], str] = _new_id

    def __post_init__(self) -> None:
        self.cases = CaseRepository(self.store, self.new_id)

    @property
    def engine(self) -> AsyncEngine:
        return self.store.engine

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        async with self.engine.begin() as tx:
            yield tx
        self.notify()

    async def rule_sets(self, conn: AsyncConnection) -> list[RuleSet]:
        rows = (await conn.execute(select(rule_sets.c.body))).scalars().all()
        return [rule_set_from(body) for body in rows]

    async def rules_in_force(self, conn: AsyncConnection, on: date) -> RuleSet | None:
        return in_force(await self.rule_sets(conn), on)

    async def vetting_list_version(self, conn: AsyncConnection) -> int | None:
        version: int | None = (await conn.execute(select(func.max(vetting_lists.c.list_version)))).scalar()
        return version

    async def vetting_matches(
        self, conn: AsyncConnection, list_version: int, person_ids: Iterable[str]
    ) -> dict[str, VettingListEntry]:
        """The entries of list ``list_version`` naming any of ``person_ids``."""
        wanted = list(set(person_ids))
        found: dict[str, VettingListEntry] = {}
        for start in range(0, len(wanted), 1000):
            rows = (
                await conn.execute(
                    select(vetting_entries).where(
                        vetting_entries.c.list_version == list_version,
                        vetting_entries.c.person_id.in_(wanted[start : start + 1000]),
                    )
                )
            ).all()
            for row in rows:
                found[row.person_id] = VettingListEntry(
                    person_id=row.person_id, allegation_ref=row.allegation_ref, status=row.status
                )
        return found


def rule_set_from(body: Mapping[str, Any]) -> RuleSet:
    """A rule set from its stored JSON body."""
    values: dict[str, Any] = dict(body)
    for name in ("integration_categories", "reinsertion_categories", "cvr_movements"):
        values[name] = tuple(values.get(name) or ())
    values["effective_from"] = date.fromisoformat(str(values["effective_from"]))
    return RuleSet(**values)
