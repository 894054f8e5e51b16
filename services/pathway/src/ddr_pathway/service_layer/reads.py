"""Every read of a person's path is itself recorded, granted or refused, in two forms committed together.

- A ``PathRead`` event on the stream ``path-reads:<person>`` of pathway's own store: what was decided and
  why (outcome, view, reason code, read-model generation), hash-chained and covered by the store's signed
  checkpoints and handover bundles like every other event.
- A row of the runtime's read ledger (``GET /reads/{person_id}``, the one query auditors make on every
  service): who, which route, the purpose, shown or not visible.

Both are written in one transaction, so the two never disagree: a read is in both or in neither (and then
the request fails, as nothing may be shown unrecorded). Concurrent reads share that transaction (group commit,
``ddr_runtime.audit.reads.GroupCommit``): each waits for the commit holding its record, so under load one flush
to disk records many reads instead of one each.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from functools import partial
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.pathway import PathRead
from ddr_pathway.service_layer.access import Decision
from ddr_runtime.audit.reads import GroupCommit, ReadLedger, ReadOutcome, ReadRecorder
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


@dataclass(frozen=True)
class _Record:
    """One read to record: its ``PathRead`` event, on whose behalf, and the ledger's rows."""

    stream: str
    event: PathRead
    causation: Causation
    rows: list[dict[str, Any]]


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
    """Record a read: its :class:`PathRead` and the ledger's row, committed together (group commit: the reads
    arriving while a transaction is being written go together in the next one), before this returns.
    ``child``: whether the path read is a child's (None only for a read refused before the path was looked
    up), for the ledger's child rule."""
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
    rows = ledger.rows(
        [person_id],
        LEDGER_OUTCOME[decision.outcome],
        children=None if child is None else [person_id] if child else [],
    )
    await _committer(store, ledger.ledger).submit(_Record(reads_stream(person_id), event, causation, rows))


_committers: WeakKeyDictionary[EventStore, GroupCommit[_Record]] = WeakKeyDictionary()


def _committer(store: EventStore, ledger: ReadLedger) -> GroupCommit[_Record]:
    committer = _committers.get(store)
    if committer is None:
        committer = GroupCommit(partial(_write, store, ledger))
        _committers[store] = committer
    return committer


def commit_counts(store: EventStore) -> tuple[int, int]:
    """(transactions, reads recorded) of this process's group commit into ``store``: reads per commit."""
    committer = _committers.get(store)
    return (0, 0) if committer is None else (committer.flushes, committer.written)


async def _write(store: EventStore, ledger: ReadLedger, records: list[_Record]) -> None:
    """Every record of a batch in one transaction: one ``append_many`` per reader (a causation names the
    reader), each read stream after its version, and one insert of every ledger row. A stale remembered
    version (another process appended) fails the batch on the stream's unique key: versions are read again
    and the batch retried, so no record is lost or overwritten."""
    by_causation: dict[Causation, dict[str, list[NewEvent]]] = {}
    for record in records:
        streams = by_causation.setdefault(record.causation, {})
        streams.setdefault(record.stream, []).append(NewEvent(record.event, READS_SUBJECT))
    rows = [row for record in records for row in record.rows]
    wanted = list(dict.fromkeys(record.stream for record in records))
    for attempt in range(ATTEMPTS):
        try:
            async with store.engine.begin() as conn:
                unknown = [stream for stream in wanted if stream not in _versions]
                versions = {stream: _versions[stream] for stream in wanted if stream in _versions}
                if unknown:
                    found = await store.stream_versions(unknown, conn=conn)
                    versions.update({stream: found.get(stream, 0) for stream in unknown})
                for causation, streams in by_causation.items():
                    await store.append_many(
                        [(stream, versions[stream], events) for stream, events in streams.items()],
                        causation,
                        conn=conn,
                    )
                    for stream, events in streams.items():
                        versions[stream] += len(events)
                await ledger.insert(rows, conn=conn)
        except ConcurrencyConflict:
            for stream in wanted:
                _versions.pop(stream, None)  # another writer got there first: read them again
            if attempt == ATTEMPTS - 1:
                raise
            continue
        for stream in wanted:
            _versions[stream] = versions[stream]
            _versions.move_to_end(stream)
        while len(_versions) > VERSION_CACHE_SIZE:
            _versions.popitem(last=False)
        return


VERSION_CACHE_SIZE = 100_000
_versions: OrderedDict[str, int] = OrderedDict()
"""Last known version of recently read persons' read streams: saves a look-up per read. A stale entry
(another process appended) costs one conflict and a re-read, never a lost or overwritten record."""


async def reads_of(
    store: EventStore, person_id: str, *, after: int = 0, conn: AsyncConnection | None = None
) -> list[RecordedEvent]:
    """The reads of ``person_id``'s path after the first ``after`` of them, oldest first."""
    return await store.read_stream(reads_stream(person_id), after=after, conn=conn)
