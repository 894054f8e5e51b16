"""What this service consumes from other services' topics, turned into the facts its policies take.

- screening: outcomes (a person's track), holds on benefits and their release;
- reinsertion: enrolments and exits (nobody is active in both tracks);
- registration: movements joining and leaving coalitions (the party a member counts for in the rule of thirds).

Each batch is handled in the consumer's transaction (effects and inbox rows commit together). The events a
batch records carry one correlation id; the upstream event that caused them is named by its id when the
batch holds one event, and otherwise by the decision ids the events carry in their data.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.registration import CoalitionJoined, CoalitionLeft
from ddr_contracts.reinsertion import BeneficiaryEnrolled, BeneficiaryExited
from ddr_contracts.screening import BenefitsHeld, BenefitsReleased, ScreeningOutcomeDecided
from ddr_integration.domain.candidates import Outcome
from ddr_integration.service_layer import policies
from ddr_integration.service_layer.context import POLICY_ACTOR
from ddr_runtime.eventstore.ports import Causation
from ddr_runtime.eventstore.unit import Session, UnitOfWork
from ddr_runtime.kernel import start_of_day
from ddr_runtime.messaging.consumer import ReceivedEvent

SCREENING_EVENTS = frozenset({ScreeningOutcomeDecided.name, BenefitsHeld.name, BenefitsReleased.name})
REINSERTION_EVENTS = frozenset({BeneficiaryEnrolled.name, BeneficiaryExited.name})
REGISTRATION_EVENTS = frozenset({CoalitionJoined.name, CoalitionLeft.name})


def _causation(batch: Sequence[ReceivedEvent]) -> Causation:
    if len(batch) == 1:
        envelope = batch[0].envelope
        return Causation(POLICY_ACTOR, correlation_id=envelope.correlationid, causation_id=envelope.id)
    return Causation(POLICY_ACTOR, correlation_id=str(uuid.uuid4()))


def person_fact(received: ReceivedEvent) -> policies.PersonFact | None:
    event, at = received.event, received.envelope.occurredat
    if isinstance(event, ScreeningOutcomeDecided):
        outcome = Outcome(
            event.decision_id, event.track, event.movement, event.category, event.rank, event.region
        )
        return policies.ScreeningDecided(event.person_id, outcome, at)
    if isinstance(event, BenefitsHeld | BenefitsReleased):
        held = isinstance(event, BenefitsHeld)
        return policies.HoldChanged(event.person_id, event.decision_id, event.reason_code, held, at)
    if isinstance(event, BeneficiaryEnrolled | BeneficiaryExited):
        enrolled = isinstance(event, BeneficiaryEnrolled)
        on = event.effective_on  # the day it holds from is the business time, whenever it was recorded
        when = at if at.date() == on else start_of_day(on)
        return policies.ReinsertionChanged(event.person_id, enrolled, on, when)
    return None


def coalition_change(received: ReceivedEvent) -> policies.CoalitionChanged | None:
    event, at = received.event, received.envelope.occurredat
    if isinstance(event, CoalitionJoined):
        return policies.CoalitionChanged(event.movement, event.coalition, True, event.since, at)
    if isinstance(event, CoalitionLeft):
        return policies.CoalitionChanged(event.movement, event.coalition, False, event.until, at)
    return None


@dataclass(frozen=True)
class Subscribers:
    """The consumers' batch handlers, over the service's unit of work."""

    unit: UnitOfWork

    async def on_people(self, conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        """Screening's and reinsertion's facts about people."""
        facts = [fact for received in batch if (fact := person_fact(received)) is not None]
        if facts:
            await policies.learn(Session(self.unit, conn), facts, _causation(batch))

    async def on_registration(self, conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        changes = [change for received in batch if (change := coalition_change(received)) is not None]
        if changes:
            await policies.note_coalitions(Session(self.unit, conn), changes, _causation(batch))
