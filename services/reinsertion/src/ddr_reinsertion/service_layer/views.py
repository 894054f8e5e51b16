"""What the entry points read (answered by an adapter the bootstrap wires in): the read model's questions,
and the counselling profile, read from the person's own encrypted events."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any, Protocol


class ReadModel(Protocol):
    async def beneficiaries(
        self, *, regions: frozenset[str], region: str | None, stage: str | None, limit: int, offset: int,
        include_barred: bool,
    ) -> list[dict[str, Any]]: ...  # fmt: skip

    async def region_of(self, person_id: str) -> str | None: ...

    async def children_among(self, person_ids: Iterable[str]) -> set[str]:
        """Which of ``person_ids`` are children (barred), for the read ledger."""
        ...

    async def standing(self, person_id: str) -> tuple[str | None, bool] | None:
        """The person's region and whether they are barred (a child), or None for a person never heard of."""
        ...

    async def beneficiary(self, person_id: str, *, include_barred: bool) -> dict[str, Any]: ...

    async def tranches_due(
        self, as_of: date, regions: frozenset[str], limit: int
    ) -> list[dict[str, Any]]: ...

    async def overdue_visits(
        self, as_of: date, regions: frozenset[str], limit: int
    ) -> list[dict[str, Any]]: ...

    async def budget_lines(self) -> list[dict[str, Any]]: ...

    async def budget_line(self, line_id: str) -> dict[str, Any]: ...

    async def packages(self) -> list[dict[str, Any]]: ...

    async def round(self, round_id: str) -> dict[str, Any]: ...

    async def dashboard(self, regions: frozenset[str]) -> dict[str, Any]: ...

    async def counselling_profile(self, person_id: str) -> dict[str, Any] | None:
        """The latest profile, opened from the person's own events (``area_of_return`` None once erased)."""
        ...
