"""Programme figures as of a business date and as known at a record time, from the live read model.

One range query on the facts (record time up to ``known_on``) and a count: no replay of any topic or store.
Facts of any business time are read, so that a person's step dated before its cause counts only from the
cause's date (``ddr_pathway.domain.order``).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Table, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_pathway.adapters.tables import DEFAULT_PREFIX, fact_from_row, facts_table, live_generation
from ddr_pathway.domain.children import CHILD_EVIDENCE_KINDS, child_records
from ddr_pathway.domain.facts import Fact, as_utc
from ddr_pathway.domain.figures import (
    EXACT,
    CvrTotals,
    Disclosure,
    Funnel,
    ProgrammeFigures,
    TrackCounts,
    UnknownFilter,
    WaitingTime,
    canonical_ids,
    check_filters,
    compute_figures,
)

__all__ = [
    "CvrTotals",
    "Disclosure",
    "Funnel",
    "ProgrammeFigures",
    "TrackCounts",
    "UnknownFilter",
    "WaitingTime",
    "live_read_model",
    "programme_figures",
    "read_model_table",
]


class NoReadModel(LookupError):
    """No generation of the read model exists yet."""


async def live_read_model(
    conn: AsyncConnection, *, prefix: str = DEFAULT_PREFIX, generation: int | None = None
) -> tuple[int, Table]:
    """``generation`` (or the live one) and its facts table."""
    if generation is None:
        generation = await live_generation(conn, prefix)
        if generation is None:
            raise NoReadModel("the pathway read model has no live generation yet")
    return generation, facts_table(prefix, generation)


async def read_model_table(
    conn: AsyncConnection, *, prefix: str = DEFAULT_PREFIX, generation: int | None = None
) -> Table:
    """The facts table of ``generation``, or of the live generation."""
    return (await live_read_model(conn, prefix=prefix, generation=generation))[1]


async def programme_figures(
    conn: AsyncConnection,
    *,
    as_of: date,
    known_on: datetime | None = None,
    prefix: str = DEFAULT_PREFIX,
    generation: int | None = None,
    disclosure: Disclosure = EXACT,
    **filters: str | None,
) -> ProgrammeFigures:
    """Figures as of the end of ``as_of`` (business time), counting only events recorded by ``known_on``;
    children's records (as known now) apart, their count and vetting holds shown as ``disclosure`` says."""
    wanted = check_filters(filters)
    table = await read_model_table(conn, prefix=prefix, generation=generation)
    known = as_utc(known_on) if known_on is not None else None
    query = select(table).where(table.c.kind != "merge")
    merges_query = select(table).where(table.c.kind == "merge")
    if known is not None:
        query = query.where(table.c.recorded_at <= known)
        merges_query = merges_query.where(table.c.recorded_at <= known)
    facts = [fact_from_row(row) for row in (await conn.execute(query)).all()]
    merges = [fact_from_row(row) for row in (await conn.execute(merges_query)).all()]
    children = await _children(conn, table, facts, merges, known)
    return compute_figures(
        facts, merges, as_of=as_of, known_on=known, filters=wanted, children=children, disclosure=disclosure
    )


async def _children(
    conn: AsyncConnection, table: Table, facts: list[Fact], merges: list[Fact], known: datetime | None
) -> set[str]:
    """The ids of children's records as known now, whatever ``known``: a figure as known on an earlier date
    never counts a child among the adults (nor shows one leaving them when identified later)."""
    if known is not None:
        later = select(table).where(
            table.c.recorded_at > known,
            or_(table.c.kind.in_(CHILD_EVIDENCE_KINDS), table.c.category == "child"),
        )
        facts = facts + [fact_from_row(row) for row in (await conn.execute(later)).all()]
        every_merge = select(table).where(table.c.kind == "merge")
        merges = [fact_from_row(row) for row in (await conn.execute(every_merge)).all()]
    return child_records(facts, canonical_ids(merges))
