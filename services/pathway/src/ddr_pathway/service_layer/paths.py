"""A person's path from the live read model: their facts, and those of every duplicate they absorbed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, Table, select, union_all
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_pathway.adapters.tables import fact_from_row
from ddr_pathway.domain.children import is_child_record
from ddr_pathway.domain.facts import Fact, as_utc, start_of
from ddr_pathway.domain.path import PersonPath, build_path

MAX_MERGE_DEPTH = 20


async def absorbed_by(
    conn: AsyncConnection,
    table: Table,
    person_id: str,
    known: datetime | None,
    *,
    first: set[str] | None = None,
) -> list[str]:
    """Every record merged into ``person_id``, directly or through a chain of merges."""
    found: set[str] = set(first or ())
    frontier = set(found) if first is not None else {person_id}
    for _ in range(MAX_MERGE_DEPTH):
        if not frontier:
            break
        query = select(table.c.person_id).where(table.c.kind == "merge", table.c.value.in_(frontier))
        if known is not None:
            query = query.where(table.c.recorded_at <= known)
        rows = {r.person_id for r in (await conn.execute(query)).all() if r.person_id}
        frontier = rows - found - {person_id}
        found |= frontier
    return sorted(found)


@dataclass(frozen=True)
class PersonPaths:
    """The path asked for (as of a date, as known on a date), the path as known now, and whether the person's
    record is a child's (always as known now: asking about an earlier date never shows a child as an adult)."""

    asked: PersonPath | None
    current: PersonPath | None
    child: bool


async def read_person(
    conn: AsyncConnection,
    table: Table,
    person_id: str,
    *,
    now: datetime,
    as_of: date | None = None,
    known_on: datetime | None = None,
) -> PersonPaths:
    facts, absorbed = await _facts(conn, table, person_id, None)
    current = _built(person_id, facts, absorbed, now, None)
    asked = current
    if known_on is not None:
        facts_then, absorbed_then = await _facts(conn, table, person_id, as_utc(known_on))
        asked = _built(person_id, facts_then, absorbed_then, now, as_of)
    elif as_of is not None:
        asked = _built(person_id, facts, absorbed, now, as_of)
    child = is_child_record(facts)
    if not child and current is not None and current.merged_into is not None:
        # An absorbed duplicate of a child's record is that child's record too.
        child = is_child_record((await _facts(conn, table, current.merged_into, None))[0])
    return PersonPaths(asked, current, child)


async def read_path(
    conn: AsyncConnection,
    table: Table,
    person_id: str,
    *,
    now: datetime,
    as_of: date | None = None,
    known_on: datetime | None = None,
) -> PersonPath | None:
    """The path of ``person_id`` (None when no event names them), optionally as of a date / as known on."""
    known = as_utc(known_on) if known_on is not None else None
    facts, absorbed = await _facts(conn, table, person_id, known)
    return _built(person_id, facts, absorbed, now, as_of)


def _built(
    person_id: str, facts: list[Fact], absorbed: list[str], now: datetime, as_of: date | None
) -> PersonPath | None:
    end = None if as_of is None else start_of(as_of + timedelta(days=1))
    path = build_path(
        person_id, facts, absorbed=absorbed, now=now if end is None else min(now, end), before=end
    )
    return path if path.steps else None


async def _facts(
    conn: AsyncConnection, table: Table, person_id: str, known: datetime | None
) -> tuple[list[Fact], list[str]]:
    """The facts of ``person_id`` and of every record merged into them, recorded by ``known``."""
    # One round trip in the common case: the person's facts and those of records merged straight into them.
    merged_in = select(table.c.person_id).where(table.c.kind == "merge", table.c.value == person_id)
    if known is not None:
        merged_in = merged_in.where(table.c.recorded_at <= known)
    # Facts of any business time: a step dated before its cause holds only from the cause's time, so the
    # cut at ``as_of`` is made after the causal order (build_path), not here.
    own = _known(select(table).where(table.c.person_id == person_id), table, known)
    merged = _known(select(table).where(table.c.person_id.in_(merged_in.scalar_subquery())), table, known)
    query = union_all(own, merged)  # each half on the person index (an OR would defeat it)
    facts: list[Fact] = [fact_from_row(row) for row in (await conn.execute(query)).all()]
    direct = {f.person_id for f in facts if f.person_id and f.person_id != person_id}
    absorbed = sorted(direct)
    if direct:  # a chain of merges: follow it, then read the records found further down
        absorbed = await absorbed_by(conn, table, person_id, known, first=direct)
        further = set(absorbed) - direct
        if further:
            more = _known(select(table).where(table.c.person_id.in_(further)), table, known)
            facts += [fact_from_row(row) for row in (await conn.execute(more)).all()]
    return facts, absorbed


def _known(query: Select[Any], table: Table, known: datetime | None) -> Select[Any]:
    if known is not None:
        query = query.where(table.c.recorded_at <= known)
    return query
