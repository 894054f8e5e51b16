"""Every read of a person's path is itself recorded, granted or refused, in two forms committed together.

- A ``PathRead`` event on the stream ``path-reads:<person>`` of pathway's own store: what was decided and
  why (outcome, view, reason code, read-model generation), hash-chained and covered by the store's signed
  checkpoints and handover bundles like every other event.
- A row of the runtime's read ledger (``GET /reads/{person_id}``, the one query auditors make on every
  service): who, which route, the purpose, shown or not visible.

Both are written in one transaction, so the two never disagree: a read is in both or in neither (and then
the request fails, as nothing may be shown unrecorded).
"""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.pathway import PathRead
from ddr_pathway.service_layer.access import Decision
from ddr_runtime.audit.reads import ReadOutcome, ReadRecorder
from ddr_runtime.auth.roles import Principal
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent, RecordedEvent

ATTEMPTS = 20
LEDGER_OUTCOME: dict[str, ReadOutcome] = {
    "granted": "shown",
    "refused": "not_visible",
    "not_found": "not_visible",
}
READS_SUBJECT = "pathway:path-reads"
"""One subject (so one Kafka key and one cached subject key) for every read record: they hold no personal
field, and a key per person read would cost a key-store write on every first read of someone."""


def reads_stream(person_id: str) -> str:
    """A stream per person read, so "who read this person's path" is one ordered, hash-chained stream."""
    return f"path-reads:{person_id}"


async def record_read(
    store: EventStore,
    ledger: ReadRecorder,
    principal: Principal,
    person_id: str,
    decision: Decision,
    *,
    generation: int | None,
    child: bool | None,
    correlation_id: str | None = None,
) -> None:
    """Append a :class:`PathRead` and the ledger's row in one transaction; concurrent reads of one person
    retry on the stream's next version. ``child``: whether the path read is a child's (None only for a read
    refused before the path was looked up), for the ledger's child rule."""
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
            async with store.engine.begin() as conn:
                await store.append(stream, version, [NewEvent(event, READS_SUBJECT)], causation, conn=conn)
                await ledger.record(
                    [person_id],
                    LEDGER_OUTCOME[decision.outcome],
                    children=None if child is None else [person_id] if child else [],
                    conn=conn,
                )
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
    store: EventStore, person_id: str, *, after: int = 0, conn: AsyncConnection | None = None
) -> list[RecordedEvent]:
    """The reads of ``person_id``'s path after the first ``after`` of them, oldest first."""
    return await store.read_stream(reads_stream(person_id), after=after, conn=conn)
