"""The programme's figures as dated deltas per project (``cvr_figures``), kept by the projection.

A project counts from its approval date: its project count, USD amount, targets and beneficiaries enter the
figures then, and later changes enter at their own business date (never before approval). A rejected or
pending project never counts. Direct beneficiaries are the larger of the partner's recorded count and the
named participants (likewise for women), so named lists and counts entered as data meet without double
counting. Targets are counts, summed as counts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_cvr.adapters.tables import FIGURE_COLUMNS, figures


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


@dataclass
class Counters:
    """A project's current counters (columns of ``cvr_projects``) and what they make in the figures."""

    approved_on: date | None
    budget_usd_cents: int
    direct_beneficiaries_target: int
    women_target: int
    ex_combatants_target: int
    named: int
    named_women: int
    named_ex: int
    recorded_direct: int
    recorded_direct_women: int
    recorded_indirect: int
    recorded_indirect_women: int

    def figures(self) -> dict[str, int]:
        if self.approved_on is None:
            return dict.fromkeys(FIGURE_COLUMNS, 0)
        return {
            "projects": 1,
            "amount_usd_cents": self.budget_usd_cents,
            "direct": max(self.recorded_direct, self.named),
            "direct_women": max(self.recorded_direct_women, self.named_women),
            "indirect": self.recorded_indirect,
            "indirect_women": self.recorded_indirect_women,
            "participants": self.named,
            "participants_women": self.named_women,
            "ex_combatants": self.named_ex,
            "target_direct": self.direct_beneficiaries_target,
            "target_women": self.women_target,
            "target_ex_combatants": self.ex_combatants_target,
            "recorded_direct": self.recorded_direct,
            "recorded_direct_women": self.recorded_direct_women,
        }

    def dated(self, on: date) -> date:
        """A change before approval enters the figures on the approval date (with the approval itself)."""
        return on if self.approved_on is None or on >= self.approved_on else self.approved_on

    def values(self) -> dict[str, Any]:
        """The counters kept as columns (the approval date is written with the approval)."""
        return {name: getattr(self, name) for name in COUNTED}


COUNTER_COLUMNS = tuple(f.name for f in fields(Counters))
COUNTED = tuple(name for name in COUNTER_COLUMNS if name.startswith(("named", "recorded_")))
"""The counters that start at zero and change with participants and recorded counts."""


class FigureDeltas:
    """Deltas per (project, business date), summed, then added to ``cvr_figures`` in one statement."""

    def __init__(self) -> None:
        self.deltas: dict[tuple[str, date], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(FIGURE_COLUMNS, 0)
        )

    def add(self, project_id: str, on: date, before: dict[str, int], after: dict[str, int]) -> None:
        row = self.deltas[(project_id, on)]
        for column in FIGURE_COLUMNS:
            row[column] += after[column] - before[column]

    async def write(self, conn: AsyncConnection) -> None:
        rows = [
            {"project_id": project_id, "effective_on": on, **values}
            for (project_id, on), values in self.deltas.items()
            if any(values.values())
        ]
        if not rows:
            return
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        statement = dialect_insert(figures)
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[figures.c.project_id, figures.c.effective_on],
                set_={c: figures.c[c] + statement.excluded[c] for c in FIGURE_COLUMNS},
            ),
            rows,
        )
