"""What CVR consumes: the registration topic's people and merges, handed to the consumer's policy."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.registration import PersonMergedInto, PersonPreRegistered, PersonRegistered
from ddr_cvr.service_layer.registration import Announced, note_registrations
from ddr_runtime.eventstore.ports import AggregateSession, Causation
from ddr_runtime.messaging.consumer import BatchHandler, ReceivedEvent

REGISTRATION_EVENTS = frozenset({PersonPreRegistered.name, PersonRegistered.name, PersonMergedInto.name})
POLICY_ACTOR = "cvr:registration-policy"


def announced(received: ReceivedEvent) -> Announced | None:
    match received.event:
        case PersonPreRegistered():
            return Announced(received.event.person_id, "PersonPreRegistered")
        case PersonRegistered():
            return Announced(received.event.person_id, "PersonRegistered")
        case PersonMergedInto():
            return Announced(received.event.person_id, "PersonMergedInto", received.event.into_person_id)
    return None


def on_registration_events(session_on: Callable[[AsyncConnection], AggregateSession]) -> BatchHandler:
    """The consumer's batch handler: the batch's announcements noted in the consumer's transaction."""

    async def handle(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        items = [item for item in map(announced, batch) if item is not None]
        if items:
            await note_registrations(session_on(conn), items, Causation(actor=POLICY_ACTOR))

    return handle
