"""Reads of the read model for the API: partners, projects, queues, participants, targets, overdue visits,
histories from the store, and the programme's report (:mod:`ddr_cvr.adapters.reports`).

Every read of a project takes the caller and answers 404 for a project it may not see: a partner sees its own
projects (a consortium member NGO also its consortium's), a caller narrowed to regions those regions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_cvr.adapters.children import CHILD_NOTED, linked_to_a_child, shown_participants
from ddr_cvr.adapters.reports import programme_report
from ddr_cvr.adapters.tables import participants, partners, person_merges, project_ngos, projects
from ddr_cvr.domain.figures import GroupBy, Period, ReportFilter
from ddr_cvr.domain.participants import targets_against_actuals
from ddr_cvr.domain.partners import partner_stream
from ddr_cvr.domain.persons import MAX_MERGE_HOPS, registered_person_stream
from ddr_cvr.domain.policy import CvrPolicy
from ddr_cvr.domain.projects import AWAITING, project_stream
from ddr_cvr.domain.terms import Committee
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.visibility import sees_children
from ddr_runtime.eventstore.schema import events
from ddr_runtime.eventstore.store import EventStore, RecordedEvent
from ddr_runtime.kernel import UnknownRecord

Record = dict[str, Any]
PROJECT_COLUMNS = [c for c in projects.c if not c.name.startswith(("named", "recorded_"))]


def visible_projects(principal: Principal) -> ColumnElement[bool]:
    conditions: list[ColumnElement[bool]] = []
    if principal.regions:
        conditions.append(projects.c.region.in_(sorted(principal.regions)))
    if Role.CVR_PARTNER in principal.roles:
        member = exists(
            select(project_ngos.c.project_id).where(
                project_ngos.c.project_id == projects.c.project_id, project_ngos.c.ngo_id == principal.partner
            )
        )
        conditions.append(or_(projects.c.partner_id == (principal.partner or ""), member))
    return and_(true(), *conditions)


def _project_record(row: Any) -> Record:
    record = {c.name: getattr(row, c.name) for c in PROJECT_COLUMNS}
    for money in ("budget", "budget_usd", "cap_usd", "paid"):
        record[money] = record.pop(f"{money}_cents") / 100
    return record


def _history_item(recorded: RecordedEvent) -> Record:
    envelope = recorded.envelope
    return {
        "type": envelope.type,
        "version": envelope.streamversion,
        "occurred_at": envelope.occurredat,
        "recorded_at": envelope.recordedat,
        "actor": envelope.actor,
        "back_recording_reason": envelope.backrecordreason,
        "data": recorded.event.model_dump(mode="json"),
    }


class CvrQueries:
    """The read side of the CVR service (``ddr_cvr.service_layer.reads.CvrReads``)."""

    def __init__(self, store: EventStore, policy: CvrPolicy) -> None:
        self.store = store
        self.engine: AsyncEngine = store.engine
        self.policy = policy

    # -- partners --------------------------------------------------------------------------------------

    async def partners(self) -> list[Record]:
        async with self.engine.connect() as conn:
            rows = (await conn.execute(select(partners).order_by(partners.c.partner_id))).all()
        return [dict(row._mapping) for row in rows]

    async def partner(self, partner_id: str) -> Record:
        async with self.engine.connect() as conn:
            query = select(partners).where(partners.c.partner_id == partner_id)
            row = (await conn.execute(query)).one_or_none()
        if row is None:
            raise UnknownRecord("partner", partner_id)
        return dict(row._mapping)

    async def partner_history(self, partner_id: str) -> list[Record]:
        """The partner's registration and every capacity assessment, oldest first."""
        await self.partner(partner_id)
        return [
            _history_item(recorded) for recorded in await self.store.read_stream(partner_stream(partner_id))
        ]

    # -- projects --------------------------------------------------------------------------------------

    async def _records(self, conn: AsyncConnection, query: Select[Any]) -> list[Record]:
        return [_project_record(row) for row in await conn.execute(query)]

    async def _visible(self, conn: AsyncConnection, principal: Principal, project_id: str) -> Any:
        query = select(projects).where(projects.c.project_id == project_id, visible_projects(principal))
        row = (await conn.execute(query)).one_or_none()
        if row is None:
            raise UnknownRecord("project", project_id)
        return row

    async def project(self, principal: Principal, project_id: str) -> Record:
        async with self.engine.connect() as conn:
            query = select(projects).where(projects.c.project_id == project_id, visible_projects(principal))
            found = await self._records(conn, query)
        if not found:
            raise UnknownRecord("project", project_id)
        return found[0]

    async def projects(
        self,
        principal: Principal,
        *,
        status: str | None,
        programme: str | None,
        region: str | None,
        partner_id: str | None,
        offset: int,
        limit: int,
    ) -> list[Record]:
        query = select(projects).where(visible_projects(principal))
        for column, value in (
            (projects.c.status, status),
            (projects.c.programme, programme),
            (projects.c.region, region),
            (projects.c.partner_id, partner_id),
        ):
            if value:
                query = query.where(column == value)
        query = query.order_by(projects.c.submitted_on, projects.c.project_id).offset(offset).limit(limit)
        async with self.engine.connect() as conn:
            return await self._records(conn, query)

    async def committee_queue(self, principal: Principal, committee: Committee) -> list[Record]:
        """Projects awaiting ``committee``, oldest submission first (within the caller's regions)."""
        query = (
            select(projects)
            .where(visible_projects(principal), projects.c.status == AWAITING[committee])
            .order_by(projects.c.submitted_on, projects.c.project_id)
        )
        async with self.engine.connect() as conn:
            return await self._records(conn, query)

    async def project_history(self, principal: Principal, project_id: str) -> list[Record]:
        """Every event of the project, with who recorded it and when (business and record time)."""
        await self.project(principal, project_id)
        return [
            _history_item(recorded) for recorded in await self.store.read_stream(project_stream(project_id))
        ]

    async def targets(self, principal: Principal, project_id: str) -> Record:
        """The project's targets (counts, and their share of the direct beneficiaries target) against the
        named participants, and its beneficiaries as recorded; participants linked to a child are counted
        for child protection only."""
        async with self.engine.connect() as conn:
            row = await self._visible(conn, principal, project_id)
            hidden = (0, 0, 0) if sees_children(principal) else await _children_named(conn, project_id)
        named, named_women, named_ex = (
            row.named - hidden[0],
            row.named_women - hidden[1],
            row.named_ex - hidden[2],
        )
        shares = targets_against_actuals(
            row.direct_beneficiaries_target,
            row.ex_combatants_target,
            row.women_target,
            participants=named,
            ex_combatants=named_ex,
            women=named_women,
        )
        return {
            "project_id": project_id,
            "participants": shares.participants,
            "ex_combatants": asdict(shares.ex_combatants),
            "community": asdict(shares.community),
            "women": asdict(shares.women),
            "beneficiaries": {
                "direct": max(row.recorded_direct, named),
                "direct_women": max(row.recorded_direct_women, named_women),
                "indirect": row.recorded_indirect,
                "indirect_women": row.recorded_indirect_women,
                "direct_target": row.direct_beneficiaries_target,
                "women_target": row.women_target,
            },
        }

    # -- participants ----------------------------------------------------------------------------------

    async def participants(
        self, principal: Principal, project_id: str, offset: int, limit: int
    ) -> list[Record]:
        """The project's participants with their names opened (``None`` once a participant is erased).
        An ex-combatant shows the link to their registration id, nothing of their combatant record."""
        async with self.engine.connect() as conn:
            await self._visible(conn, principal, project_id)
            rows = (
                await conn.execute(
                    select(participants)
                    .where(participants.c.project_id == project_id, shown_participants(principal))
                    .order_by(participants.c.enrolled_on, participants.c.participant_id)
                    .offset(offset)
                    .limit(limit)
                )
            ).all()
        opened = await self.store.cipher.decrypt_many(
            [(row.participant_id, row.sealed or {}) for row in rows]
        )
        return [_participant_record(row, names) for row, names in zip(rows, opened, strict=True)]

    async def children_among(self, person_ids: Sequence[str]) -> set[str]:
        """Which of the registration ids ``person_ids`` are, or may be, children (a ``PersonChildNoted`` on
        their stream here), for the read ledger: one query per 500 ids."""
        streams = {registered_person_stream(p): p for p in set(person_ids)}
        ordered = sorted(streams)
        found: set[str] = set()
        async with self.engine.connect() as conn:
            for start in range(0, len(ordered), 500):
                query = select(events.c.stream_id).where(
                    events.c.stream_id.in_(ordered[start : start + 500]),
                    events.c.event_type.like(CHILD_NOTED),
                )
                found.update(streams[stream] for stream in (await conn.execute(query)).scalars())
        return found

    # -- monitoring and figures ------------------------------------------------------------------------

    async def overdue_visits(self, principal: Principal, as_of: date) -> list[Record]:
        """Completed projects whose visit, due a year (the policy's days) after the business date of their
        completion, has not been recorded by ``as_of``."""
        days = timedelta(days=self.policy.visit_due_after_days)
        query = (
            select(projects)
            .where(
                visible_projects(principal),
                projects.c.completed_on.is_not(None),
                projects.c.completed_on < as_of - days,
                or_(projects.c.last_visit_on.is_(None), projects.c.last_visit_on < projects.c.completed_on),
            )
            .order_by(projects.c.completed_on, projects.c.project_id)
        )
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [_overdue_record(row, days, as_of) for row in rows]

    async def programme_report(
        self,
        principal: Principal,
        group_by: GroupBy,
        as_of: date,
        report_filter: ReportFilter,
        periods: list[Period] | None,
    ) -> Record:
        async with self.engine.connect() as conn:
            return await programme_report(
                conn, group_by, as_of, report_filter, periods, children=sees_children(principal)
            )


async def _children_named(conn: AsyncConnection, project_id: str) -> tuple[int, int, int]:
    """The project's named participants (not withdrawn) linked to a child: all, women, ex-combatants."""
    query = select(
        func.count(),
        func.coalesce(func.sum(case((participants.c.sex == "F", 1), else_=0)), 0),
        func.coalesce(func.sum(case((participants.c.category == "ex_combatant", 1), else_=0)), 0),
    ).where(
        participants.c.project_id == project_id,
        participants.c.withdrawn_on.is_(None),
        linked_to_a_child(),
    )
    row = (await conn.execute(query)).one()
    return int(row[0]), int(row[1]), int(row[2])


def _participant_record(row: Any, names: dict[str, Any]) -> Record:
    return {
        "participant_id": row.participant_id,
        "project_id": row.project_id,
        "category": row.category,
        "sex": row.sex,
        "birth_year": row.birth_year,
        "person_id": row.person_id,
        "enrolled_on": row.enrolled_on,
        "withdrawn_on": row.withdrawn_on,
        "full_name": names.get("full_name"),
        "telephone": names.get("telephone"),
        "version": row.version,
    }


def _overdue_record(row: Any, due_after: timedelta, as_of: date) -> Record:
    return {
        "project_id": row.project_id,
        "partner_id": row.partner_id,
        "title": row.title,
        "programme": row.programme,
        "region": row.region,
        "cercle": row.cercle,
        "completed_on": row.completed_on,
        "visit_due_on": row.completed_on + due_after,
        "days_overdue": (as_of - row.completed_on - due_after).days,
    }


async def participants_linked_to(conn: AsyncConnection, person_id: str) -> list[str]:
    """The participants linked to ``person_id`` or to any record merged into theirs (an erasure's reach)."""
    people = {person_id}
    frontier = {person_id}
    for _ in range(MAX_MERGE_HOPS):
        merged = set(
            (
                await conn.execute(
                    select(person_merges.c.person_id).where(
                        person_merges.c.into_person_id.in_(sorted(frontier))
                    )
                )
            ).scalars()
        )
        frontier = merged - people
        if not frontier:
            break
        people |= frontier
    rows = await conn.execute(
        select(participants.c.participant_id)
        .where(participants.c.person_id.in_(sorted(people)))
        .order_by(participants.c.participant_id)
    )
    return list(rows.scalars())
