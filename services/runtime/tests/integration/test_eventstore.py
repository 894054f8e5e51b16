"""The event store on real SQLite and real PostgreSQL: concurrency, global order, hash chain, erasure."""

from __future__ import annotations

import asyncio
import base64
import random
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text, update

from ddr_contracts.envelope import ENCRYPTED_PREFIX, EventEnvelope, chain_hash
from ddr_runtime.crypto.cipher import PersonalDataCipher
from ddr_runtime.crypto.keystore import NONCE_BYTES, KeyStore
from ddr_runtime.db import is_postgres
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.schema import events, outbox
from ddr_runtime.eventstore.store import START, Causation, EventStore, NewEvent, new_event_ids
from ddr_runtime.eventstore.verify import verify_store
from ddr_runtime.kernel import BackRecording
from ddr_testkit.samples import SampleNoteAdded, SamplePersonListed

ACTOR = Causation(actor="officer-1")


def listed(person: str, name: str = "Mohamed Ag Intalla") -> NewEvent:
    return NewEvent(
        SamplePersonListed(person_id=person, movement="MNLA", full_name=name, birth_year=1990), person
    )


def note(person: str, sequence: int) -> NewEvent:
    return NewEvent(SampleNoteAdded(person_id=person, sequence=sequence), person)


async def test_appended_events_read_back_in_order_with_personal_fields_opened(store: EventStore) -> None:
    await store.append("person-1", 0, [listed("p1"), note("p1", 1)], ACTOR)
    await store.append("person-1", 2, [note("p1", 2)], ACTOR)

    history = await store.read_stream("person-1")

    assert [e.version for e in history] == [1, 2, 3]
    first = history[0].event
    assert isinstance(first, SamplePersonListed)
    assert first.full_name == "Mohamed Ag Intalla"
    assert history[0].envelope.actor == "officer-1"


async def test_personal_fields_are_stored_encrypted(store: EventStore) -> None:
    await store.append("person-1", 0, [listed("p1")], ACTOR)

    async with store.engine.connect() as conn:
        payload = (await conn.execute(select(events.c.payload))).scalar_one()

    assert b"Intalla" not in payload
    assert ENCRYPTED_PREFIX.encode() in payload


async def test_two_writers_at_the_same_expected_version_one_wins_one_conflicts(store: EventStore) -> None:
    await store.append("person-1", 0, [listed("p1")], ACTOR)

    results = await asyncio.gather(
        store.append("person-1", 1, [note("p1", 1)], ACTOR),
        store.append("person-1", 1, [note("p1", 2)], ACTOR),
        return_exceptions=True,
    )

    conflicts = [r for r in results if isinstance(r, ConcurrencyConflict)]
    assert len(conflicts) == 1
    assert len([r for r in results if isinstance(r, list)]) == 1
    assert [e.version for e in await store.read_stream("person-1")] == [1, 2]


async def test_a_stale_expected_version_writes_nothing(store: EventStore) -> None:
    await store.append("person-1", 0, [listed("p1"), note("p1", 1)], ACTOR)

    with pytest.raises(ConcurrencyConflict):
        await store.append("person-1", 1, [note("p1", 9)], ACTOR)

    async with store.engine.connect() as conn:
        assert (await conn.execute(select(outbox.c.id))).all().__len__() == 2
    assert len(await store.read_stream("person-1")) == 2


async def test_every_append_has_its_outbox_entry_in_the_same_commit(store: EventStore) -> None:
    stored = await store.append("person-1", 0, [listed("p1"), note("p1", 1)], ACTOR)

    async with store.engine.connect() as conn:
        ids = set((await conn.execute(select(outbox.c.event_id))).scalars())

    assert ids == {s.envelope.id for s in stored}


async def test_an_outbox_id_is_never_given_again_once_its_row_is_deleted(store: EventStore) -> None:
    """The relay skips ids it is still deleting: a reused id would publish a stream's later events first."""
    await store.append("person-1", 0, [listed("p1"), note("p1", 1)], ACTOR)
    async with store.engine.begin() as conn:
        published = list((await conn.execute(select(outbox.c.id))).scalars())
        await conn.execute(outbox.delete())

    await store.append("person-2", 0, [listed("p2")], ACTOR)

    async with store.engine.connect() as conn:
        fresh = list((await conn.execute(select(outbox.c.id))).scalars())
    assert len(fresh) == 1
    assert fresh[0] > max(published)


async def all_final(store: EventStore) -> bool:
    """No stored event is still above the global reader's horizon (the oldest transaction on the server)."""
    if not is_postgres(store.engine):
        return True
    query = text(
        "SELECT count(*) FROM events WHERE tx_id >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    )
    async with store.engine.connect() as conn:
        return bool((await conn.execute(query)).scalar_one() == 0)


async def test_global_reader_misses_nothing_while_writers_commit_out_of_order(store: EventStore) -> None:
    writers, per_writer = 8, 25
    written: set[str] = set()
    seen: list[str] = []
    done = asyncio.Event()

    async def writer(index: int) -> None:
        for sequence in range(per_writer):
            # Hold each transaction open for a random while, so commits land out of position order.
            async with store.transaction() as conn:
                stored = await store.append(
                    f"w{index}", sequence, [note(f"w{index}", sequence)], ACTOR, conn=conn
                )
                await asyncio.sleep(random.uniform(0, 0.01))
            written.update(s.envelope.id for s in stored)

    async def reader() -> None:
        cursor = START
        while True:
            # Stop only at an empty read made once every write was final (asked before the read, so no write
            # can turn final between an empty read and the check): another session may hold the horizon back.
            final = done.is_set() and await all_final(store)
            batch = await store.read_all(cursor, limit=7)
            for position, stored in batch:
                cursor = position
                seen.append(stored.envelope.id)
            if final and not batch:
                return
            await asyncio.sleep(0.001)

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(writer(i) for i in range(writers)))
    done.set()
    await reading

    assert len(seen) == len(set(seen)), "an event was read twice"
    assert set(seen) == written
    assert len(written) == writers * per_writer


async def test_verify_passes_on_an_untouched_store(store: EventStore) -> None:
    await store.append("person-1", 0, [listed("p1"), note("p1", 1), note("p1", 2)], ACTOR)
    await store.append("person-2", 0, [listed("p2")], ACTOR)

    report = await verify_store(store.engine)

    assert report.ok, report.offences
    assert (report.streams, report.events) == (2, 4)


async def test_verify_names_an_edited_event(store: EventStore) -> None:
    await store.append("person-1", 0, [listed("p1"), note("p1", 1), note("p1", 2)], ACTOR)
    async with store.engine.begin() as conn:
        payload = (
            await conn.execute(select(events.c.payload).where(events.c.stream_version == 2))
        ).scalar_one()
        tampered = payload.replace(b'"sequence":1', b'"sequence":7')
        assert tampered != payload
        await conn.execute(update(events).where(events.c.stream_version == 2).values(payload=tampered))

    report = await verify_store(store.engine)

    assert [(o.stream_id, o.version) for o in report.offences] == [("person-1", 2)]


async def test_verify_names_a_deleted_event(store: EventStore) -> None:
    await store.append("person-1", 0, [listed("p1"), note("p1", 1), note("p1", 2)], ACTOR)
    async with store.engine.begin() as conn:
        await conn.execute(events.delete().where(events.c.stream_version == 2))

    report = await verify_store(store.engine)

    assert report.offences
    assert {(o.stream_id, o.version) for o in report.offences} == {("person-1", 3)}


async def test_verify_names_reordered_events(store: EventStore) -> None:
    await store.append("person-1", 0, [listed("p1"), note("p1", 1), note("p1", 2)], ACTOR)
    async with store.engine.begin() as conn:
        rows = {
            r.stream_version: r.payload
            for r in await conn.execute(select(events.c.stream_version, events.c.payload))
        }
        hashes = {
            r.stream_version: r.hash
            for r in await conn.execute(select(events.c.stream_version, events.c.hash))
        }
        await conn.execute(update(events).where(events.c.stream_version == 2).values(stream_version=-2))
        await conn.execute(
            update(events)
            .where(events.c.stream_version == 3)
            .values(stream_version=2, payload=rows[3], hash=hashes[3])
        )
        await conn.execute(update(events).where(events.c.stream_version == -2).values(stream_version=3))

    report = await verify_store(store.engine)

    assert {(o.stream_id, o.version) for o in report.offences} >= {("person-1", 2), ("person-1", 3)}


async def test_after_erasure_personal_fields_read_as_none_and_verify_still_passes(store: EventStore) -> None:
    await store.append("person-1", 0, [listed("p1")], ACTOR)
    await store.append("person-2", 0, [listed("p2", name="Aminata Traoré")], ACTOR)

    await store.cipher.keystore.erase("p1")

    erased, kept = (
        (await store.read_stream("person-1"))[0].event,
        (await store.read_stream("person-2"))[0].event,
    )
    assert isinstance(erased, SamplePersonListed)
    assert isinstance(kept, SamplePersonListed)
    assert (erased.full_name, erased.birth_year, erased.movement) == (None, None, "MNLA")
    assert kept.full_name == "Aminata Traoré"
    assert (await verify_store(store.engine)).ok


async def test_schema_creation_is_idempotent(store: EventStore) -> None:
    await store.create_schema()
    async with store.engine.connect() as conn:
        assert (await conn.execute(text("select count(*) from events"))).scalar_one() == 0


async def test_many_new_streams_start_in_one_call_and_chain_from_genesis(store: EventStore) -> None:
    chains = await store.append_new_streams(
        [(f"person-{i}", [listed(f"p{i}"), note(f"p{i}", 1)]) for i in range(20)], ACTOR
    )

    assert [len(chain) for chain in chains] == [2] * 20
    assert [e.version for e in await store.read_stream("person-7")] == [1, 2]
    assert (await verify_store(store.engine)).ok


async def test_starting_a_stream_that_exists_conflicts_and_writes_nothing(store: EventStore) -> None:
    await store.append("person-3", 0, [listed("p3")], ACTOR)

    with pytest.raises(ConcurrencyConflict):
        await store.append_new_streams([(f"person-{i}", [listed(f"p{i}")]) for i in range(10)], ACTOR)

    async with store.engine.connect() as conn:
        assert (await conn.execute(text("select count(*) from events"))).scalar_one() == 1


async def test_stored_bytes_are_the_canonical_bytes_of_the_envelope_they_encode(store: EventStore) -> None:
    # The append builds each event's document without pydantic: its bytes must be exactly those of the
    # envelope model, or stores written before would no longer verify beside new ones. A late event (its own
    # time zone, back-recording attributes) and an on-time one, to one stream and to a new one.
    late = Causation(
        actor="records-1",
        correlation_id="corr-1",
        causation_id="cause-1",
        back_recording=BackRecording("records_officer", "migrated from the 2019 registers"),
    )
    occurred = datetime(2019, 3, 4, 5, 6, 7, 120000, tzinfo=timezone(timedelta(hours=-5, minutes=-30)))
    stored = [
        *await store.append("person-1", 0, [listed("p1", name="Aïcha Ould Sidi")], ACTOR),
        *await store.append("person-1", 1, [NewEvent(note("p1", 1).event, "p1", occurred)], late),
        *(await store.append_new_streams([("person-2", [listed("p2"), note("p2", 1)])], ACTOR))[0],
    ]

    async with store.engine.connect() as conn:
        rows = (await conn.execute(select(events.c.payload, events.c.hash).order_by(events.c.position))).all()
    assert [(row.payload, row.hash) for row in rows] == [(s.payload, s.hash) for s in stored]
    for event in stored:
        parsed = EventEnvelope.from_bytes(event.payload)
        assert parsed.canonical_bytes() == event.payload
        assert event.envelope == parsed
        assert event.envelope.canonical_bytes() == event.payload
        assert chain_hash(event.payload) == event.hash
    on_time, back_recorded = stored[0].envelope, stored[1].envelope
    assert (on_time.backrecordrole, b"backrecord" in stored[0].payload) == (None, False)
    assert (back_recorded.occurredat, back_recorded.backrecordrole) == (occurred, "records_officer")
    assert back_recorded.prevhash == stored[0].hash
    assert (await verify_store(store.engine)).ok


async def test_an_append_after_a_rolled_back_one_chains_to_the_committed_tail(store: EventStore) -> None:
    # The store remembers the tail it last wrote; an append in a transaction that then rolls back leaves
    # that memory ahead of the stream, and the next append must still chain to what is committed.
    await store.append("person-1", 0, [listed("p1")], ACTOR)
    async with store.engine.connect() as conn:
        transaction = await conn.begin()
        await store.append("person-1", 1, [note("p1", 1), note("p1", 2)], ACTOR, conn=conn)
        await transaction.rollback()  # the command failed after its append

    with pytest.raises(ConcurrencyConflict):
        await store.append("person-1", 3, [note("p1", 3)], ACTOR)
    await store.append("person-1", 1, [note("p1", 4)], ACTOR)

    recorded = await store.read_stream("person-1")
    assert [(e.version, getattr(e.event, "sequence", None)) for e in recorded] == [(1, None), (2, 4)]
    assert (await verify_store(store.engine)).ok


async def test_a_writer_that_did_not_see_another_stores_append_conflicts_and_writes_nothing(
    store: EventStore,
) -> None:
    # Two processes on one store: each remembers only its own appends.
    other = EventStore(store.engine, store.cipher, store.registry, service=store.service, topic=store.topic)
    await store.append("person-1", 0, [listed("p1")], ACTOR)
    await other.append("person-1", 1, [note("p1", 1)], ACTOR)

    with pytest.raises(ConcurrencyConflict) as conflict:
        await store.append("person-1", 1, [note("p1", 2)], ACTOR)
    await store.append("person-1", 2, [note("p1", 3)], ACTOR)

    if is_postgres(store.engine):
        assert conflict.value.actual == 2
    async with store.engine.connect() as conn:
        assert (await conn.execute(select(outbox.c.id))).all().__len__() == 3
    assert [getattr(e.event, "sequence", None) for e in await store.read_stream("person-1")] == [None, 1, 3]
    assert (await verify_store(store.engine)).ok


async def test_outbox_rows_follow_the_events_order_within_an_append(store: EventStore) -> None:
    stored = await store.append("person-1", 0, [listed("p1"), *[note("p1", i) for i in range(1, 40)]], ACTOR)

    async with store.engine.connect() as conn:
        ids = list((await conn.execute(select(outbox.c.event_id).order_by(outbox.c.id))).scalars())
        order = list((await conn.execute(select(events.c.event_id).order_by(events.c.position))).scalars())

    assert ids == order == [s.envelope.id for s in stored]


def test_new_event_ids_are_distinct_version_4_uuids() -> None:
    ids = new_event_ids(1000)

    assert len(set(ids)) == 1000
    assert all(str(uuid.UUID(i)) == i and uuid.UUID(i).version == 4 for i in ids)
    assert {uuid.UUID(i).variant for i in ids} == {uuid.RFC_4122}


async def test_a_batch_sealed_at_once_uses_a_fresh_nonce_for_every_field(keystore: KeyStore) -> None:
    cipher = PersonalDataCipher(keystore)
    items = [
        (
            f"p{i % 3}",
            {"full_name": "Aminata Traoré", "birth_year": 1990, "movement": "MNLA"},
            ["full_name", "birth_year"],
        )
        for i in range(30)
    ]

    sealed = await cipher.encrypt_many(items)

    tokens = [data[field] for data in sealed for field in ("full_name", "birth_year")]
    raw = [base64.urlsafe_b64decode(token.removeprefix(ENCRYPTED_PREFIX)) for token in tokens]
    assert len({token[:NONCE_BYTES] for token in raw}) == 60
    opened = await cipher.decrypt_many(
        [(subject, data) for (subject, _, _), data in zip(items, sealed, strict=True)]
    )
    assert opened == [data for _, data, _ in items]
