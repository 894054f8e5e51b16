"""Keeps the read model in step with the events, in the transaction that appends them.

The programme's figures are kept as dated deltas in ``cvr_figures``. A project counts from its approval
date: its project count, USD amount and beneficiaries enter the figures then, and later changes enter at
their own business date (never before approval). A rejected or pending project never counts. Direct
beneficiaries are the larger of the partner's recorded count and the named participants (likewise for
women), so named lists and counts entered as data meet without double counting.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.cvr import (
    BeneficiaryCountsRecorded,
    CommitteeDecided,
    MonitoringVisitRecorded,
    ParticipantEnrolled,
    ParticipantWithdrawn,
    PartnerCapacityAssessed,
    PartnerRegistered,
    ProgressReported,
    ProjectApproved,
    ProjectCompleted,
    ProjectHandedOver,
    ProjectSubmitted,
    RiskAnalysisAttached,
    TechnicalAssessmentRecorded,
    TranchePaid,
    WamItemsCollected,
)
from ddr_contracts.events import DomainEvent
from ddr_cvr.adapters.repository import Stored
from ddr_cvr.adapters.tables import FIGURE_COLUMNS, figures, participants, partners, project_ngos, projects
from ddr_cvr.domain.projects import NEXT_STAGE

SEALED_FIELDS = ("full_name", "telephone")


def cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value())


@dataclass
class Counters:
    """A project's current counters (columns of ``cvr_projects``) and what they make in the figures."""

    approved_on: date | None
    budget_usd_cents: int
    named: int
    named_women: int
    named_ex: int
    recorded_direct: int
    recorded_direct_women: int
    recorded_indirect: int
    recorded_indirect_women: int

    def figures(self) -> dict[str, int]:
        if self.approved_on is None:
            return dict.fromkeys(FIGURE_COLUMNS, 0)
        return {
            "projects": 1,
            "amount_usd_cents": self.budget_usd_cents,
            "direct": max(self.recorded_direct, self.named),
            "direct_women": max(self.recorded_direct_women, self.named_women),
            "indirect": self.recorded_indirect,
            "indirect_women": self.recorded_indirect_women,
            "participants": self.named,
            "participants_women": self.named_women,
            "ex_combatants": self.named_ex,
        }

    def counter_values(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("approved_on",)}


COUNTER_COLUMNS = tuple(f.name for f in fields(Counters))


class FigureDeltas:
    """Deltas per (project, business date), summed, then added to ``cvr_figures`` in one statement."""

    def __init__(self) -> None:
        self.deltas: dict[tuple[str, date], dict[str, int]] = defaultdict(
            lambda: dict.fromkeys(FIGURE_COLUMNS, 0)
        )

    def add(self, project_id: str, on: date, before: dict[str, int], after: dict[str, int]) -> None:
        row = self.deltas[(project_id, on)]
        for column in FIGURE_COLUMNS:
            row[column] += after[column] - before[column]

    async def write(self, conn: AsyncConnection) -> None:
        rows = [
            {"project_id": project_id, "effective_on": on, **values}
            for (project_id, on), values in self.deltas.items()
            if any(values.values())
        ]
        if not rows:
            return
        dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
        statement = dialect_insert(figures)
        await conn.execute(
            statement.on_conflict_do_update(
                index_elements=[figures.c.project_id, figures.c.effective_on],
                set_={c: figures.c[c] + statement.excluded[c] for c in FIGURE_COLUMNS},
            ),
            rows,
        )


class Projector:
    async def project(self, conn: AsyncConnection, stored: Sequence[Stored]) -> None:
        enrolments: list[Stored] = []
        for item in stored:
            if isinstance(item.event, ParticipantEnrolled):
                enrolments.append(item)
                continue
            if enrolments:
                await self._enrolled(conn, enrolments)
                enrolments = []
            await self._project_one(conn, item.event, item.version)
        if enrolments:
            await self._enrolled(conn, enrolments)

    async def _project_one(self, conn: AsyncConnection, event: DomainEvent, version: int) -> None:
        match event:
            case PartnerRegistered():
                await conn.execute(
                    insert(partners).values(
                        partner_id=event.partner_id,
                        display_name=event.display_name,
                        kind=event.kind,
                        lead_partner_id=event.lead_partner_id,
                        member_partner_ids=list(event.member_partner_ids),
                        regions=list(event.regions),
                        registered_on=event.registered_on,
                        version=version,
                    )
                )
            case PartnerCapacityAssessed():
                await conn.execute(
                    update(partners)
                    .where(partners.c.partner_id == event.partner_id)
                    .values(
                        capacity_rating=event.rating, capacity_assessed_on=event.assessed_on, version=version
                    )
                )
            case ProjectSubmitted():
                await self._submitted(conn, event, version)
            case TechnicalAssessmentRecorded():
                await self._project(
                    conn, event.project_id, version, technical_assessment_favourable=event.favourable
                )
            case RiskAnalysisAttached():
                await self._project(conn, event.project_id, version, risk_analysis_attached=True)
            case CommitteeDecided():
                status = NEXT_STAGE[event.committee] if event.outcome == "cleared" else event.outcome
                await self._project(conn, event.project_id, version, status=status)
            case ProjectApproved():
                await self._approved(conn, event, version)
            case BeneficiaryCountsRecorded():
                await self._counts(conn, event, version)
            case TranchePaid():
                await self._project(
                    conn,
                    event.project_id,
                    version,
                    tranches_paid=event.tranche,
                    paid_cents=projects.c.paid_cents + cents(event.amount),
                )
            case ProgressReported():
                await self._project(conn, event.project_id, version, percent_complete=event.percent_complete)
            case ProjectCompleted():
                await self._project(
                    conn, event.project_id, version, status="completed", completed_on=event.completed_on
                )
            case ProjectHandedOver():
                await self._project(
                    conn, event.project_id, version, status="handed_over", handed_over_on=event.handed_over_on
                )
            case WamItemsCollected():
                quantity = sum(item.quantity for item in event.items if item.kind == "weapon")
                await self._project(
                    conn, event.project_id, version, wam_items=projects.c.wam_items + quantity
                )
            case MonitoringVisitRecorded():
                await self._project(
                    conn,
                    event.project_id,
                    version,
                    last_visit_on=event.visited_on,
                    last_visit_kind=event.visit_kind,
                )
            case ParticipantWithdrawn():
                await self._withdrawn(conn, event, version)

    async def _project(self, conn: AsyncConnection, project_id: str, version: int, **values: Any) -> None:
        await conn.execute(
            update(projects).where(projects.c.project_id == project_id).values(version=version, **values)
        )

    async def _submitted(self, conn: AsyncConnection, event: ProjectSubmitted, version: int) -> None:
        values: dict[str, Any] = {
            "partner_id": event.partner_id,
            "partner_kind": event.partner_kind,
            "title": event.title,
            "project_type": event.project_type,
            "region": event.region,
            "cercle": event.cercle,
            "commune": event.commune,
            "location": event.location,
            "budget_cents": cents(event.budget),
            "currency": event.currency,
            "budget_usd_cents": cents(event.budget_usd),
            "cap_usd_cents": cents(event.cap_usd),
            "duration_months": event.duration_months,
            "planned_start": event.planned_start,
            "armed_groups_active": event.armed_groups_active,
            "ex_combatant_target_percent": event.ex_combatant_target_percent,
            "women_target_percent": event.women_target_percent,
            "direct_beneficiaries_target": event.direct_beneficiaries_target,
            "revision": event.revision,
            "status": "awaiting_local_review",
            "submitted_on": event.submitted_on,
            "version": version,
        }
        if event.revision == 0:
            zeros = dict.fromkeys(COUNTER_COLUMNS[2:], 0)
            await conn.execute(
                insert(projects).values(
                    project_id=event.project_id,
                    risk_analysis_attached=False,
                    tranches_paid=0,
                    paid_cents=0,
                    wam_items=0,
                    **zeros,
                    **values,
                )
            )
        else:
            await self._project(conn, event.project_id, **values)
            await conn.execute(delete(project_ngos).where(project_ngos.c.project_id == event.project_id))
        await conn.execute(
            insert(project_ngos), [{"project_id": event.project_id, "ngo_id": ngo} for ngo in event.ngo_ids]
        )

    async def _counters(self, conn: AsyncConnection, project_ids: Sequence[str]) -> dict[str, Counters]:
        rows = (
            await conn.execute(
                select(projects.c.project_id, *(projects.c[c] for c in COUNTER_COLUMNS)).where(
                    projects.c.project_id.in_(list(project_ids))
                )
            )
        ).all()
        return {row.project_id: Counters(*(getattr(row, c) for c in COUNTER_COLUMNS)) for row in rows}

    async def _save_counters(
        self, conn: AsyncConnection, project_id: str, counters: Counters, version: int | None = None
    ) -> None:
        values = counters.counter_values()
        if version is not None:
            values["version"] = version
        await conn.execute(update(projects).where(projects.c.project_id == project_id).values(**values))

    async def _approved(self, conn: AsyncConnection, event: ProjectApproved, version: int) -> None:
        counters = (await self._counters(conn, [event.project_id]))[event.project_id]
        deltas = FigureDeltas()
        before = counters.figures()
        counters.approved_on = event.approved_on
        deltas.add(event.project_id, event.approved_on, before, counters.figures())
        await self._project(
            conn,
            event.project_id,
            version,
            status="approved",
            approved_on=event.approved_on,
            approved_year=event.approved_on.year,
        )
        await deltas.write(conn)

    async def _counts(self, conn: AsyncConnection, event: BeneficiaryCountsRecorded, version: int) -> None:
        counters = (await self._counters(conn, [event.project_id]))[event.project_id]
        before = counters.figures()
        counters.recorded_direct = event.direct
        counters.recorded_direct_women = event.direct_women
        counters.recorded_indirect = event.indirect
        counters.recorded_indirect_women = event.indirect_women
        deltas = FigureDeltas()
        deltas.add(event.project_id, _dated(event.counted_on, counters), before, counters.figures())
        await self._save_counters(conn, event.project_id, counters, version)
        await deltas.write(conn)

    async def _enrolled(self, conn: AsyncConnection, stored: Sequence[Stored]) -> None:
        """Many enrolments at once (a bulk enrolment): one insert, one counter update per project."""
        rows = []
        for item in stored:
            event = item.event
            assert isinstance(event, ParticipantEnrolled)
            sealed = {name: item.sealed.get(name) for name in SEALED_FIELDS}
            rows.append(
                {
                    "participant_id": event.participant_id,
                    "project_id": event.project_id,
                    "partner_id": event.partner_id,
                    "category": event.category,
                    "sex": event.sex,
                    "birth_year": event.birth_year,
                    "person_id": event.person_id,
                    "enrolled_on": event.enrolled_on,
                    "withdrawn_on": None,
                    "sealed": sealed if any(sealed.values()) else None,
                    "version": item.version,
                }
            )
        await conn.execute(insert(participants), rows)
        by_project: dict[str, list[ParticipantEnrolled]] = defaultdict(list)
        for item in stored:
            assert isinstance(item.event, ParticipantEnrolled)
            by_project[item.event.project_id].append(item.event)
        all_counters = await self._counters(conn, list(by_project))
        deltas = FigureDeltas()
        for project_id, enrolled in by_project.items():
            counters = all_counters[project_id]
            for event in enrolled:
                before = counters.figures()
                counters.named += 1
                counters.named_women += event.sex == "F"
                counters.named_ex += event.category == "ex_combatant"
                deltas.add(project_id, _dated(event.enrolled_on, counters), before, counters.figures())
            await self._save_counters(conn, project_id, counters)
        await deltas.write(conn)

    async def _withdrawn(self, conn: AsyncConnection, event: ParticipantWithdrawn, version: int) -> None:
        row = (
            await conn.execute(
                select(participants.c.sex, participants.c.category).where(
                    participants.c.participant_id == event.participant_id
                )
            )
        ).one()
        await conn.execute(
            update(participants)
            .where(participants.c.participant_id == event.participant_id)
            .values(withdrawn_on=event.withdrawn_on, version=version)
        )
        counters = (await self._counters(conn, [event.project_id]))[event.project_id]
        before = counters.figures()
        counters.named -= 1
        counters.named_women -= row.sex == "F"
        counters.named_ex -= row.category == "ex_combatant"
        deltas = FigureDeltas()
        deltas.add(event.project_id, _dated(event.withdrawn_on, counters), before, counters.figures())
        await self._save_counters(conn, event.project_id, counters)
        await deltas.write(conn)


def _dated(on: date, counters: Counters) -> date:
    """A change before approval enters the figures on the approval date (with the approval itself)."""
    return on if counters.approved_on is None or on >= counters.approved_on else counters.approved_on
