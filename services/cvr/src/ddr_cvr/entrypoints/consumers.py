"""What CVR consumes: the registration topic's people, merges and erasures, and screening's identified
children, handed to the consumer's policies.

An erasure (``PersonalDataErased``) reaches every participant linked to the person, or to a record merged
into theirs: each participant's erasure is recorded and their key shredded in the consumer's transaction (a
failure to shred rolls it back, and the event is consumed again).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.registration import (
    PersonalDataErased,
    PersonMergedInto,
    PersonPreRegistered,
    PersonRegistered,
)
from ddr_contracts.screening import ChildIdentified
from ddr_cvr.domain.persons import possibly_a_child
from ddr_cvr.service_layer.participants import erase_participants
from ddr_cvr.service_layer.registration import Announced, note_registrations
from ddr_runtime.eventstore.ports import AggregateSession, Causation
from ddr_runtime.messaging.consumer import BatchHandler, ReceivedEvent

REGISTRATION_EVENTS = frozenset(
    {
        PersonPreRegistered.name,
        PersonRegistered.name,
        PersonMergedInto.name,
        PersonalDataErased.name,
        ChildIdentified.name,
    }
)
POLICY_ACTOR = "cvr:registration-policy"
ERASURE_ACTOR = "cvr:erasure-policy"

LinkedParticipants = Callable[[AsyncConnection, str], Awaitable[list[str]]]
"""The participants linked to a person, or to any record merged into theirs."""
Shred = Callable[[str], Awaitable[None]]
"""Destroys a subject's key for good (the key service's ``erase``)."""


def announced(received: ReceivedEvent) -> Announced | None:
    event = received.event
    match event:
        case PersonPreRegistered():
            registered_on = received.envelope.occurredat.date()
            child = possibly_a_child(event.birth_year, registered_on)
            return Announced(event.person_id, "PersonPreRegistered", child=child)
        case PersonRegistered():
            return Announced(event.person_id, "PersonRegistered")
        case PersonMergedInto():
            return Announced(event.person_id, "PersonMergedInto", event.into_person_id)
        case ChildIdentified():
            return Announced(event.person_id, "ChildIdentified", child=True)
    return None


def on_registration_events(
    session_on: Callable[[AsyncConnection], AggregateSession], linked: LinkedParticipants, shred: Shred
) -> BatchHandler:
    """The consumer's batch handler: announcements noted, erasures carried out, in the consumer's
    transaction and in the order they came."""

    async def handle(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        pending: list[Announced] = []
        for received in batch:
            if isinstance(received.event, PersonalDataErased):
                if pending:
                    await note_registrations(session_on(conn), pending, Causation(actor=POLICY_ACTOR))
                    pending = []
                await _erase(conn, received.event)
            elif (item := announced(received)) is not None:
                pending.append(item)
        if pending:
            await note_registrations(session_on(conn), pending, Causation(actor=POLICY_ACTOR))

    async def _erase(conn: AsyncConnection, event: PersonalDataErased) -> None:
        participant_ids = await linked(conn, event.person_id)
        if not participant_ids:
            return
        causation = Causation(actor=ERASURE_ACTOR)
        erased = await erase_participants(
            session_on(conn), participant_ids, event.reason_code, event.person_id, causation
        )
        for participant_id in erased:
            await shred(participant_id)

    return handle
