"""How the service reacts to screening and integration: each fact it learns becomes an event of its own
history, in the person's beneficiary stream, with the business time the other service gave it.

Who waits for enrolment, who leaves, whose benefits are held, who is active in integration (and so may draw
nothing here): all of it is then decided from this service's own events, and a rebuild of the read model
from its own store reproduces it. Each handler runs inside the consumer's transaction, with the inbox rows:
a redelivered event changes nothing.

Across the two topics there is no order: the integration standing is a fact as last heard, and enrolment and
every disbursement read it, so a payment may slip through in the window between integration accepting
someone and its event arriving here (see docs/reinsertion.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from ddr_contracts.integration import CandidateAccepted, CandidateWithdrawn, ServiceStatusChanged
from ddr_contracts.screening import BenefitsHeld, BenefitsReleased, ScreeningOutcomeDecided
from ddr_reinsertion.domain.events import (
    BenefitsHoldNoted,
    BenefitsReleaseNoted,
    IntegrationStatusNoted,
    ScreeningOutcomeNoted,
)
from ddr_reinsertion.service_layer.desk import Desk, Touched
from ddr_runtime.eventstore.ports import AggregateSession, Causation

Heard = tuple[Any, datetime]
"""Another service's contract event and the business time it gave it."""

SCREENING_EVENTS = frozenset(e.name for e in (ScreeningOutcomeDecided, BenefitsHeld, BenefitsReleased))
INTEGRATION_EVENTS = frozenset(e.name for e in (CandidateAccepted, CandidateWithdrawn, ServiceStatusChanged))


def _integration_standing(
    event: CandidateAccepted | CandidateWithdrawn | ServiceStatusChanged,
) -> IntegrationStatusNoted:
    if isinstance(event, CandidateAccepted):
        return IntegrationStatusNoted(event.person_id, "accepted", False, event.effective_on)
    if isinstance(event, CandidateWithdrawn):
        return IntegrationStatusNoted(event.person_id, "withdrawn", False, event.effective_on)
    if event.status == "discharged":
        return IntegrationStatusNoted(
            event.person_id, "discharged", event.referred_to_reinsertion, event.effective_on
        )
    return IntegrationStatusNoted(event.person_id, "serving", False, event.effective_on)


class Policies:
    def __init__(self, desk: Desk) -> None:
        self.desk = desk

    async def note(self, session: AggregateSession, batch: Sequence[Heard], source: str) -> None:
        """The batch's facts in order, each on its person; all of them saved in one append, in the
        consumer's transaction (``session``)."""
        touched = Touched(self.desk, session)
        await touched.load_people([event.person_id for event, _ in batch if hasattr(event, "person_id")])
        for event, at in batch:
            await self._apply(touched, event, at)
        await touched.save(Causation(actor=f"policy:{source}"))

    @staticmethod
    async def _apply(touched: Touched, event: Any, at: datetime) -> None:
        if isinstance(event, ScreeningOutcomeDecided):
            person = await touched.person(event.person_id)
            noted = ScreeningOutcomeNoted(
                event.person_id, event.decision_id, event.track, event.region, event.sex, event.category,
                event.movement, event.rank,
            )  # fmt: skip
            await touched.release(person.note_screening(noted, at), person)
        elif isinstance(event, BenefitsHeld | BenefitsReleased):
            person = await touched.person(event.person_id)
            kind = BenefitsHoldNoted if isinstance(event, BenefitsHeld) else BenefitsReleaseNoted
            person.note_hold(kind(event.person_id, event.decision_id, event.reason_code), at)
        elif isinstance(event, CandidateAccepted | CandidateWithdrawn | ServiceStatusChanged):
            person = await touched.person(event.person_id)
            person.note_integration(_integration_standing(event), at)
