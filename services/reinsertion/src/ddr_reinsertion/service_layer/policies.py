"""How the service reacts to screening and integration: who becomes a beneficiary-to-be, who leaves,
whose benefits are held, who is active in integration (and so may draw nothing here).

Each handler runs inside the consumer's transaction, with the inbox row: a redelivered event changes nothing.
Across the two topics there is no order: the integration flag is a fact as last heard, and enrolment and every
disbursement read it, so a payment may slip through in the window between integration accepting someone and
its event arriving here (see docs/reinsertion.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.integration import CandidateAccepted, CandidateWithdrawn, ServiceStatusChanged
from ddr_contracts.screening import BenefitsHeld, BenefitsReleased, ScreeningOutcomeDecided
from ddr_reinsertion.adapters.tables import beneficiaries, holds
from ddr_reinsertion.service_layer.unit import Reinsertion, end_beneficiary, lock_beneficiaries
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.messaging.consumer import ReceivedEvent

SCREENING_EVENTS = frozenset(e.name for e in (ScreeningOutcomeDecided, BenefitsHeld, BenefitsReleased))
INTEGRATION_EVENTS = frozenset(e.name for e in (CandidateAccepted, CandidateWithdrawn, ServiceStatusChanged))


def _causation(received: ReceivedEvent) -> Causation:
    envelope = received.envelope
    return Causation(
        actor=f"policy:{envelope.type}", correlation_id=envelope.correlationid, causation_id=envelope.id
    )


async def _row(conn: AsyncConnection, person_id: str) -> Row[Any]:
    """The person's row, locked; created bare the first time the person is heard of."""
    row = (await lock_beneficiaries(conn, [person_id])).get(person_id)
    if row is None:
        await conn.execute(insert(beneficiaries).values(person_id=person_id))
        row = (await lock_beneficiaries(conn, [person_id]))[person_id]
    return row


async def _set(conn: AsyncConnection, person_id: str, **values: Any) -> None:
    await conn.execute(update(beneficiaries).where(beneficiaries.c.person_id == person_id).values(**values))


class Policies:
    def __init__(self, unit: Reinsertion) -> None:
        self.unit = unit

    async def on_screening_batch(self, conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        """A batch of screening events, in order. The common case, a first reinsertion outcome for someone
        not yet on any track here, is applied in bulk; anything else goes through :meth:`on_screening`."""
        ids = [r.event.person_id for r in batch if isinstance(r.event, ScreeningOutcomeDecided)]
        rows = await lock_beneficiaries(conn, ids)
        fresh = sorted(set(ids) - set(rows))
        if fresh:
            await conn.execute(insert(beneficiaries), [{"person_id": person_id} for person_id in fresh])
        pending: dict[str, dict[str, Any]] = {}
        touched: set[str] = set()
        for received in batch:
            event = received.event
            person_id = getattr(event, "person_id", None)
            row = rows.get(person_id) if person_id else None
            simple = (
                isinstance(event, ScreeningOutcomeDecided)
                and event.track == "reinsertion"
                and event.person_id not in touched
                and (
                    row is None
                    or (not row.barred and row.stage in ("none", "withdrawn", "moved_to_integration"))
                )
            )
            if simple:
                assert isinstance(event, ScreeningOutcomeDecided)
                touched.add(event.person_id)
                pending[event.person_id] = {
                    "b_person": event.person_id,
                    "region": event.region,
                    "sex": event.sex,
                    "category": event.category,
                    "movement": event.movement,
                    "rank": event.rank,
                    "screening_track": event.track,
                    "stage": "waiting",
                    "source": "screening",
                    "round_id": None,
                }
                continue
            await self._flush(conn, pending)
            if person_id:
                touched.add(person_id)
            await self.on_screening(conn, received)
        await self._flush(conn, pending)

    @staticmethod
    async def _flush(conn: AsyncConnection, pending: dict[str, dict[str, Any]]) -> None:
        if not pending:
            return
        values = list(pending.values())
        await conn.execute(
            update(beneficiaries)
            .where(beneficiaries.c.person_id == bindparam("b_person"))
            .values({key: bindparam(key) for key in values[0] if key != "b_person"}),
            values,
        )
        pending.clear()

    async def on_screening(self, conn: AsyncConnection, received: ReceivedEvent) -> None:
        event = received.event
        if isinstance(event, ScreeningOutcomeDecided):
            await self._outcome(conn, event, received)
        elif isinstance(event, BenefitsHeld):
            await _row(conn, event.person_id)
            exists = (
                await conn.execute(
                    select(holds.c.decision_id).where(
                        holds.c.person_id == event.person_id, holds.c.decision_id == event.decision_id
                    )
                )
            ).first()
            if exists is None:
                await conn.execute(
                    insert(holds).values(person_id=event.person_id, decision_id=event.decision_id)
                )
        elif isinstance(event, BenefitsReleased):
            await conn.execute(
                delete(holds).where(
                    holds.c.person_id == event.person_id, holds.c.decision_id == event.decision_id
                )
            )

    async def _outcome(
        self, conn: AsyncConnection, event: ScreeningOutcomeDecided, received: ReceivedEvent
    ) -> None:
        row = await _row(conn, event.person_id)
        effective_on = received.envelope.occurredat.date()
        await _set(
            conn,
            event.person_id,
            region=event.region,
            sex=event.sex,
            category=event.category,
            movement=event.movement,
            rank=event.rank,
            screening_track=event.track,
        )
        if event.track == "child_protection":
            # A child never enters reinsertion, whatever arrives before or after.
            await _set(conn, event.person_id, barred=True)
            await self._leave(conn, row, "withdrawn", effective_on, received)
            return
        if row.barred:
            return
        if event.track == "reinsertion":
            if row.stage in ("none", "withdrawn", "moved_to_integration"):
                await _set(conn, event.person_id, stage="waiting", source="screening", round_id=None)
            return
        reason = "moved_to_integration" if event.track == "integration" else "withdrawn"
        await self._leave(conn, row, reason, effective_on, received)

    async def _leave(
        self, conn: AsyncConnection, row: Row[Any], reason: str, effective_on: Any, received: ReceivedEvent
    ) -> None:
        if row.stage == "active":
            fresh = (await lock_beneficiaries(conn, [row.person_id]))[row.person_id]
            await end_beneficiary(self.unit.store, conn, fresh, reason, effective_on, _causation(received))
        elif row.stage == "waiting":
            await _set(conn, row.person_id, stage="withdrawn")

    async def on_integration(self, conn: AsyncConnection, received: ReceivedEvent) -> None:
        event = received.event
        if isinstance(event, CandidateAccepted):
            await _row(conn, event.person_id)
            await _set(conn, event.person_id, integration_active=True)
        elif isinstance(event, CandidateWithdrawn):
            await _row(conn, event.person_id)
            await _set(conn, event.person_id, integration_active=False)
        elif isinstance(event, ServiceStatusChanged):
            row = await _row(conn, event.person_id)
            if event.status != "discharged":
                await _set(conn, event.person_id, integration_active=True)
                return
            await _set(conn, event.person_id, integration_active=False)
            if event.referred_to_reinsertion and not row.barred and row.stage != "active":
                await _set(
                    conn, event.person_id, stage="waiting", source="integration_discharge", round_id=None
                )
