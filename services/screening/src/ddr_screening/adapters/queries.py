"""Every read of screening's tables: the case views, queues, outcomes and figures the API answers
(:class:`StoredReads`), and the reference data the commands decide by (:class:`StoredReference`).

What a caller may see is decided in the service layer (``service_layer.access``) and arrives here as a
:class:`CaseFilter`; rows leave as plain dictionaries.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_contracts.screening import VettingListVersionPublished
from ddr_runtime.eventstore.ports import AggregateSession
from ddr_runtime.eventstore.store import EventStore
from ddr_runtime.eventstore.unit import Session
from ddr_screening.adapters.tables import cases, rule_sets, vetting_entries, vetting_lists
from ddr_screening.domain.reference import VETTING_LIST_STREAM
from ddr_screening.domain.rules import RuleSet
from ddr_screening.domain.values import VettingListEntry
from ddr_screening.domain.visibility import CaseFilter

CHUNK = 1000
Row = dict[str, Any]


QUEUES: dict[str, ColumnElement[bool]] = {
    "age_assessment": cases.c.age_pending.is_(True),
    "handover": and_(cases.c.child.is_(True), cases.c.handed_over_at.is_(None)),
    # Eligible for integration and not yet (or no longer finally) examined.
    "medical": and_(
        cases.c.child.is_(False),
        cases.c.merged_into.is_(None),
        cases.c.eligibility == "integration",
        cases.c.chose_reinsertion.is_(False),
        (cases.c.medical.is_(None))
        | (cases.c.medical == "temporarily_unfit")
        | cases.c.re_examination_open.is_(True),
    ),
    "vetting": cases.c.vetting == "held",
    "weapon": cases.c.eligibility == "pending",
    "outcome": cases.c.track.is_not(None),
}


def _visible(shown: CaseFilter) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if shown.movement is not None:
        conditions.append(cases.c.movement == shown.movement)
    if shown.regions:
        conditions.append(cases.c.region.in_(sorted(shown.regions)))
    if shown.restricted is not None:
        conditions.append(cases.c.restricted.is_(shown.restricted))
    return and_(true(), *conditions)


def _rows(result: Any) -> list[Row]:
    return [dict(row._mapping) for row in result]


async def case_row(conn: AsyncConnection, person_id: str) -> Row | None:
    row = (await conn.execute(select(cases).where(cases.c.person_id == person_id))).first()
    return None if row is None else dict(row._mapping)


async def queue(
    conn: AsyncConnection, kind: str, shown: CaseFilter, region: str | None, offset: int, limit: int
) -> tuple[int, list[Row]]:
    """How many cases wait in queue ``kind`` that the caller may see, and one page of them."""
    condition = and_(QUEUES[kind], _visible(shown))
    if region is not None:
        condition = and_(condition, cases.c.region == region)
    total = (await conn.execute(select(func.count()).select_from(cases).where(condition))).scalar_one()
    page = await conn.execute(
        select(cases)
        .where(condition)
        .order_by(cases.c.registered_on, cases.c.person_id)
        .offset(offset)
        .limit(limit)
    )
    return int(total), _rows(page)


async def queue_person_ids(conn: AsyncConnection, kind: str) -> list[str]:
    """Everyone waiting in queue ``kind`` (for a feeder acting as the staff: the benchmark)."""
    return list((await conn.execute(select(cases.c.person_id).where(QUEUES[kind]))).scalars())


async def outcomes(
    conn: AsyncConnection,
    shown: CaseFilter,
    movement: str | None,
    track: str | None,
    offset: int,
    limit: int,
) -> list[Row]:
    condition = and_(cases.c.track.is_not(None), _visible(shown))
    if movement is not None:
        condition = and_(condition, cases.c.movement == movement)
    if track is not None:
        condition = and_(condition, cases.c.track == track)
    return _rows(
        await conn.execute(
            select(cases).where(condition).order_by(cases.c.person_id).offset(offset).limit(limit)
        )
    )


async def figures(conn: AsyncConnection, region: str | None, regions: frozenset[str]) -> dict[str, Any]:
    """Adults' cases by track (undecided as ``None``), held benefits, outcomes superseded at least once; and
    how many cases are restricted (children and possible children), counted apart."""
    within: ColumnElement[bool] = cases.c.region == region if region is not None else true()
    if regions:
        within = and_(within, cases.c.region.in_(sorted(regions)))
    condition = and_(within, cases.c.restricted.is_(False))
    restricted = (
        await conn.execute(
            select(func.count()).select_from(cases).where(within, cases.c.restricted.is_(True))
        )
    ).scalar_one()
    by_track = (
        await conn.execute(select(cases.c.track, func.count()).where(condition).group_by(cases.c.track))
    ).all()
    held = (
        await conn.execute(select(func.count()).select_from(cases).where(condition, cases.c.held.is_(True)))
    ).scalar_one()
    superseded = (
        await conn.execute(select(func.count()).select_from(cases).where(condition, cases.c.outcomes > 1))
    ).scalar_one()
    return {
        "by_track": {track: int(count) for track, count in by_track},
        "held": int(held),
        "superseded": int(superseded),
        "restricted": int(restricted),
    }


def _overdue(now: datetime) -> ColumnElement[bool]:
    return and_(cases.c.child.is_(True), cases.c.handed_over_at.is_(None), cases.c.handover_deadline < now)


async def overdue_children(conn: AsyncConnection, now: datetime, regions: frozenset[str]) -> list[Row]:
    condition = _overdue(now)
    if regions:
        condition = and_(condition, cases.c.region.in_(sorted(regions)))
    return _rows(await conn.execute(select(cases).where(condition).order_by(cases.c.handover_deadline)))


async def count_overdue(conn: AsyncConnection, now: datetime) -> int:
    return int(
        (await conn.execute(select(func.count()).select_from(cases).where(_overdue(now)))).scalar_one()
    )


async def unrestricted_open_cases(conn: AsyncConnection, shown: CaseFilter) -> AsyncIterator[Row]:
    """Every adult's case within ``shown`` that is not merged, one at a time (a what-if reads them all)."""
    result = await conn.stream(
        select(cases)
        .where(_visible(shown), cases.c.restricted.is_(False), cases.c.merged_into.is_(None))
        .order_by(cases.c.person_id)
    )
    async for row in result:
        yield dict(row._mapping)


async def rule_set_bodies(conn: AsyncConnection) -> list[dict[str, Any]]:
    rows = await conn.execute(select(rule_sets.c.body).order_by(rule_sets.c.effective_from))
    return [dict(body) for body in rows.scalars()]


async def published_vetting_lists(conn: AsyncConnection, shown: CaseFilter | None = None) -> list[Row]:
    """Every version of the vetting list. ``shown``: what a caller narrowed to regions may see; each version's
    ``entries`` then counts only the entries of open cases it may see (an entry of anyone else, or of a person
    whose case is not open here, whose region this service does not know, is not counted)."""
    versions = _rows(await conn.execute(select(vetting_lists).order_by(vetting_lists.c.list_version)))
    if shown is None:
        return versions
    counted = (
        select(vetting_entries.c.list_version, func.count())
        .select_from(vetting_entries.join(cases, cases.c.person_id == vetting_entries.c.person_id))
        .where(_visible(shown))
        .group_by(vetting_entries.c.list_version)
    )
    counts: dict[int, int] = {row[0]: row[1] for row in await conn.execute(counted)}
    return [{**row, "entries": counts.get(row["list_version"], 0)} for row in versions]


def rule_set_from(body: Mapping[str, Any]) -> RuleSet:
    """A rule set from its stored JSON body."""
    values: dict[str, Any] = dict(body)
    for name in ("integration_categories", "reinsertion_categories", "cvr_movements"):
        values[name] = tuple(values.get(name) or ())
    values["effective_from"] = date.fromisoformat(str(values["effective_from"]))
    return RuleSet(**values)


def connection(session: AggregateSession) -> AsyncConnection:
    """The connection of a command's transaction (the runtime's session behind the service layer's port)."""
    return cast(Session, session).conn


class StoredReference:
    """The reference data commands decide by, read from the read model in the command's transaction."""

    def __init__(self, store: EventStore) -> None:
        self.store = store

    async def rule_sets(self, session: AggregateSession) -> list[RuleSet]:
        return [rule_set_from(body) for body in await rule_set_bodies(connection(session))]

    async def vetting_list(
        self, session: AggregateSession, person_ids: Collection[str]
    ) -> tuple[int | None, dict[str, VettingListEntry]]:
        """The current list version, and its entries naming any of ``person_ids``.

        An entry's allegation reference is read from the list's own event (sealed under the list's key), at the
        entry's place, and only for a person whose key still exists: an erased person's entry reads ``None``,
        whatever the read model was rebuilt from."""
        conn = connection(session)
        version: int | None = (await conn.execute(select(func.max(vetting_lists.c.list_version)))).scalar()
        if version is None:
            return None, {}
        wanted = sorted(set(person_ids))
        rows: list[Any] = []
        for start in range(0, len(wanted), CHUNK):
            rows += await conn.execute(
                select(vetting_entries).where(
                    vetting_entries.c.list_version == version,
                    vetting_entries.c.person_id.in_(wanted[start : start + CHUNK]),
                )
            )
        if not rows:
            return version, {}
        refs = await self._allegation_refs(conn, version, {row.person_id: row.position for row in rows})
        return version, {
            row.person_id: VettingListEntry(row.person_id, refs.get(row.person_id), row.status)
            for row in rows
        }

    async def _allegation_refs(
        self, conn: AsyncConnection, version: int, positions: Mapping[str, int]
    ) -> dict[str, str]:
        """The allegation reference of each named person who is not erased, from list ``version``'s event."""
        recorded = await self.store.read_stream(VETTING_LIST_STREAM, after=version - 1, conn=conn)
        event = recorded[0].event if recorded else None
        if not isinstance(event, VettingListVersionPublished) or event.list_version != version:
            return {}
        entries = event.entries or ()
        erased = await self._erased(positions)
        refs: dict[str, str] = {}
        for person_id, position in positions.items():
            entry = entries[position] if position < len(entries) else None
            if person_id not in erased and entry is not None and entry.person_id == person_id:
                refs[person_id] = entry.allegation_ref
        return refs

    async def _erased(self, person_ids: Collection[str]) -> set[str]:
        """The persons whose key was shredded (a person without a key yet, listed before registering, is not):
        one batched look-up that makes no key (a read never creates one)."""
        return await self.store.cipher.keystore.erased(person_ids)

    async def cases_to_recheck(self, session: AggregateSession, named: Collection[str]) -> list[str]:
        """Cases never checked against a list, and cases a new list names."""
        condition = or_(cases.c.vetting.is_(None), cases.c.person_id.in_(sorted(named)) if named else false())
        return list((await connection(session).execute(select(cases.c.person_id).where(condition))).scalars())


class StoredReads:
    """The read model on its own connections (outside any command), and each case's history from the store."""

    def __init__(self, engine: AsyncEngine, store: EventStore) -> None:
        self.engine = engine
        self.store = store

    async def case_row(self, person_id: str) -> Row | None:
        async with self.engine.connect() as conn:
            return await case_row(conn, person_id)

    async def children_among(self, person_ids: Collection[str]) -> set[str]:
        """Which of ``person_ids`` have a restricted case (a child's, or one whose age is being assessed)."""
        wanted = sorted(set(person_ids))
        found: set[str] = set()
        async with self.engine.connect() as conn:
            for start in range(0, len(wanted), CHUNK):
                query = select(cases.c.person_id).where(
                    cases.c.person_id.in_(wanted[start : start + CHUNK]), cases.c.restricted.is_(True)
                )
                found.update((await conn.execute(query)).scalars())
        return found

    async def history(self, person_id: str) -> list[Row]:
        return [
            {
                "event": recorded.event,
                "version": recorded.version,
                "actor": recorded.envelope.actor,
                "occurred_at": recorded.envelope.occurredat,
                "recorded_at": recorded.envelope.recordedat,
            }
            for recorded in await self.store.read_stream(person_id)
        ]

    async def queue(
        self, kind: str, shown: CaseFilter, region: str | None, offset: int, limit: int
    ) -> tuple[int, list[Row]]:
        async with self.engine.connect() as conn:
            return await queue(conn, kind, shown, region, offset, limit)

    async def queue_person_ids(self, kind: str) -> list[str]:
        async with self.engine.connect() as conn:
            return await queue_person_ids(conn, kind)

    async def outcomes(
        self, shown: CaseFilter, movement: str | None, track: str | None, offset: int, limit: int
    ) -> list[Row]:
        async with self.engine.connect() as conn:
            return await outcomes(conn, shown, movement, track, offset, limit)

    async def figures(self, region: str | None, regions: frozenset[str]) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            return await figures(conn, region, regions)

    async def overdue_children(self, now: datetime, regions: frozenset[str]) -> list[Row]:
        async with self.engine.connect() as conn:
            return await overdue_children(conn, now, regions)

    async def count_overdue(self, now: datetime) -> int:
        async with self.engine.connect() as conn:
            return await count_overdue(conn, now)

    async def unrestricted_open_cases(self, shown: CaseFilter) -> AsyncIterator[Row]:
        async with self.engine.connect() as conn:
            async for row in unrestricted_open_cases(conn, shown):
                yield row

    async def rule_set_bodies(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            return await rule_set_bodies(conn)

    async def published_vetting_lists(self, shown: CaseFilter | None = None) -> list[Row]:
        async with self.engine.connect() as conn:
            return await published_vetting_lists(conn, shown)
