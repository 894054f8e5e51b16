"""The unit of work every service's handlers run in, and the blue-green rebuild of a read model, on real
SQLite and real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.rebuild import rebuild_read_model
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent
from ddr_runtime.eventstore.unit import BulkRefused, Saved, Session, UnitOfWork
from ddr_runtime.kernel import Aggregate, BackRecording, RuleViolated
from ddr_testkit.samples import SampleNoteAdded, SamplePersonListed

ACTOR = Causation(actor="officer-1")
LONG_AGO = datetime(2018, 11, 6, 9, 0, tzinfo=UTC)

read_model = MetaData()
people = Table(
    "sample_people",
    read_model,
    Column("person_id", String(36), primary_key=True),
    Column("movement", String(20), nullable=False),
    Column("notes", Integer, nullable=False),
)


class PeopleProjection:
    """A read model derived from the samples: one row per person, counting their notes."""

    async def project(self, conn: AsyncConnection, saved: Sequence[Saved]) -> None:
        for item in saved:
            if isinstance(item.event, SamplePersonListed):
                await conn.execute(
                    people.insert().values(
                        person_id=item.event.person_id, movement=item.event.movement, notes=0
                    )
                )
            elif isinstance(item.event, SampleNoteAdded):
                await conn.execute(
                    update(people)
                    .where(people.c.person_id == item.event.person_id)
                    .values(notes=people.c.notes + 1)
                )


class Person(Aggregate[SamplePersonListed | SampleNoteAdded]):
    def __init__(self) -> None:
        super().__init__()
        self.person_id = ""
        self.notes = 0
        self.listed_at: datetime | None = None

    @classmethod
    def list(cls, person_id: str, at: datetime | None = None) -> Person:
        person = cls()
        person.record(
            SamplePersonListed(person_id=person_id, movement="MNLA", full_name="A", birth_year=1990), at=at
        )
        return person

    def add_note(self, sequence: int, at: datetime | None = None) -> None:
        if sequence <= 0:
            raise RuleViolated("note-sequence-positive", f"note sequence {sequence} is not positive")
        self.record(SampleNoteAdded(person_id=self.person_id, sequence=sequence), at=at)

    def apply(self, event: SamplePersonListed | SampleNoteAdded) -> None:
        if isinstance(event, SamplePersonListed):
            self.person_id = event.person_id
            self.listed_at = self.at
        else:
            self.notes += 1


@pytest.fixture
async def unit(store: EventStore) -> UnitOfWork:
    async with store.engine.begin() as conn:
        await conn.run_sync(read_model.create_all)
    return UnitOfWork(store, projections=[PeopleProjection()])


async def list_people(unit: UnitOfWork, *ids: str) -> None:
    async def work(session: Session) -> None:
        for person_id in ids:
            await session.save(Person.list(person_id, LONG_AGO), f"person-{person_id}", person_id, ACTOR)

    await unit.run(work)


async def rows(unit: UnitOfWork) -> list[tuple[str, str, int]]:
    async with unit.reading() as conn:
        return [tuple(row) for row in (await conn.execute(select(people).order_by(people.c.person_id))).all()]


async def test_a_saved_aggregate_loads_back_with_its_version_and_business_times(unit: UnitOfWork) -> None:
    await list_people(unit, "p1")

    async with unit.transaction() as session:
        person = await session.load("person-p1", Person)

    assert person.version == 1
    assert person.listed_at == LONG_AGO
    assert await rows(unit) == [("p1", "MNLA", 0)]


async def test_a_command_decided_on_a_moved_stream_is_decided_again_on_fresh_state(unit: UnitOfWork) -> None:
    await list_people(unit, "p1")
    async with unit.transaction() as session:
        stale = await session.load("person-p1", Person)
    # Another writer appends after the first attempt read the stream.
    await unit.store.append(
        "person-p1", 1, [NewEvent(SampleNoteAdded(person_id="p1", sequence=9), "p1")], ACTOR
    )
    attempts = 0

    async def add_note(session: Session) -> int:
        nonlocal attempts
        attempts += 1
        person = stale if attempts == 1 else await session.load("person-p1", Person)
        person.add_note(person.notes + 1)
        return await session.save(person, "person-p1", "p1", ACTOR)

    version = await unit.run(add_note)

    assert attempts == 2
    assert version == 3
    assert [e.version for e in await unit.store.read_stream("person-p1")] == [1, 2, 3]


async def test_a_stale_expected_version_from_the_caller_is_a_conflict_and_writes_nothing(
    unit: UnitOfWork,
) -> None:
    await list_people(unit, "p1")
    unit.retries = 0

    async def add_note(session: Session) -> int:
        person = await session.load("person-p1", Person)
        person.add_note(1)
        return await session.save(person, "person-p1", "p1", ACTOR, expected_version=0)

    with pytest.raises(ConcurrencyConflict):
        await unit.run(add_note)

    assert await rows(unit) == [("p1", "MNLA", 0)]


async def note_item(session: Session, item: tuple[str, int]) -> int:
    person_id, sequence = item
    person = await session.load_existing(f"person-{person_id}", Person, "person", person_id)
    person.add_note(sequence)
    return await session.save(person, f"person-{person_id}", person_id, ACTOR)


async def test_a_bulk_command_records_the_valid_items_and_names_each_refused_one(unit: UnitOfWork) -> None:
    await list_people(unit, "p1", "p2")

    outcomes = await unit.run_items([("p1", 1), ("p2", -1), ("p9", 1), ("p2", 2)], note_item)

    assert [(o.index, o.status, o.rule) for o in outcomes] == [
        (0, "recorded", None),
        (1, "refused", "note-sequence-positive"),
        (2, "refused", "unknown-person"),
        (3, "recorded", None),
    ]
    assert outcomes[2].not_found
    assert await rows(unit) == [("p1", "MNLA", 1), ("p2", "MNLA", 1)]


async def test_an_atomic_bulk_command_with_a_refused_item_records_nothing(unit: UnitOfWork) -> None:
    await list_people(unit, "p1", "p2")

    with pytest.raises(BulkRefused) as refused:
        await unit.run_items([("p1", 1), ("p2", -1), ("p2", 2)], note_item, atomic=True)

    assert [(o.index, o.status) for o in refused.value.outcomes] == [
        (0, "recorded"),
        (1, "refused"),
        (2, "recorded"),
    ]
    assert await rows(unit) == [("p1", "MNLA", 0), ("p2", "MNLA", 0)]


async def test_save_many_appends_to_many_existing_and_new_streams_at_once(unit: UnitOfWork) -> None:
    await list_people(unit, "p1", "p2")

    async def work(session: Session) -> None:
        loaded = await session.load_many(["person-p1", "person-p2"], Person)
        for person in loaded.values():
            person.add_note(1)
        items = [(person, stream, person.person_id) for stream, person in loaded.items()]
        await session.save_many([*items, (Person.list("p3"), "person-p3", "p3")], ACTOR)

    await unit.run(work)

    assert await rows(unit) == [("p1", "MNLA", 1), ("p2", "MNLA", 1), ("p3", "MNLA", 0)]
    assert [e.version for e in await unit.store.read_stream("person-p2")] == [1, 2]


async def test_save_many_with_one_stale_stream_writes_nothing(unit: UnitOfWork) -> None:
    await list_people(unit, "p1", "p2")
    stale = Person()
    stale.replay([SamplePersonListed(person_id="p2", movement="MNLA", full_name="B", birth_year=1991)])
    await unit.store.append(
        "person-p2", 1, [NewEvent(SampleNoteAdded(person_id="p2", sequence=5), "p2")], ACTOR
    )

    async def work(session: Session) -> None:
        fresh = await session.load("person-p1", Person)
        fresh.add_note(1)
        stale.add_note(1)
        await session.save_many([(fresh, "person-p1", "p1"), (stale, "person-p2", "p2")], ACTOR)

    unit.retries = 0
    with pytest.raises(ConcurrencyConflict):
        await unit.run(work)

    assert [e.version for e in await unit.store.read_stream("person-p1")] == [1]


async def test_an_event_recorded_after_the_window_keeps_the_authority_in_its_envelope(
    unit: UnitOfWork,
) -> None:
    authority = BackRecording("records_officer", "migrated from the 2018 registers")
    late = Causation(actor="records-1", back_recording=authority, window=timedelta(days=14))

    async def work(session: Session) -> None:
        await session.save(Person.list("p1", LONG_AGO), "person-p1", "p1", late)
        await session.save(Person.list("p2", datetime.now(UTC)), "person-p2", "p2", late)

    await unit.run(work)

    old = (await unit.store.read_stream("person-p1"))[0].envelope
    recent = (await unit.store.read_stream("person-p2"))[0].envelope
    assert (old.backrecordrole, old.backrecordreason) == (
        "records_officer",
        "migrated from the 2018 registers",
    )
    assert old.occurredat == LONG_AGO
    assert (recent.backrecordrole, recent.backrecordreason) == (None, None)
    assert b"backrecord" not in recent.canonical_bytes()


async def test_a_rebuilt_read_model_equals_the_live_one(unit: UnitOfWork) -> None:
    await list_people(unit, "p1", "p2", "p3")
    await unit.run_items([("p1", 1), ("p1", 2), ("p3", 1)], note_item)
    live = await rows(unit)
    async with unit.engine.begin() as conn:  # the live table drifts from the history (a projection bug)
        await conn.execute(update(people).values(notes=99))

    progress = await rebuild_read_model(unit, [people])

    assert progress.swapped
    assert progress.projected == 6
    assert await rows(unit) == live


async def test_a_rebuild_while_commands_run_misses_none_of_them(unit: UnitOfWork) -> None:
    await list_people(unit, *(f"p{i:03}" for i in range(200)))

    async def keep_writing() -> None:
        for i in range(200):
            await unit.run_items([(f"p{i:03}", 1)], note_item)

    writer = asyncio.create_task(keep_writing())
    await rebuild_read_model(unit, [people], page=50)
    await writer

    assert await rows(unit) == [(f"p{i:03}", "MNLA", 1) for i in range(200)]
