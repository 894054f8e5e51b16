"""Reads of the read model for the API: projects, partners, queues, participants, targets, overdue visits."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.cvr import Committee
from ddr_cvr.adapters.tables import participants, partners, project_ngos, projects
from ddr_cvr.domain.errors import UnknownRecord
from ddr_cvr.domain.participants import targets_against_actuals
from ddr_cvr.domain.partners import partner_stream
from ddr_cvr.domain.projects import AWAITING, project_stream
from ddr_cvr.service_layer.access import hidden, may_edit_project, may_see_project, visible_projects
from ddr_cvr.service_layer.unit import Cvr
from ddr_runtime.auth.roles import Principal

PROJECT_COLUMNS = [c for c in projects.c if not c.name.startswith(("named", "recorded_"))]


def _project_record(row: Any, ngo_ids: list[str]) -> dict[str, Any]:
    record = {c.name: getattr(row, c.name) for c in PROJECT_COLUMNS}
    for money in ("budget", "budget_usd", "cap_usd", "paid"):
        record[money] = record.pop(f"{money}_cents") / 100
    record["ngo_ids"] = ngo_ids
    return record


async def _ngo_ids(conn: AsyncConnection, project_id: str) -> list[str]:
    rows = await conn.execute(select(project_ngos.c.ngo_id).where(project_ngos.c.project_id == project_id))
    return sorted(row.ngo_id for row in rows)


async def _visible_row(conn: AsyncConnection, principal: Principal, project_id: str) -> tuple[Any, list[str]]:
    row = (await conn.execute(select(projects).where(projects.c.project_id == project_id))).one_or_none()
    if row is None:
        raise hidden(project_id)
    ngo_ids = await _ngo_ids(conn, project_id)
    if not may_see_project(principal, row.partner_id, ngo_ids, row.region):
        raise hidden(project_id)
    return row, ngo_ids


async def get_project(cvr: Cvr, principal: Principal, project_id: str) -> dict[str, Any]:
    async with cvr.engine.connect() as conn:
        row, ngo_ids = await _visible_row(conn, principal, project_id)
        return _project_record(row, ngo_ids)


async def check_may_edit(cvr: Cvr, principal: Principal, project_id: str) -> None:
    """404 for a project the caller cannot see; 404 too for one it sees but may not edit (not its own)."""
    async with cvr.engine.connect() as conn:
        row, _ = await _visible_row(conn, principal, project_id)
    if not may_edit_project(principal, row.partner_id):
        raise hidden(project_id)


async def list_projects(
    cvr: Cvr,
    principal: Principal,
    *,
    status: str | None,
    region: str | None,
    partner_id: str | None,
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    query = (
        select(projects)
        .where(visible_projects(principal))
        .order_by(projects.c.submitted_on, projects.c.project_id)
    )
    if status:
        query = query.where(projects.c.status == status)
    if region:
        query = query.where(projects.c.region == region)
    if partner_id:
        query = query.where(projects.c.partner_id == partner_id)
    async with cvr.engine.connect() as conn:
        rows = (await conn.execute(query.offset(offset).limit(limit))).all()
        return [_project_record(row, await _ngo_ids(conn, row.project_id)) for row in rows]


async def committee_queue(cvr: Cvr, principal: Principal, committee: Committee) -> list[dict[str, Any]]:
    """Projects awaiting ``committee``, oldest submission first (within the caller's regions)."""
    query = (
        select(projects)
        .where(visible_projects(principal), projects.c.status == AWAITING[committee])
        .order_by(projects.c.submitted_on, projects.c.project_id)
    )
    async with cvr.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
        return [_project_record(row, await _ngo_ids(conn, row.project_id)) for row in rows]


async def project_history(cvr: Cvr, principal: Principal, project_id: str) -> list[dict[str, Any]]:
    """Every event of the project, with who recorded it and when (business and record time)."""
    await get_project(cvr, principal, project_id)
    return [_history_item(recorded) for recorded in await cvr.store.read_stream(project_stream(project_id))]


def _history_item(recorded: Any) -> dict[str, Any]:
    envelope = recorded.envelope
    return {
        "type": envelope.type,
        "version": envelope.streamversion,
        "occurred_at": envelope.occurredat,
        "recorded_at": envelope.recordedat,
        "actor": envelope.actor,
        "data": recorded.event.model_dump(mode="json"),
    }


async def targets(cvr: Cvr, principal: Principal, project_id: str) -> dict[str, Any]:
    async with cvr.engine.connect() as conn:
        row, _ = await _visible_row(conn, principal, project_id)
    shares = targets_against_actuals(
        row.ex_combatant_target_percent, row.women_target_percent, row.named, row.named_ex, row.named_women
    )
    return {
        "project_id": project_id,
        "participants": shares.participants,
        "ex_combatants": asdict(shares.ex_combatants),
        "community": asdict(shares.community),
        "women": asdict(shares.women),
        "beneficiaries": {
            "direct": max(row.recorded_direct, row.named),
            "direct_women": max(row.recorded_direct_women, row.named_women),
            "indirect": row.recorded_indirect,
            "indirect_women": row.recorded_indirect_women,
            "direct_target": row.direct_beneficiaries_target,
        },
    }


async def project_participants(
    cvr: Cvr, principal: Principal, project_id: str, offset: int, limit: int
) -> list[dict[str, Any]]:
    """The project's participants with their names opened (``None`` once a participant is erased).
    An ex-combatant shows the link to their registration id, nothing of their combatant record."""
    async with cvr.engine.connect() as conn:
        await _visible_row(conn, principal, project_id)
        rows = (
            await conn.execute(
                select(participants)
                .where(participants.c.project_id == project_id)
                .order_by(participants.c.enrolled_on, participants.c.participant_id)
                .offset(offset)
                .limit(limit)
            )
        ).all()
    opened = await cvr.store.cipher.decrypt_many([(row.participant_id, row.sealed or {}) for row in rows])
    return [
        {
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
        for row, names in zip(rows, opened, strict=True)
    ]


async def participant_project(cvr: Cvr, participant_id: str) -> str:
    async with cvr.engine.connect() as conn:
        row = (
            await conn.execute(
                select(participants.c.project_id).where(participants.c.participant_id == participant_id)
            )
        ).one_or_none()
    if row is None:
        raise UnknownRecord("participant", participant_id)
    return str(row.project_id)


async def overdue_visits(cvr: Cvr, principal: Principal, as_of: date) -> list[dict[str, Any]]:
    """Completed projects whose visit (due one year after completion) has not been recorded by ``as_of``."""
    due_before = as_of - timedelta(days=cvr.policy.visit_due_after_days)
    query = (
        select(projects)
        .where(
            visible_projects(principal),
            projects.c.completed_on.is_not(None),
            projects.c.completed_on < due_before,
            or_(projects.c.last_visit_on.is_(None), projects.c.last_visit_on < projects.c.completed_on),
        )
        .order_by(projects.c.completed_on, projects.c.project_id)
    )
    async with cvr.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    days = cvr.policy.visit_due_after_days
    return [
        {
            "project_id": row.project_id,
            "partner_id": row.partner_id,
            "title": row.title,
            "region": row.region,
            "cercle": row.cercle,
            "completed_on": row.completed_on,
            "visit_due_on": row.completed_on + timedelta(days=days),
            "days_overdue": (as_of - row.completed_on - timedelta(days=days)).days,
        }
        for row in rows
    ]


async def list_partners(cvr: Cvr) -> list[dict[str, Any]]:
    async with cvr.engine.connect() as conn:
        rows = (await conn.execute(select(partners).order_by(partners.c.partner_id))).all()
    return [dict(row._mapping) for row in rows]


async def get_partner(cvr: Cvr, partner_id: str) -> dict[str, Any]:
    async with cvr.engine.connect() as conn:
        row = (await conn.execute(select(partners).where(partners.c.partner_id == partner_id))).one_or_none()
    if row is None:
        raise UnknownRecord("partner", partner_id)
    return dict(row._mapping)


async def partner_history(cvr: Cvr, partner_id: str) -> list[dict[str, Any]]:
    """The partner's registration and every capacity assessment, oldest first."""
    await get_partner(cvr, partner_id)
    return [_history_item(recorded) for recorded in await cvr.store.read_stream(partner_stream(partner_id))]
