"""Reads of the screening service: queues, case views, outcomes, figures, overdue handovers.

Every read goes through ``access``: what a caller cannot see is answered as restricted or not found.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import ColumnElement, and_, func, select

from ddr_contracts.screening import (
    AgeAssessed,
    AppealDecided,
    AppealLodged,
    ChildHandedOver,
    MedicalExamined,
    MedicalReExaminationRequested,
    MembershipVerificationDecided,
    VettingDecided,
)
from ddr_runtime.auth.roles import Principal, Role
from ddr_screening.adapters.tables import cases
from ddr_screening.domain.errors import UnknownRecord
from ddr_screening.service_layer.access import (
    MEDICAL_DETAIL_READERS,
    PERSONAL_TEXT_READERS,
    may_see_case,
    medical_view,
    outcome_only,
    sees_restricted,
    visible_cases,
)
from ddr_screening.service_layer.unit import Screening

QueueType = Literal["age_assessment", "handover", "medical", "vetting", "weapon", "outcome"]

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
RESTRICTED_QUEUES = frozenset({"age_assessment", "handover"})


def summary(row: Any, principal: Principal) -> dict[str, Any]:
    """A case as the caller may see it; a restricted case the caller may not see says only that."""
    if not may_see_case(principal, row.movement, row.region, row.restricted):
        return {"person_id": row.person_id, "restricted": True}
    if outcome_only(principal):
        return {
            "person_id": row.person_id,
            "ddr_id": row.ddr_id,
            "movement": row.movement,
            "track": row.track,
            "reason": row.outcome_reason,
        }
    return {
        "person_id": row.person_id,
        "ddr_id": row.ddr_id,
        "movement": row.movement,
        "category": row.category,
        "sex": row.sex,
        "region": row.region,
        "cercle": row.cercle,
        "rank": row.rank,
        "armed": row.armed,
        "birth_year": row.birth_year,
        "registered_on": row.registered_on,
        "restricted": row.restricted,
        "child": row.child,
        "age_pending": row.age_pending,
        "handover_deadline": row.handover_deadline,
        "handed_over_at": row.handed_over_at,
        "medical": medical_view(principal, row.medical),
        "examinations": row.examinations,
        "re_examination_open": row.re_examination_open,
        "verified_member": row.verified_member,
        "weapon_handed_over": row.weapon_handed_over,
        "handling_test_passed": row.handling_test_passed,
        "chose_reinsertion": row.chose_reinsertion,
        "vetting": row.vetting,
        "benefits_held": row.held,
        "rule_version": row.rule_version,
        "eligibility": row.eligibility,
        "eligibility_reasons": row.eligibility_reasons,
        "track": row.track,
        "outcome_reason": row.outcome_reason,
        "outcome_decision_id": row.outcome_decision_id,
        "merged_into": row.merged_into,
        "version": row.version,
    }


async def queue(
    scr: Screening,
    principal: Principal,
    kind: str,
    *,
    region: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> dict[str, Any]:
    condition = and_(QUEUES[kind], visible_cases(principal))
    if region is not None:
        condition = and_(condition, cases.c.region == region)
    async with scr.engine.connect() as conn:
        total = (await conn.execute(select(func.count()).select_from(cases).where(condition))).scalar_one()
        rows = (
            await conn.execute(
                select(cases)
                .where(condition)
                .order_by(cases.c.registered_on, cases.c.person_id)
                .offset(offset)
                .limit(limit)
            )
        ).all()
    return {"queue": kind, "total": total, "items": [summary(row, principal) for row in rows]}


async def get_case(
    scr: Screening, principal: Principal, person_id: str, *, with_decisions: bool = True
) -> dict[str, Any]:
    async with scr.engine.connect() as conn:
        row = (await conn.execute(select(cases).where(cases.c.person_id == person_id))).first()
    if row is None or not principal.covers_movement(row.movement) or not principal.covers_region(row.region):
        raise UnknownRecord("case", person_id)
    view = summary(row, principal)
    if view.get("restricted") is True and len(view) == 2:
        return view
    if with_decisions and not outcome_only(principal):
        view["decisions"] = await _decisions(scr, principal, person_id, restricted=row.restricted)
    return view


async def _decisions(
    scr: Screening, principal: Principal, person_id: str, *, restricted: bool
) -> list[dict[str, Any]]:
    """The case's history as the caller may see it: every decision, its author and time; sealed text only to
    those entitled (medical details: examiners and screening officers)."""
    full = restricted and sees_restricted(principal)
    async with scr.engine.connect() as conn:
        history = await scr.cases.history(conn, person_id)
    entries: list[dict[str, Any]] = []
    for recorded in history:
        event = recorded.event
        data = event.model_dump(mode="json")
        data.pop("person_id", None)
        if not full:
            if isinstance(event, MedicalExamined):
                if not principal.has_any(*MEDICAL_DETAIL_READERS):
                    data.pop("details", None)
                    data["result"] = medical_view(principal, event.result)
            elif isinstance(
                event, VettingDecided | MembershipVerificationDecided | AppealLodged | AppealDecided
            ):
                if not principal.has_any(*PERSONAL_TEXT_READERS):
                    data.pop("reason", None)
            elif isinstance(event, MedicalReExaminationRequested):
                if not principal.has_any(*MEDICAL_DETAIL_READERS):
                    data.pop("reason", None)
            elif isinstance(event, AgeAssessed | ChildHandedOver):
                data.pop("note", None)
        entries.append(
            {
                "type": type(event).name.rsplit(".", 1)[-1],
                "version": recorded.version,
                "actor": recorded.envelope.actor,
                "occurred_at": recorded.envelope.occurredat,
                "recorded_at": recorded.envelope.recordedat,
                **data,
            }
        )
    return entries


async def outcomes(
    scr: Screening,
    principal: Principal,
    *,
    movement: str | None = None,
    track: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> list[dict[str, Any]]:
    condition = and_(cases.c.track.is_not(None), visible_cases(principal))
    if movement is not None:
        condition = and_(condition, cases.c.movement == movement)
    if track is not None:
        condition = and_(condition, cases.c.track == track)
    async with scr.engine.connect() as conn:
        rows = (
            await conn.execute(
                select(cases).where(condition).order_by(cases.c.person_id).offset(offset).limit(limit)
            )
        ).all()
    return [
        {
            "person_id": r.person_id,
            "ddr_id": r.ddr_id,
            "movement": r.movement,
            "track": r.track,
            "reason": r.outcome_reason,
            "benefits_held": r.held,
            "decision_id": r.outcome_decision_id,
        }
        for r in rows
    ]


async def figures(scr: Screening, principal: Principal, *, region: str | None = None) -> dict[str, Any]:
    """Counts that reconcile: cases = each track + undecided; restricted cases counted, never listed."""
    condition: ColumnElement[bool] = (
        cases.c.region == region if region is not None else cases.c.person_id.is_not(None)
    )
    if principal.regions:
        condition = and_(condition, cases.c.region.in_(sorted(principal.regions)))
    async with scr.engine.connect() as conn:
        rows = (
            await conn.execute(select(cases.c.track, func.count()).where(condition).group_by(cases.c.track))
        ).all()
        held = (
            await conn.execute(
                select(func.count()).select_from(cases).where(condition, cases.c.held.is_(True))
            )
        ).scalar_one()
        re_decided = (
            await conn.execute(select(func.count()).select_from(cases).where(condition, cases.c.outcomes > 1))
        ).scalar_one()
    by_track = {str(track or "undecided"): int(count) for track, count in rows}
    return {
        "cases": sum(by_track.values()),
        "by_track": by_track,
        "benefits_held": int(held),
        "outcomes_superseded": int(re_decided),
    }


async def overdue_handovers(
    scr: Screening, principal: Principal, now: datetime | None = None
) -> dict[str, Any]:
    """Children not handed over by their deadline: listed for child protection, counted for anyone else."""
    now = now or datetime.now(UTC)
    condition = and_(
        cases.c.child.is_(True), cases.c.handed_over_at.is_(None), cases.c.handover_deadline < now
    )
    if principal.regions:
        condition = and_(condition, cases.c.region.in_(sorted(principal.regions)))
    async with scr.engine.connect() as conn:
        rows = (await conn.execute(select(cases).where(condition).order_by(cases.c.handover_deadline))).all()
    answer: dict[str, Any] = {"overdue": len(rows)}
    if sees_restricted(principal) and not outcome_only(principal):
        answer["items"] = [
            {
                "person_id": r.person_id,
                "ddr_id": r.ddr_id,
                "region": r.region,
                "cercle": r.cercle,
                "handover_deadline": r.handover_deadline,
                "hours_overdue": round((now - _aware(r.handover_deadline)).total_seconds() / 3600, 1),
            }
            for r in rows
        ]
    return answer


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def is_restricted_queue(kind: str) -> bool:
    return kind in RESTRICTED_QUEUES


__all__ = ["QUEUES", "Role", "figures", "get_case", "outcomes", "overdue_handovers", "queue", "summary"]
