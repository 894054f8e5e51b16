"""Reads and writes of the read model that the service layer decides on (inside its transaction)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_integration.adapters.tables import (
    coalitions,
    cohorts,
    contingents,
    holds,
    people,
    postings,
    quota_uses,
    quotas,
    rank_rules,
    trainees,
    units,
)
from ddr_integration.domain.candidates import Person
from ddr_integration.domain.cohorts import Cohort
from ddr_integration.domain.quotas import Quota
from ddr_integration.domain.ranks import Rule, RuleSet
from ddr_integration.domain.thirds import ARMED_FORCES, Composition

_PERSON_FIELDS = tuple(f for f in Person.__dataclass_fields__)


def dialect_insert(conn: AsyncConnection) -> Any:
    return postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert


def person_from_row(row: Any) -> Person:
    return Person(**{f: row[f] for f in _PERSON_FIELDS})


async def load_people(conn: AsyncConnection, person_ids: Iterable[str]) -> dict[str, tuple[Person, int]]:
    """Each known person with their stream version; unknown ids are absent."""
    ids = list(dict.fromkeys(person_ids))
    found: dict[str, tuple[Person, int]] = {}
    for start in range(0, len(ids), 1000):
        rows = (
            await conn.execute(select(people).where(people.c.person_id.in_(ids[start : start + 1000])))
        ).mappings()
        for row in rows:
            found[row["person_id"]] = (person_from_row(row), row["version"])
    return found


async def ensure_person(conn: AsyncConnection, person_id: str) -> None:
    statement = dialect_insert(conn)(people).values(person_id=person_id).on_conflict_do_nothing()
    await conn.execute(statement)


async def update_person(conn: AsyncConnection, person_id: str, **values: Any) -> None:
    await conn.execute(update(people).where(people.c.person_id == person_id).values(**values))


async def update_people(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Many person rows at once: every row has ``person_id`` and the same other keys."""
    if not rows:
        return
    keys = [k for k in rows[0] if k != "person_id"]
    statement = (
        update(people)
        .where(people.c.person_id == bindparam("pid"))
        .values({k: bindparam(f"v_{k}") for k in keys})
    )
    await conn.execute(statement, [{"pid": r["person_id"], **{f"v_{k}": r[k] for k in keys}} for r in rows])


async def update_people_grouped(conn: AsyncConnection, rows: Sequence[dict[str, Any]]) -> None:
    """Like :func:`update_people`, one statement per distinct set of values (many rows share them)."""
    groups: dict[tuple[tuple[str, Any], ...], list[str]] = {}
    for row in rows:
        values = tuple(sorted((k, v) for k, v in row.items() if k != "person_id"))
        groups.setdefault(values, []).append(row["person_id"])
    for values, ids in groups.items():
        await conn.execute(update(people).where(people.c.person_id.in_(ids)).values(dict(values)))


async def set_hold(conn: AsyncConnection, person_id: str, decision_id: str, reason: str, held: bool) -> bool:
    """Record or release one hold; whether any hold remains."""
    if held:
        await conn.execute(
            dialect_insert(conn)(holds)
            .values(person_id=person_id, decision_id=decision_id, reason_code=reason)
            .on_conflict_do_nothing()
        )
    else:
        await conn.execute(
            delete(holds).where(and_(holds.c.person_id == person_id, holds.c.decision_id == decision_id))
        )
    remaining = await conn.scalar(
        select(func.count()).select_from(holds).where(holds.c.person_id == person_id)
    )
    return bool(remaining)


# -- coalitions -------------------------------------------------------------------------------------------


async def coalition_of(conn: AsyncConnection, movement: str, on: date) -> str | None:
    """The coalition ``movement`` belonged to on ``on`` (membership is time-bound)."""
    row = (
        await conn.execute(
            select(coalitions.c.coalition)
            .where(
                coalitions.c.movement == movement,
                coalitions.c.since <= on,
                or_(coalitions.c.until.is_(None), coalitions.c.until > on),
            )
            .order_by(coalitions.c.since.desc())
            .limit(1)
        )
    ).first()
    return None if row is None else str(row.coalition)


async def coalitions_on(conn: AsyncConnection, on: date) -> dict[str, str]:
    rows = await conn.execute(
        select(coalitions.c.movement, coalitions.c.coalition)
        .where(coalitions.c.since <= on, or_(coalitions.c.until.is_(None), coalitions.c.until > on))
        .order_by(coalitions.c.since)
    )
    return {row.movement: row.coalition for row in rows}


async def join_coalition(conn: AsyncConnection, movement: str, coalition: str, since: date) -> None:
    await conn.execute(
        insert(coalitions).values(movement=movement, coalition=coalition, since=since, until=None)
    )


async def leave_coalition(conn: AsyncConnection, movement: str, coalition: str, until: date) -> None:
    await conn.execute(
        update(coalitions)
        .where(
            coalitions.c.movement == movement,
            coalitions.c.coalition == coalition,
            coalitions.c.until.is_(None),
        )
        .values(until=until)
    )


# -- quotas -----------------------------------------------------------------------------------------------


def _quota(row: Any) -> Quota:
    return Quota(row.quota_id, row.movement, row.period_start, row.period_end, row.limit, row.used)


async def all_quotas(conn: AsyncConnection) -> list[Quota]:
    return [
        _quota(r)
        for r in await conn.execute(select(quotas).order_by(quotas.c.period_start, quotas.c.quota_id))
    ]


async def quota_row(conn: AsyncConnection, quota_id: str) -> tuple[Quota, int] | None:
    row = (await conn.execute(select(quotas).where(quotas.c.quota_id == quota_id))).first()
    return None if row is None else (_quota(row), row.version)


async def take_places(conn: AsyncConnection, applicable: Sequence[Quota], person_id: str) -> Quota | None:
    """Take one place in each quota, atomically: the update only passes while a place is left, so two
    concurrent acceptances can never both take the last one. Returns the quota that was full, if any."""
    taken: list[str] = []
    for quota in applicable:
        result = await conn.execute(
            update(quotas)
            .where(quotas.c.quota_id == quota.quota_id, quotas.c.used < quotas.c.limit)
            .values(used=quotas.c.used + 1)
        )
        if result.rowcount == 0:
            for quota_id in taken:  # give back what this acceptance took before the full one
                await conn.execute(
                    update(quotas).where(quotas.c.quota_id == quota_id).values(used=quotas.c.used - 1)
                )
            current = await quota_row(conn, quota.quota_id)
            return current[0] if current else quota
        taken.append(quota.quota_id)
    await conn.execute(
        insert(quota_uses), [{"quota_id": q.quota_id, "person_id": person_id} for q in applicable]
    )
    return None


async def release_places(conn: AsyncConnection, person_id: str) -> None:
    taken = (
        (await conn.execute(select(quota_uses.c.quota_id).where(quota_uses.c.person_id == person_id)))
        .scalars()
        .all()
    )
    for quota_id in taken:
        await conn.execute(update(quotas).where(quotas.c.quota_id == quota_id).values(used=quotas.c.used - 1))
    await conn.execute(delete(quota_uses).where(quota_uses.c.person_id == person_id))


# -- rank rules -------------------------------------------------------------------------------------------


async def all_rule_sets(conn: AsyncConnection) -> list[RuleSet]:
    return [
        RuleSet(
            r.rule_version,
            r.decree_ref,
            r.effective_from,
            tuple(
                Rule(
                    tuple(x["movement_ranks"]),
                    int(x["min_years"]),
                    tuple(x["qualifications"]),
                    x["rank"],
                    x["command_function"],
                )
                for x in r.rules
            ),
        )
        for r in await conn.execute(select(rank_rules).order_by(rank_rules.c.effective_from))
    ]


# -- cohorts ----------------------------------------------------------------------------------------------


async def cohort_row(
    conn: AsyncConnection, cohort_id: str, *, lock: bool = False
) -> tuple[Cohort, int] | None:
    query = select(cohorts).where(cohorts.c.cohort_id == cohort_id)
    if lock and conn.dialect.name == "postgresql":
        query = query.with_for_update()
    row = (await conn.execute(query)).first()
    if row is None:
        return None
    return Cohort(
        row.cohort_id, row.camp, row.capacity, row.starts_on, row.ends_on, row.enrolled
    ), row.version


async def leave_cohort(conn: AsyncConnection, cohort_id: str, person_id: str, on: date) -> None:
    """A withdrawn trainee frees their seat."""
    await conn.execute(
        update(trainees)
        .where(
            trainees.c.cohort_id == cohort_id, trainees.c.person_id == person_id, trainees.c.outcome.is_(None)
        )
        .values(outcome="withdrawn", outcome_on=on)
    )
    await conn.execute(
        update(cohorts).where(cohorts.c.cohort_id == cohort_id).values(enrolled=cohorts.c.enrolled - 1)
    )


# -- units and composition --------------------------------------------------------------------------------


async def unit_row(conn: AsyncConnection, unit_id: str) -> Any:
    return (await conn.execute(select(units).where(units.c.unit_id == unit_id))).first()


async def composition(
    conn: AsyncConnection, unit_id: str, on: date, coalitions_by_movement: Mapping[str, str] | None = None
) -> Composition:
    """The unit on ``on``: the armed forces' contingent in force that day, and the members posted that day
    counted for the coalition their movement belonged to that day (movements in none count as themselves)."""
    contingent = (
        await conn.execute(
            select(contingents.c.strength, contingents.c.command_posts)
            .where(contingents.c.unit_id == unit_id, contingents.c.effective_on <= on)
            .order_by(contingents.c.effective_on.desc(), contingents.c.id.desc())
            .limit(1)
        )
    ).first()
    strength: Counter[str] = Counter()
    posts: Counter[str] = Counter()
    if contingent is not None:
        strength[ARMED_FORCES] = contingent.strength
        posts[ARMED_FORCES] = contingent.command_posts
    party_of = coalitions_by_movement if coalitions_by_movement is not None else await coalitions_on(conn, on)
    rows = await conn.execute(
        select(postings.c.movement, postings.c.command_post, func.count().label("n"))
        .where(
            postings.c.unit_id == unit_id,
            postings.c.start_on <= on,
            or_(postings.c.end_on.is_(None), postings.c.end_on > on),
        )
        .group_by(postings.c.movement, postings.c.command_post)
    )
    for row in rows:
        party = party_of.get(row.movement, row.movement)
        strength[party] += row.n
        if row.command_post:
            posts[party] += row.n
    return Composition(unit_id, on, dict(strength), dict(posts))


async def claim_placements(conn: AsyncConnection, person_ids: Sequence[str]) -> bool:
    """Mark the persons placed, only if none of them was placed meanwhile (a guard against the same person
    being placed twice by concurrent requests on different units)."""
    result = await conn.execute(
        update(people)
        .where(people.c.person_id.in_(list(person_ids)), people.c.placed.is_(False))
        .values(placed=True)
    )
    return result.rowcount == len(set(person_ids))


async def open_posting(conn: AsyncConnection, person_id: str) -> Any:
    return (
        await conn.execute(
            select(postings).where(postings.c.person_id == person_id, postings.c.end_on.is_(None)).limit(1)
        )
    ).first()
