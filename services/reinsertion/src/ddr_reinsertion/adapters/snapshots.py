"""Budget lines loaded from their running balance in the read model, not replayed from their first event.

A line's stream takes every commitment and every tranche paid of its programme (32,000 events for 16,000
beneficiaries): replaying it is the cost of a line not kept warm (a new process, another worker, a line
dropped from the cache). Its row in ``rs_budget_lines`` is written by the projection in the transaction that
stores the events it sums, with the stream version it is at, so in a command's transaction the row is the
line as of that version: the line is built from it, then brought up to date with the events after that
version, if any (a read model being rebuilt may lag). The guarantee does not rest on the row: the command
appends after the version it decided on, and a stream that moved meanwhile makes it decide again; the
table's checks refuse a negative balance besides. A line without a row is replayed from the store.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC
from typing import Any, cast

from sqlalchemy import select

from ddr_reinsertion.adapters.tables import budget_lines
from ddr_reinsertion.domain.ledger import BudgetLine
from ddr_runtime.eventstore.ports import AggregateSession
from ddr_runtime.eventstore.unit import Session


def _from_row(row: Any) -> BudgetLine:
    line = BudgetLine()
    line.line_id, line.funding_source, line.currency = row.line_id, row.funding_source, row.currency
    line.allotted, line.received, line.committed = row.allotted, row.received, row.committed
    line.released, line.disbursed = row.released, row.disbursed
    opened_at = row.opened_at
    line.opened_at = opened_at.replace(tzinfo=UTC) if opened_at and opened_at.tzinfo is None else opened_at
    line.version = row.version
    return line


class LineSnapshots:
    """Each line from its read-model row and the events stored after it; ``stream_of`` names a line's
    stream."""

    def __init__(self, stream_of: Callable[[str], str]) -> None:
        self.stream_of = stream_of

    async def load_lines(self, session: AggregateSession, line_ids: Sequence[str]) -> dict[str, BudgetLine]:
        """The lines by id, each as of its stream's last event (version 0 when the line does not exist)."""
        on = cast(Session, session)  # the runtime's session: its connection reads the row in the transaction
        ids = list(dict.fromkeys(line_ids))
        rows = (await on.conn.execute(select(budget_lines).where(budget_lines.c.line_id.in_(ids)))).all()
        found: dict[str, BudgetLine] = {}
        for row in rows:
            line = _from_row(row)
            tail = await on.unit.store.read_stream(
                self.stream_of(line.line_id), after=line.version, conn=on.conn
            )
            line.replay(on.unit.history(tail))
            found[line.line_id] = line
        missing = [line_id for line_id in ids if line_id not in found]
        if missing:
            replayed = await on.load_many([self.stream_of(i) for i in missing], BudgetLine)
            found.update({i: replayed.get(self.stream_of(i)) or BudgetLine() for i in missing})
        return found
