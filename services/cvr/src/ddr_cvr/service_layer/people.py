"""Who exists in registration, as far as CVR needs to know: person ids and their merges, nothing else.

Fed by the registration topic (``PersonPreRegistered``, ``PersonRegistered``, ``PersonMergedInto``); an
ex-combatant participant may be linked only to a person found here, following merges to the survivor.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.registration import PersonMergedInto, PersonPreRegistered, PersonRegistered
from ddr_cvr.adapters.tables import known_persons
from ddr_cvr.domain.errors import RuleViolated, UnknownRecord
from ddr_runtime.messaging.consumer import ReceivedEvent

REGISTRATION_EVENTS = frozenset({PersonPreRegistered.name, PersonRegistered.name, PersonMergedInto.name})
MAX_MERGE_HOPS = 20


async def on_registration_event(conn: AsyncConnection, received: ReceivedEvent) -> None:
    """Consumer handler: record the person (idempotent), or where they were merged into."""
    event = received.event
    dialect_insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    match event:
        case PersonPreRegistered() | PersonRegistered():
            await conn.execute(
                dialect_insert(known_persons).values(person_id=event.person_id).on_conflict_do_nothing()
            )
        case PersonMergedInto():
            statement = dialect_insert(known_persons).values(
                person_id=event.person_id, merged_into=event.into_person_id
            )
            await conn.execute(
                statement.on_conflict_do_update(
                    index_elements=[known_persons.c.person_id], set_={"merged_into": event.into_person_id}
                )
            )


async def resolve_person(conn: AsyncConnection, person_id: str) -> str:
    """The registered person now standing for ``person_id`` (itself, or the survivor of its merges)."""
    current = person_id
    for _ in range(MAX_MERGE_HOPS):
        row = (
            await conn.execute(
                select(known_persons.c.merged_into).where(known_persons.c.person_id == current)
            )
        ).one_or_none()
        if row is None:
            raise UnknownRecord("person", person_id)
        if row.merged_into is None:
            return current
        current = row.merged_into
    raise RuleViolated("merge-chain", "the person's merges do not end in a surviving record")
