"""Reads of the read model (the service layer's ``Views``): candidates, quotas, rules, cohorts, units as of a
date, and programme figures as of a date, derived from the dated facts up to that date.

Nothing here holds a name: a person is their id, their movement and their integration facts.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_integration.adapters.tables import (
    candidacy_changes,
    coalitions,
    cohorts,
    contingents,
    people,
    postings,
    quota_decisions,
    quota_places,
    quotas,
    rank_disputes,
    rank_rules,
    service_records,
    trainees,
    units,
)
from ddr_integration.domain.thirds import ARMED_FORCES, Composition, check_assignment
from ddr_runtime.kernel import RuleViolated

PERSON_VIEW = (
    "person_id",
    "movement",
    "region",
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
DISPUTE_VIEW = (
    "dispute_id",
    "claimed_rank",
    "claimed_command_function",
    "grounds_code",
    "status",
    "decision_ref",
    "raised_on",
    "decided_on",
)
UNIT_VIEW = ("unit_id", "display_name", "kind", "location", "establishment", "thirds_applies", "tolerance")
OFF_STRENGTH = ("deserted", "discharged")


def _pick(row: Any, keys: Sequence[str]) -> dict[str, Any]:
    return {k: row._mapping[k] for k in keys}


@dataclass
class Queries:
    engine: AsyncEngine

    # -- candidates -------------------------------------------------------------------------------------

    async def children_among(self, person_ids: Sequence[str]) -> set[str]:
        wanted = sorted(set(person_ids))
        found: set[str] = set()
        async with self.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                query = select(people.c.person_id).where(
                    people.c.person_id.in_(wanted[start : start + 500]), people.c.child_protection.is_(True)
                )
                found.update((await conn.execute(query)).scalars())
        return found

    async def candidate(self, person_id: str) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            row = (await conn.execute(select(people).where(people.c.person_id == person_id))).first()
            if row is None or row.status == "none" or row.child_protection:
                return None  # a child's record is none of this service's business to show, not even its existence
            view = {**_pick(row, PERSON_VIEW), "version": row.version}
            entries = await conn.execute(
                select(service_records)
                .where(service_records.c.person_id == person_id)
                .order_by(service_records.c.version)
            )
            view["service_record"] = [
                _pick(r, ("status", "unit_id", "effective_on", "discharge_kind", "referred_to_reinsertion"))
                for r in entries
            ]
            disputes = await conn.execute(
                select(rank_disputes)
                .where(rank_disputes.c.person_id == person_id)
                .order_by(rank_disputes.c.raised_on, rank_disputes.c.dispute_id)
            )
            view["rank_disputes"] = [_pick(r, DISPUTE_VIEW) for r in disputes]
        return view

    async def candidates(
        self,
        *,
        movement: str | None,
        status: str | None,
        regions: frozenset[str],
        limit: int,
        offset: int,
    ) -> list[dict[str, Any]]:
        query = select(people).where(people.c.status != "none", people.c.child_protection.is_(False))
        if regions:
            query = query.where(people.c.region.in_(sorted(regions)))
        if movement is not None:
            query = query.where(people.c.movement == movement)
        if status is not None:
            query = query.where(people.c.status == status)
        async with self.engine.connect() as conn:
            rows = await conn.execute(query.order_by(people.c.person_id).limit(limit).offset(offset))
            return [_pick(r, PERSON_VIEW) for r in rows]

    async def disputed_person(self, dispute_id: str) -> str | None:
        async with self.engine.connect() as conn:
            found = await conn.scalar(
                select(rank_disputes.c.person_id).where(rank_disputes.c.dispute_id == dispute_id)
            )
        return None if found is None else str(found)

    # -- quotas and rules -------------------------------------------------------------------------------

    async def quotas(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            decisions: dict[str, list[dict[str, Any]]] = {}
            rows = await conn.execute(
                select(quota_decisions).order_by(
                    quota_decisions.c.occurred_at, quota_decisions.c.effective_on
                )
            )
            for d in rows:
                decisions.setdefault(d.quota_id, []).append(
                    _pick(d, ("decision_ref", "previous_limit", "limit", "reason", "effective_on"))
                )
            found = await conn.execute(select(quotas).order_by(quotas.c.period_start, quotas.c.quota_id))
            return [
                {
                    **_pick(q, ("quota_id", "movement", "period_start", "period_end", "limit", "used")),
                    "remaining": max(q.limit - q.used, 0),
                    "decisions": decisions.get(q.quota_id, []),
                }
                for q in found
            ]

    async def rule_sets(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(select(rank_rules).order_by(rank_rules.c.effective_from))
            return [_pick(r, ("rule_version", "decree_ref", "effective_from", "rules")) for r in rows]

    # -- cohorts ----------------------------------------------------------------------------------------

    async def cohort(self, cohort_id: str, on: date | None = None) -> dict[str, Any] | None:
        async with self.engine.connect() as conn:
            c = (await conn.execute(select(cohorts).where(cohorts.c.cohort_id == cohort_id))).first()
            if c is None:
                return None
            outcomes = {
                (r.outcome or "in_training"): r.n
                for r in await conn.execute(
                    select(trainees.c.outcome, func.count().label("n"))
                    .where(trainees.c.cohort_id == cohort_id)
                    .group_by(trainees.c.outcome)
                )
            }
        return {
            **_pick(c, ("cohort_id", "camp", "capacity", "starts_on", "ends_on", "enrolled")),
            "duration_days": (c.ends_on - c.starts_on).days + 1,
            "outcomes": outcomes,
        }

    # -- units ------------------------------------------------------------------------------------------

    async def units(self) -> list[dict[str, Any]]:
        async with self.engine.connect() as conn:
            return [_pick(u, UNIT_VIEW) for u in await conn.execute(select(units).order_by(units.c.unit_id))]

    async def composition(
        self, unit_id: str, on: date, coalitions_counted: Sequence[str]
    ) -> dict[str, Any] | None:
        """The unit as of ``on`` (business time): strength and command posts by party, shares, and whether one
        more member of each party would still be within the rule of thirds."""
        async with self.engine.connect() as conn:
            unit = (await conn.execute(select(units).where(units.c.unit_id == unit_id))).first()
            if unit is None:
                return None
            composition = await _composition(conn, unit_id, on, await _coalitions_on(conn, on))
        parties = (ARMED_FORCES, *coalitions_counted)
        room: dict[str, bool] = {}
        for party in parties:
            try:
                check_assignment(composition, [(party, False)], coalitions_counted, unit.tolerance)
                room[party] = True
            except RuleViolated:
                room[party] = False
        return {
            **_pick(unit, UNIT_VIEW),
            **composition.figures(parties),
            "other_parties": {p: n for p, n in composition.strength.items() if p not in parties},
            "may_take_one_more": room,
        }

    async def coalitions_on(self, on: date) -> dict[str, str]:
        async with self.engine.connect() as conn:
            return await _coalitions_on(conn, on)

    # -- figures ----------------------------------------------------------------------------------------

    async def figures(self, on: date, regions: frozenset[str] = frozenset()) -> dict[str, Any]:
        """Aggregates as of ``on``: no person appears, only counts (for CTS, donors' reporting, dashboards).
        Each person's candidacy and service status are the last dated on or before ``on``."""
        async with self.engine.connect() as conn:
            standing = await _standing(conn, on, regions)
            party_of = await _coalitions_on(conn, on)
            unit_strength = {
                u.unit_id: (await _composition(conn, u.unit_id, on, party_of)).total_strength
                for u in await conn.execute(select(units.c.unit_id).order_by(units.c.unit_id))
            }
            now = {
                r.status: r.n
                for r in await conn.execute(
                    select(people.c.status, func.count().label("n"))
                    .where(people.c.status != "none", people.c.child_protection.is_(False), *_within(regions))
                    .group_by(people.c.status)
                )
            }
            return {
                "as_of": on,
                **_standing_counts(standing),
                "candidates_by_status_now": now,
                "quotas": await _quotas_on(conn, on),
                "unit_strength": unit_strength,
                "cohorts": await _cohorts_on(conn, on),
            }


# -- as of a date ---------------------------------------------------------------------------------------------


def _latest(table: Any, on: date) -> Select[Any]:
    """Each person's last row of ``table`` dated on or before ``on``."""
    rank = (
        func.row_number()
        .over(partition_by=table.c.person_id, order_by=(table.c.effective_on.desc(), table.c.version.desc()))
        .label("n")
    )
    ranked = select(table.c.person_id, table.c.status, rank).where(table.c.effective_on <= on).subquery()
    return select(ranked.c.person_id, ranked.c.status).where(ranked.c.n == 1)


def _within(regions: frozenset[str]) -> list[Any]:
    """The condition keeping people to ``regions`` (none when empty: every region)."""
    return [people.c.region.in_(sorted(regions))] if regions else []


async def _standing(conn: AsyncConnection, on: date, regions: frozenset[str] = frozenset()) -> list[Any]:
    """(movement, path, candidacy status, service status) of every candidate (of ``regions``) as of ``on``."""
    candidacy = _latest(candidacy_changes, on).subquery()
    service = _latest(service_records, on).subquery()
    query = (
        select(people.c.movement, people.c.path, candidacy.c.status, service.c.status.label("service"))
        .join(candidacy, candidacy.c.person_id == people.c.person_id)
        .outerjoin(service, service.c.person_id == people.c.person_id)
        .where(people.c.child_protection.is_(False), *_within(regions))
    )
    return list(await conn.execute(query))


def _standing_counts(standing: Sequence[Any]) -> dict[str, dict[str, int]]:
    active = [r for r in standing if r.status == "accepted" and r.service not in OFF_STRENGTH]
    members = [r for r in standing if r.status == "accepted" and r.service is not None]
    return {
        "active_members_by_movement": dict(Counter(r.movement for r in active)),
        "active_members_by_path": dict(Counter(r.path for r in active)),
        "candidates_by_status": dict(Counter(r.status for r in standing)),
        "members_by_service_status": dict(Counter(r.service for r in members)),
    }


async def _quotas_on(conn: AsyncConnection, on: date) -> list[dict[str, Any]]:
    limits: dict[str, int] = {}
    for d in await conn.execute(
        select(quota_decisions).order_by(quota_decisions.c.effective_on, quota_decisions.c.occurred_at)
    ):
        if d.quota_id not in limits or d.effective_on <= on:
            limits[d.quota_id] = d.limit
    used = {
        r.quota_id: r.n
        for r in await conn.execute(
            select(quota_places.c.quota_id, func.count().label("n"))
            .where(
                quota_places.c.taken_on <= on,
                or_(quota_places.c.released_on.is_(None), quota_places.c.released_on > on),
            )
            .group_by(quota_places.c.quota_id)
        )
    }
    rows = await conn.execute(select(quotas.c.quota_id, quotas.c.movement).order_by(quotas.c.quota_id))
    return [
        {
            "quota_id": q.quota_id,
            "movement": q.movement,
            "limit": limits.get(q.quota_id, 0),
            "used": used.get(q.quota_id, 0),
        }
        for q in rows
    ]


async def _cohorts_on(conn: AsyncConnection, on: date) -> dict[str, dict[str, int]]:
    enrolled = and_(
        trainees.c.enrolled_on <= on,
        or_(trainees.c.outcome != "withdrawn", trainees.c.outcome.is_(None), trainees.c.outcome_on > on),
    )
    training = and_(enrolled, or_(trainees.c.outcome.is_(None), trainees.c.outcome_on > on))
    counts = {
        r.cohort_id: (r.enrolled, r.in_training)
        for r in await conn.execute(
            select(
                trainees.c.cohort_id,
                func.count().filter(enrolled).label("enrolled"),
                func.count().filter(training).label("in_training"),
            ).group_by(trainees.c.cohort_id)
        )
    }
    found: dict[str, dict[str, int]] = {}
    for c in await conn.execute(select(cohorts).order_by(cohorts.c.cohort_id)):
        taken, in_training = counts.get(c.cohort_id, (0, 0))
        if c.starts_on <= on or taken:
            found[c.cohort_id] = {"enrolled": taken, "in_training": in_training, "capacity": c.capacity}
    return found


async def _coalitions_on(conn: AsyncConnection, on: date) -> dict[str, str]:
    rows = await conn.execute(
        select(coalitions.c.movement, coalitions.c.coalition)
        .where(coalitions.c.since <= on, or_(coalitions.c.until.is_(None), coalitions.c.until > on))
        .order_by(coalitions.c.since)
    )
    return {row.movement: row.coalition for row in rows}


async def _composition(
    conn: AsyncConnection, unit_id: str, on: date, party_of: Mapping[str, str]
) -> Composition:
    """The unit on ``on``: the armed forces' contingent in force that day, and the members posted that day
    counted for the coalition their movement belonged to that day (movements in none count as themselves)."""
    contingent = (
        await conn.execute(
            select(contingents.c.strength, contingents.c.command_posts)
            .where(contingents.c.unit_id == unit_id, contingents.c.effective_on <= on)
            .order_by(contingents.c.effective_on.desc(), contingents.c.recorded_at.desc())
            .limit(1)
        )
    ).first()
    strength: Counter[str] = Counter()
    posts: Counter[str] = Counter()
    if contingent is not None:
        strength[ARMED_FORCES] = contingent.strength
        posts[ARMED_FORCES] = contingent.command_posts
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
