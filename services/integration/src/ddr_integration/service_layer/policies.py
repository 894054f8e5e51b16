"""Policies reacting to other services' events, each inside the consumer's transaction (effect and inbox
row commit together, so a redelivered event changes nothing).

- screening: outcomes make, supersede or end candidacies; holds keep a person from acceptance and placement;
- reinsertion: an active beneficiary is not accepted; an enrolment overlapping integration is flagged;
- registration: movements and their time-bound coalition membership, for the rule of thirds.

The double-payment check spans two services through events, so it is eventually consistent: between
reinsertion enrolling a person and this service consuming that event (normally well under a second, longer
if a consumer is down), integration can still accept them, and the reverse. Such crossings are not lost:
each side sees the other's event later, and this side records ``DualEnrolmentDetected`` for a decision.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.registration import CoalitionJoined, CoalitionLeft, MovementRegistered
from ddr_contracts.reinsertion import BeneficiaryEnrolled, BeneficiaryExited
from ddr_contracts.screening import BenefitsHeld, BenefitsReleased, ScreeningOutcomeDecided
from ddr_integration.adapters import readmodel as rm
from ddr_integration.adapters.tables import movements
from ddr_integration.service_layer import candidacy, intake
from ddr_integration.service_layer.unit import Integration
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.messaging.consumer import BatchHandler, Handler, ReceivedEvent

SCREENING_EVENTS = frozenset({ScreeningOutcomeDecided.name, BenefitsHeld.name, BenefitsReleased.name})
REINSERTION_EVENTS = frozenset({BeneficiaryEnrolled.name, BeneficiaryExited.name})
REGISTRATION_EVENTS = frozenset({MovementRegistered.name, CoalitionJoined.name, CoalitionLeft.name})


def _cause(integ: Integration, received: ReceivedEvent) -> Causation:
    envelope = received.envelope
    return Causation(integ.policy_actor, correlation_id=envelope.correlationid, causation_id=envelope.id)


def on_screening(integ: Integration) -> BatchHandler:
    async def handle(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        items = [(r.event, r.envelope.occurredat.date(), _cause(integ, r)) for r in batch]
        await intake.screening_batch(integ, conn, items)

    return handle


def on_reinsertion(integ: Integration) -> Handler:
    async def handle(conn: AsyncConnection, received: ReceivedEvent) -> None:
        event = received.event
        cause = _cause(integ, received)
        if isinstance(event, BeneficiaryEnrolled):
            await candidacy.on_reinsertion(integ, conn, event.person_id, True, event.effective_on, cause)
        elif isinstance(event, BeneficiaryExited):
            await candidacy.on_reinsertion(integ, conn, event.person_id, False, event.effective_on, cause)

    return handle


async def on_registration(conn: AsyncConnection, received: ReceivedEvent) -> None:
    event = received.event
    if isinstance(event, MovementRegistered):
        await conn.execute(
            rm.dialect_insert(conn)(movements)
            .values(code=event.code, display_name=event.display_name)
            .on_conflict_do_nothing()
        )
    elif isinstance(event, CoalitionJoined):
        await rm.join_coalition(conn, event.movement, event.coalition, event.since)
    elif isinstance(event, CoalitionLeft):
        await rm.leave_coalition(conn, event.movement, event.coalition, event.until)
