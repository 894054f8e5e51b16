"""The consumer's policy on the registration topic: what CVR learns from it, recorded as CVR's own events.

Registration announces people (pre-registered, registered) and merges of duplicate records. CVR keeps only
the person id and where it was merged into, as events of a stream per person in its own store, recorded in
the consumer's transaction (with the consumed events' ids in the inbox): linking an ex-combatant participant
is then decided on CVR's history alone, a rebuild of CVR's read model needs nothing from another service,
and an audit of a link sees what CVR knew when it linked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ddr_cvr.domain.persons import RegisteredPerson, registered_person_stream
from ddr_runtime.eventstore.ports import AggregateSession, Causation
from ddr_runtime.kernel import Aggregate


@dataclass(frozen=True)
class Announced:
    """Registration announced ``person_id`` (``merged_into``: its record was merged into that person's;
    ``child``: the person is, or may be, a child), or screening identified them as a child."""

    person_id: str
    source: Literal["PersonPreRegistered", "PersonRegistered", "PersonMergedInto", "ChildIdentified"]
    merged_into: str | None = None
    child: bool = False


async def note_registrations(
    session: AggregateSession, announced: Sequence[Announced], causation: Causation
) -> int:
    """Note a batch of announcements in one append; how many events it recorded (repeats record nothing)."""
    streams = {registered_person_stream(a.person_id): a.person_id for a in announced}
    people = await session.load_many(list(streams), RegisteredPerson)
    for item in announced:
        person = people[registered_person_stream(item.person_id)]
        if item.source == "PersonMergedInto" and item.merged_into is not None:
            person.note_merge(item.person_id, item.merged_into)
        elif item.source == "ChildIdentified":
            person.note_child(item.person_id, item.source)
        elif item.source != "PersonMergedInto":
            person.note_registration(item.person_id, item.source)
            if item.child and item.source == "PersonPreRegistered":
                person.note_child(item.person_id, item.source)
    changed: list[tuple[Aggregate[Any], str, str]] = [
        (person, stream, streams[stream]) for stream, person in people.items() if person.pending
    ]
    recorded = sum(len(person.pending) for person, _, _ in changed)
    await session.save_many(changed, causation)
    return recorded
