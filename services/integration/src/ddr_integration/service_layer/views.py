"""What the API shows, as the service layer asks for it: read-model queries the adapters answer
(``adapters/queries.py``), handed over by the bootstrap.

Nothing here holds a name: a person is their id, their movement and their integration facts. Figures as of a
date are derived from the dated facts up to that date, never from the current state.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any, Protocol


class Views(Protocol):
    async def children_among(self, person_ids: Sequence[str]) -> set[str]:
        """Which of ``person_ids`` are children (in child protection's hands), for the read ledger."""
        ...

    async def candidate(self, person_id: str) -> dict[str, Any] | None:
        """A candidate's record with their service record and rank disputes (``version``: their stream's);
        ``None`` for a person who never was a candidate, and for a child."""

    async def candidates(
        self,
        *,
        movement: str | None,
        status: str | None,
        regions: frozenset[str],
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        """Candidates (never a child), of ``regions`` only when it names any (a region not known: none)."""

    async def disputed_person(self, dispute_id: str) -> str | None:
        """Whose rank a dispute is about (to find the record that decides it)."""

    async def quotas(self) -> list[dict[str, Any]]: ...

    async def rule_sets(self) -> list[dict[str, Any]]: ...

    async def cohort(self, cohort_id: str, on: date | None = None) -> dict[str, Any] | None: ...

    async def units(self) -> list[dict[str, Any]]: ...

    async def composition(
        self, unit_id: str, on: date, coalitions: Sequence[str]
    ) -> dict[str, Any] | None: ...

    async def coalitions_on(self, on: date) -> dict[str, str]: ...

    async def figures(self, on: date, regions: frozenset[str] = frozenset()) -> dict[str, Any]: ...
