"""Every read of a person's path is itself recorded, granted or refused, in pathway's own event store."""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.pathway import PathRead
from ddr_pathway.service_layer.access import Decision
from ddr_runtime.auth.roles import Principal
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent, RecordedEvent

ATTEMPTS = 20
READS_SUBJECT = "pathway:path-reads"
"""One subject (so one Kafka key and one cached subject key) for every read record: they hold no personal
field, and a key per person read would cost a key-store write on every first read of someone."""


def reads_stream(person_id: str) -> str:
    """A stream per person read, so "who read this person's path" is one ordered, hash-chained stream."""
    return f"path-reads:{person_id}"


async def record_read(
    store: EventStore,
    principal: Principal,
    person_id: str,
    decision: Decision,
    *,
    generation: int | None,
    correlation_id: str | None = None,
) -> None:
    """Append a :class:`PathRead`; concurrent reads of one person retry on the stream's next version."""
    stream = reads_stream(person_id)
    event = PathRead(
        person_id=person_id,
        viewer=principal.subject,
        viewer_roles=tuple(sorted(principal.roles)),
        viewer_movement=principal.movement,
        outcome=decision.outcome,
        view=decision.view,
        reason_code=decision.reason_code,
        read_model_generation=generation,
    )
    causation = (
        Causation(principal.subject)
        if correlation_id is None
        else Causation(principal.subject, correlation_id)
    )
    version = _versions.get(stream)
    for attempt in range(ATTEMPTS):
        if version is None:
            version = await store.stream_version(stream)
        try:
            await store.append(stream, version, [NewEvent(event, READS_SUBJECT)], causation)
        except ConcurrencyConflict:
            if attempt == ATTEMPTS - 1:
                raise
            version = None  # another read got there first: read the stream's version again
            continue
        _versions[stream] = version + 1
        _versions.move_to_end(stream)
        while len(_versions) > VERSION_CACHE_SIZE:
            _versions.popitem(last=False)
        return


VERSION_CACHE_SIZE = 100_000
_versions: OrderedDict[str, int] = OrderedDict()
"""Last known version of recently read persons' read streams: saves a round trip per read. A stale entry
(another process appended) costs one conflict and a re-read, never a lost or overwritten record."""


async def reads_of(
    store: EventStore, person_id: str, *, conn: AsyncConnection | None = None
) -> list[RecordedEvent]:
    return await store.read_stream(reads_stream(person_id), conn=conn)
