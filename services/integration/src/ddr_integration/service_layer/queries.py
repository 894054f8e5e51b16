"""What the API shows: candidates, quotas, rules, cohorts, units as of a date, service records, figures.

Nothing here holds a name: a person is their id, their movement and their integration facts.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_integration.adapters import readmodel as rm
from ddr_integration.adapters.tables import (
    cohorts,
    people,
    quota_decisions,
    rank_disputes,
    rank_rules,
    service_records,
    trainees,
    units,
)
from ddr_integration.domain.errors import RuleViolated, UnknownRecord
from ddr_integration.domain.thirds import ARMED_FORCES, check_assignment
from ddr_integration.service_layer.unit import Integration

PERSON_VIEW = (
    "person_id",
    "movement",
    "category",
    "path",
    "status",
    "deferral_reason",
    "held",
    "reinsertion_active",
    "dual_enrolment",
    "received_on",
    "accepted_on",
    "ended_on",
    "quota_id",
    "rank",
    "command_function",
    "rank_rule_version",
    "cohort_id",
    "training_outcome",
    "unit_id",
    "command_post",
    "placement",
    "service_status",
    "service_since",
)


def _view(row: Any) -> dict[str, Any]:
    return {k: row._mapping[k] for k in PERSON_VIEW}


async def person(conn: AsyncConnection, person_id: str) -> dict[str, Any]:
    row = (await conn.execute(select(people).where(people.c.person_id == person_id))).first()
    if row is None or row.status == "none" or row.child_protection:
        # a child's record is none of this service's business to show, not even its existence
        raise UnknownRecord("candidate", person_id)
    view = _view(row)
    view["service_record"] = [
        {
            "status": r.status,
            "unit_id": r.unit_id,
            "effective_on": r.effective_on,
            "discharge_kind": r.discharge_kind,
            "referred_to_reinsertion": r.referred_to_reinsertion,
        }
        for r in await conn.execute(
            select(service_records)
            .where(service_records.c.person_id == person_id)
            .order_by(service_records.c.id)
        )
    ]
    view["rank_disputes"] = [
        {
            k: r._mapping[k]
            for k in (
                "dispute_id",
                "claimed_rank",
                "claimed_command_function",
                "grounds_code",
                "status",
                "decision_ref",
                "raised_on",
                "decided_on",
            )
        }
        for r in await conn.execute(select(rank_disputes).where(rank_disputes.c.person_id == person_id))
    ]
    return view


async def candidates(
    conn: AsyncConnection, *, movement: str | None, status: str | None, limit: int, offset: int
) -> list[dict[str, Any]]:
    query = select(people).where(people.c.status != "none", people.c.child_protection.is_(False))
    if movement is not None:
        query = query.where(people.c.movement == movement)
    if status is not None:
        query = query.where(people.c.status == status)
    rows = await conn.execute(query.order_by(people.c.person_id).limit(limit).offset(offset))
    return [_view(r) for r in rows]


async def quota_list(conn: AsyncConnection) -> list[dict[str, Any]]:
    decisions: dict[str, list[dict[str, Any]]] = {}
    for d in await conn.execute(select(quota_decisions).order_by(quota_decisions.c.id)):
        decisions.setdefault(d.quota_id, []).append(
            {
                "decision_ref": d.decision_ref,
                "previous_limit": d.previous_limit,
                "limit": d.limit,
                "reason": d.reason,
                "effective_on": d.effective_on,
            }
        )
    return [
        {
            "quota_id": q.quota_id,
            "movement": q.movement,
            "period_start": q.period_start,
            "period_end": q.period_end,
            "limit": q.limit,
            "used": q.used,
            "remaining": q.remaining,
            "decisions": decisions.get(q.quota_id, []),
        }
        for q in await rm.all_quotas(conn)
    ]


async def rule_sets(conn: AsyncConnection) -> list[dict[str, Any]]:
    return [
        {
            "rule_version": r.rule_version,
            "decree_ref": r.decree_ref,
            "effective_from": r.effective_from,
            "rules": r.rules,
        }
        for r in await conn.execute(select(rank_rules).order_by(rank_rules.c.effective_from))
    ]


async def cohort(conn: AsyncConnection, cohort_id: str) -> dict[str, Any]:
    found = await rm.cohort_row(conn, cohort_id)
    if found is None:
        raise UnknownRecord("cohort", cohort_id)
    c, _ = found
    outcomes = {
        (r.outcome or "in_training"): r.n
        for r in await conn.execute(
            select(trainees.c.outcome, func.count().label("n"))
            .where(trainees.c.cohort_id == cohort_id)
            .group_by(trainees.c.outcome)
        )
    }
    return {
        "cohort_id": c.cohort_id,
        "camp": c.camp,
        "capacity": c.capacity,
        "starts_on": c.starts_on,
        "ends_on": c.ends_on,
        "enrolled": c.enrolled,
        "outcomes": outcomes,
    }


async def unit_composition(
    integ: Integration, conn: AsyncConnection, unit_id: str, on: date
) -> dict[str, Any]:
    """The unit as of ``on`` (business time): strength and command posts by party, shares, and whether one
    more member of each party would still be within the rule of thirds."""
    unit = await rm.unit_row(conn, unit_id)
    if unit is None:
        raise UnknownRecord("unit", unit_id)
    composition = await rm.composition(conn, unit_id, on)
    parties = (ARMED_FORCES, *integ.coalitions)
    figures = composition.figures(parties)
    others = {p: n for p, n in composition.strength.items() if p not in parties}
    room: dict[str, bool] = {}
    for party in parties:
        try:
            check_assignment(composition, [(party, False)], integ.coalitions, unit.tolerance)
            room[party] = True
        except RuleViolated:
            room[party] = False
    return {
        "unit_id": unit.unit_id,
        "display_name": unit.display_name,
        "kind": unit.kind,
        "location": unit.location,
        "establishment": unit.establishment,
        "thirds_applies": unit.thirds_applies,
        "tolerance": unit.tolerance,
        **figures,
        "other_parties": others,
        "may_take_one_more": room,
    }


async def unit_list(conn: AsyncConnection) -> list[dict[str, Any]]:
    return [
        {
            k: u._mapping[k]
            for k in (
                "unit_id",
                "display_name",
                "kind",
                "location",
                "establishment",
                "thirds_applies",
                "tolerance",
            )
        }
        for u in await conn.execute(select(units).order_by(units.c.unit_id))
    ]


async def coalitions_on(conn: AsyncConnection, on: date) -> dict[str, str]:
    return await rm.coalitions_on(conn, on)


async def figures(conn: AsyncConnection, on: date) -> dict[str, Any]:
    """Aggregates as of ``on``: no person appears, only counts (for CTS, donors' reporting, dashboards)."""
    accepted_by = or_(people.c.ended_on.is_(None), people.c.ended_on > on)
    active = and_(
        people.c.accepted_on.is_not(None),
        people.c.accepted_on <= on,
        accepted_by,
        people.c.status == "accepted",
    )
    by_movement = {
        r.movement: r.n
        for r in await conn.execute(
            select(people.c.movement, func.count().label("n")).where(active).group_by(people.c.movement)
        )
    }
    by_path = {
        r.path: r.n
        for r in await conn.execute(
            select(people.c.path, func.count().label("n")).where(active).group_by(people.c.path)
        )
    }
    statuses = {
        r.status: r.n
        for r in await conn.execute(
            select(people.c.status, func.count().label("n"))
            .where(people.c.status != "none", people.c.child_protection.is_(False))
            .group_by(people.c.status)
        )
    }
    unit_strength = {}
    for u in await conn.execute(select(units.c.unit_id)):
        unit_strength[u.unit_id] = (await rm.composition(conn, u.unit_id, on)).total_strength
    cohort_fill = {
        c.cohort_id: {"enrolled": c.enrolled, "capacity": c.capacity}
        for c in await conn.execute(select(cohorts))
    }
    return {
        "as_of": on,
        "active_members_by_movement": by_movement,
        "active_members_by_path": by_path,
        "candidates_by_status_now": statuses,
        "quotas": [
            {"quota_id": q.quota_id, "movement": q.movement, "limit": q.limit, "used": q.used}
            for q in await rm.all_quotas(conn)
        ],
        "unit_strength": unit_strength,
        "cohorts": cohort_fill,
    }
