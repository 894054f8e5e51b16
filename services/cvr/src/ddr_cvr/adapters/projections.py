"""Keeps the read model in step with CVR's events, in the transaction that saves them (and in a rebuild).

Partners, projects and their NGOs, participants (names sealed under each participant's key, as stored), and
the programme's figures as dated deltas (see :mod:`ddr_cvr.adapters.figures`). What CVR noted from the
registration topic projects only its merges (``cvr_person_merges``), so that an erasure reaching a person
reaches the participants linked to any record merged into theirs, and the persons noted as children
(``cvr_child_persons``), whose participants only child protection sees.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.cvr import (
    BeneficiaryCountsRecorded,
    CommitteeDecided,
    MonitoringVisitRecorded,
    ParticipantDataErased,
    ParticipantEnrolled,
    ParticipantWithdrawn,
    PartnerCapacityAssessed,
    PartnerRegistered,
    PersonChildNoted,
    PersonMergeNoted,
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
from ddr_cvr.adapters.figures import COUNTED, COUNTER_COLUMNS, Counters, FigureDeltas, cents
from ddr_cvr.adapters.tables import (
    child_persons,
    participants,
    partners,
    person_merges,
    project_ngos,
    projects,
)
from ddr_cvr.domain.projects import NEXT_STAGE
from ddr_runtime.eventstore.unit import Saved

SEALED_FIELDS = ("full_name", "telephone")


async def _set(conn: AsyncConnection, project_id: str, version: int, **values: Any) -> None:
    await conn.execute(
        update(projects).where(projects.c.project_id == project_id).values(version=version, **values)
    )


def _project_columns(event: DomainEvent) -> dict[str, Any]:
    """The columns an event of a project sets on its row (events with more to do have their own step)."""
    match event:
        case TechnicalAssessmentRecorded():
            return {"technical_assessment_favourable": event.favourable}
        case RiskAnalysisAttached():
            return {"risk_analysis_attached": True}
        case CommitteeDecided():
            return {"status": NEXT_STAGE[event.committee] if event.outcome == "cleared" else event.outcome}
        case TranchePaid():
            return {"tranches_paid": event.tranche, "paid_cents": projects.c.paid_cents + cents(event.amount)}
        case ProgressReported():
            return {"percent_complete": event.percent_complete}
        case ProjectCompleted():
            return {"status": "completed", "completed_on": event.completed_on}
        case ProjectHandedOver():
            return {"status": "handed_over", "handed_over_on": event.handed_over_on}
        case WamItemsCollected():
            weapons = sum(item.quantity for item in event.items if item.kind == "weapon")
            return {"wam_items": projects.c.wam_items + weapons}
        case MonitoringVisitRecorded():
            return {"last_visit_on": event.visited_on, "last_visit_kind": event.visit_kind}
    return {}


class Projector:
    """The read model's projection (``ddr_runtime.eventstore.unit.Projection``)."""

    def __init__(self) -> None:
        self._steps: dict[type[DomainEvent], Callable[[AsyncConnection, Any, int], Awaitable[None]]] = {
            PartnerRegistered: self._partner_registered,
            PartnerCapacityAssessed: self._capacity_assessed,
            ProjectSubmitted: self._submitted,
            ProjectApproved: self._approved,
            BeneficiaryCountsRecorded: self._counts,
            ParticipantWithdrawn: self._withdrawn,
            ParticipantDataErased: self._erased,
            PersonMergeNoted: self._merged,
            PersonChildNoted: self._child_noted,
        }

    async def project(self, conn: AsyncConnection, saved: Sequence[Saved]) -> None:
        """Each saved event in order; consecutive enrolments (a batch) together."""
        enrolments: list[Saved] = []
        for item in saved:
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
        step = self._steps.get(type(event))
        if step is not None:
            await step(conn, event, version)
        elif columns := _project_columns(event):
            await _set(conn, getattr(event, "project_id"), version, **columns)  # noqa: B009

    async def _partner_registered(
        self, conn: AsyncConnection, event: PartnerRegistered, version: int
    ) -> None:
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

    async def _capacity_assessed(
        self, conn: AsyncConnection, event: PartnerCapacityAssessed, version: int
    ) -> None:
        await conn.execute(
            update(partners)
            .where(partners.c.partner_id == event.partner_id)
            .values(capacity_rating=event.rating, capacity_assessed_on=event.assessed_on, version=version)
        )

    async def _submitted(self, conn: AsyncConnection, event: ProjectSubmitted, version: int) -> None:
        values: dict[str, Any] = {
            "partner_id": event.partner_id,
            "partner_kind": event.partner_kind,
            "ngo_ids": sorted(event.ngo_ids),
            "title": event.title,
            "project_type": event.project_type,
            "programme": event.programme,
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
            "direct_beneficiaries_target": event.direct_beneficiaries_target,
            "ex_combatants_target": event.ex_combatants_target,
            "women_target": event.women_target,
            "revision": event.revision,
            "status": "awaiting_local_review",
            "submitted_on": event.submitted_on,
            "version": version,
        }
        if event.revision == 0:
            first = {"risk_analysis_attached": False, "tranches_paid": 0, "paid_cents": 0, "wam_items": 0}
            zeros = dict.fromkeys(COUNTED, 0)
            await conn.execute(
                insert(projects).values(project_id=event.project_id, **first, **zeros, **values)
            )
        else:
            await conn.execute(
                update(projects).where(projects.c.project_id == event.project_id).values(**values)
            )
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

    async def _approved(self, conn: AsyncConnection, event: ProjectApproved, version: int) -> None:
        counters = (await self._counters(conn, [event.project_id]))[event.project_id]
        deltas = FigureDeltas()
        before = counters.figures()
        counters.approved_on = event.approved_on
        deltas.add(event.project_id, event.approved_on, before, counters.figures())
        approved = {"approved_on": event.approved_on, "approved_year": event.approved_on.year}
        await _set(conn, event.project_id, version, status="approved", **approved)
        await deltas.write(conn)

    async def _counts(self, conn: AsyncConnection, event: BeneficiaryCountsRecorded, version: int) -> None:
        counters = (await self._counters(conn, [event.project_id]))[event.project_id]
        before = counters.figures()
        counters.recorded_direct = event.direct
        counters.recorded_direct_women = event.direct_women
        counters.recorded_indirect = event.indirect
        counters.recorded_indirect_women = event.indirect_women
        deltas = FigureDeltas()
        deltas.add(event.project_id, counters.dated(event.counted_on), before, counters.figures())
        await _set(conn, event.project_id, version, **counters.values())
        await deltas.write(conn)

    async def _enrolled(self, conn: AsyncConnection, saved: Sequence[Saved]) -> None:
        """Many enrolments at once (a batch): one insert, one counter update per project."""
        enrolled = [(item, item.event) for item in saved if isinstance(item.event, ParticipantEnrolled)]
        rows = []
        for item, event in enrolled:
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
        for _, event in enrolled:
            by_project[event.project_id].append(event)
        all_counters = await self._counters(conn, list(by_project))
        deltas = FigureDeltas()
        for project_id, events in by_project.items():
            counters = all_counters[project_id]
            for event in events:
                before = counters.figures()
                counters.named += 1
                counters.named_women += event.sex == "F"
                counters.named_ex += event.category == "ex_combatant"
                deltas.add(project_id, counters.dated(event.enrolled_on), before, counters.figures())
            await conn.execute(
                update(projects).where(projects.c.project_id == project_id).values(**counters.values())
            )
        await deltas.write(conn)

    async def _erased(self, conn: AsyncConnection, event: ParticipantDataErased, version: int) -> None:
        """The sealed name and telephone go too: their key is shredded, and nothing sealed is kept for it."""
        await conn.execute(
            update(participants)
            .where(participants.c.participant_id == event.participant_id)
            .values(sealed=None, version=version)
        )

    async def _merged(self, conn: AsyncConnection, event: PersonMergeNoted, version: int) -> None:
        await conn.execute(
            delete(person_merges).where(person_merges.c.person_id == event.registered_person_id)
        )
        await conn.execute(
            insert(person_merges).values(
                person_id=event.registered_person_id, into_person_id=event.into_person_id
            )
        )

    async def _child_noted(self, conn: AsyncConnection, event: PersonChildNoted, version: int) -> None:
        """Noted once per person (``RegisteredPerson.note_child``): their participants are hidden from every
        role but child protection from now on (``ddr_cvr.adapters.children``)."""
        await conn.execute(insert(child_persons).values(person_id=event.registered_person_id))

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
        deltas.add(event.project_id, counters.dated(event.withdrawn_on), before, counters.figures())
        await conn.execute(
            update(projects).where(projects.c.project_id == event.project_id).values(**counters.values())
        )
        await deltas.write(conn)
