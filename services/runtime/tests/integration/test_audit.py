"""The operator's audit against real stores (SQLite and PostgreSQL) and a real Kafka broker.

Each test builds a small platform: several services' stores populated through the runtime's own EventStore and
outbox relay (the same bytes, hash chains and topics a running service produces), each service signing its own
store's checkpoints onto the checkpoints topic.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, text, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from ddr_contracts.envelope import canonical_bytes, chain_hash
from ddr_contracts.events import DomainEvent
from ddr_contracts.wire import HASH_HEADER
from ddr_runtime.audit.bundle import export_bundle, verify_bundle
from ddr_runtime.audit.checkpoints import TakenCheckpoint
from ddr_runtime.audit.consistency import check_extends, store_leaves, stores_leaves
from ddr_runtime.audit.merkle import root_of
from ddr_runtime.audit.platform import AuditReport, Offence, Platform, check_chains, verify_platform
from ddr_runtime.audit.signing import SignedCheckpoint, load_public_key, public_pem
from ddr_runtime.cli.audit import audit_app
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.schema import events as events_table
from ddr_runtime.eventstore.schema import outbox
from ddr_runtime.eventstore.store import Causation, NewEvent, StoredEvent
from ddr_runtime.service import ServiceRuntime, build_runtime
from ddr_testkit.samples import SAMPLES, SampleNoteAdded, SamplePersonListed
from ddr_testkit.upstream import create_namespace_topics, new_namespace

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

SERVICES = ("registration", "screening", "integration")
PERSONS = 8


class Service:
    """One service's real store, key store, outbox, relay and checkpointer, publishing to the test's namespace."""

    def __init__(self, name: str, settings: Settings, url: str) -> None:
        self.name = name
        self.runtime: ServiceRuntime = build_runtime(
            name, SAMPLES, settings.model_copy(update={"service_name": name, "database_url": url})
        )

    @property
    def url(self) -> str:
        return self.runtime.settings.store_url()

    @property
    def topic(self) -> str:
        return self.runtime.settings.events_topic(self.name)

    async def start(self) -> None:
        await self.runtime.keystore.create_schema()
        await self.runtime.store.create_schema()
        await self.runtime.checkpointer.create_schema()
        await self.runtime.broker.start()

    async def stop(self) -> None:
        await self.runtime.broker.stop()
        await self.runtime.engine.dispose()
        await self.runtime.keys_engine.dispose()

    async def emit(
        self, stream: str, *events: DomainEvent, subject: str, publish: bool = True
    ) -> list[StoredEvent]:
        store = self.runtime.store
        version = await store.stream_version(stream)
        stored = await store.append(stream, version, [NewEvent(e, subject) for e in events], Causation("t"))
        if publish:
            await self.runtime.relay.drain()
        await self.settled()
        return stored

    async def settled(self) -> None:
        """Return once every stored event is final in the global order the audit reads: on PostgreSQL, below
        the oldest transaction running on the server, which another session may hold back a while."""
        if not self.url.startswith("postgresql"):
            return
        query = text(
            "SELECT count(*) FILTER (WHERE tx_id >= pg_snapshot_xmin(pg_current_snapshot())::text::bigint)"
            " FROM events"
        )
        for _ in range(1200):
            async with self.runtime.engine.connect() as conn:
                if (await conn.execute(query)).scalar_one() == 0:
                    return
            await asyncio.sleep(0.1)
        raise AssertionError(f"{self.name}: events still in flight after two minutes")

    async def checkpoint(self) -> TakenCheckpoint:
        return await self.runtime.checkpointer.take()


@dataclass
class World:
    settings: Settings
    services: dict[str, Service]
    persons: list[str] = field(default_factory=list)

    def __getitem__(self, name: str) -> Service:
        return self.services[name]

    @property
    def stores(self) -> dict[str, str]:
        return {name: s.url for name, s in self.services.items()}

    @property
    def platform(self) -> Platform:
        return Platform.from_settings(self.settings, self.stores)


@pytest.fixture(params=["sqlite", "postgres"])
async def world(
    request: pytest.FixtureRequest, tmp_path: Path, kafka_bootstrap_servers: str
) -> AsyncIterator[World]:
    namespace = new_namespace()
    create_namespace_topics(kafka_bootstrap_servers, namespace)
    settings = Settings(
        service_name="audit",
        var_dir=tmp_path / "var",
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_namespace=namespace,
    )
    urls: dict[str, str] = {}
    for name in SERVICES:
        if request.param == "sqlite":
            urls[name] = f"sqlite+aiosqlite:///{tmp_path / 'stores' / f'{name}.sqlite'}"
        else:
            make: Callable[[], Awaitable[str]] = request.getfixturevalue("make_postgres_database")
            urls[name] = await make()
    (tmp_path / "stores").mkdir()
    services = {name: Service(name, settings, url) for name, url in urls.items()}
    for service in services.values():
        await service.start()
    world = World(settings, services)
    try:
        await populate(world)
        yield world
    finally:
        for service in services.values():
            await service.stop()


async def populate(world: World) -> None:
    """Each person listed (personal fields sealed) and noted in two other services; then published."""
    for i in range(PERSONS):
        person = str(uuid.uuid4())
        world.persons.append(person)
        listed = SamplePersonListed(
            person_id=person,
            movement="MNLA" if i % 2 else "GATIA",
            full_name="Ibrahim Ag Assaleh",
            birth_year=1988,
        )
        await world["registration"].emit(
            f"person-{person}", listed, note(person, 1), subject=person, publish=False
        )
        await world["screening"].emit(f"case-{person}", note(person, 1), subject=person, publish=False)
        await world["integration"].emit(f"candidate-{person}", note(person, 1), subject=person, publish=False)
    for service in world.services.values():
        await service.runtime.relay.drain()


def note(person: str, sequence: int) -> SampleNoteAdded:
    return SampleNoteAdded(person_id=person, sequence=sequence, note="Kidal")


def offences(report: AuditReport, kind: str) -> list[Offence]:
    return [o for o in report.offences if o.kind == kind]


async def produce(world: World, topic: str, key: bytes, value: bytes, digest: str | None = None) -> None:
    """Write straight to a topic, as an intruder with broker access would."""
    producer = AIOKafkaProducer(bootstrap_servers=world.settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        headers = [(HASH_HEADER, (digest or chain_hash(value)).encode())]
        await producer.send_and_wait(topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


async def stored_row(service: Service, stream: str, version: int) -> tuple[str, bytes]:
    async with service.runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                select(events_table.c.event_id, events_table.c.payload).where(
                    events_table.c.stream_id == stream, events_table.c.stream_version == version
                )
            )
        ).one()
    return row.event_id, row.payload


# -- stores and topics ------------------------------------------------------------------------------------


async def test_a_clean_platform_verifies(world: World) -> None:
    report = await verify_platform(world.platform)

    assert report.ok, [str(o) for o in report.offences]
    by_service = {s.service: s for s in report.services}
    assert by_service["registration"].events == 2 * PERSONS
    assert by_service["registration"].topic_messages == 2 * PERSONS
    assert by_service["screening"].streams == PERSONS


async def test_a_stream_carrying_several_subjects_verifies_across_partitions(world: World) -> None:
    """A unit's stream holds its members' service records: each event is keyed by its member, so the
    stream's events land on several partitions and only each subject's own order is Kafka's to keep."""
    for member in world.persons[:6]:
        await world["integration"].emit("unit-BATFAR-Gao", note(member, 2), subject=member)

    report = await verify_platform(world.platform)

    assert report.ok, [str(o) for o in report.offences]


async def test_verify_names_an_event_altered_in_a_store(world: World) -> None:
    person = world.persons[3]
    event_id, payload = await stored_row(world["registration"], f"person-{person}", 1)
    forged = payload.replace(b'"movement":"MNLA"', b'"movement":"GATIA"')
    assert forged != payload
    async with world["registration"].runtime.engine.begin() as conn:
        await conn.execute(
            update(events_table).where(events_table.c.event_id == event_id).values(payload=forged)
        )

    report = await verify_platform(world.platform)

    in_store = [o for o in offences(report, "altered") if o.where is None]
    assert [(o.service, o.stream_id, o.version, o.event_id) for o in in_store] == [
        ("registration", f"person-{person}", 1, event_id)
    ]
    assert len(report.offences) == 1  # the topic still holds the original bytes, matching the stored hash


@pytest.mark.parametrize("workers", [1, 3])
async def test_the_store_check_split_over_processes_finds_what_one_finds(world: World, workers: int) -> None:
    """``ddr audit verify`` without Kafka checks a large PostgreSQL store in one process per core, each over
    its share of the streams: an altered event and a removed one are named just as one reader names them."""
    registration = world["registration"]
    altered, removed = world.persons[2], world.persons[5]
    event_id, payload = await stored_row(registration, f"person-{altered}", 2)
    async with registration.runtime.engine.begin() as conn:
        await conn.execute(
            update(events_table)
            .where(events_table.c.event_id == event_id)
            .values(payload=payload.replace(b'"actor":"', b'"actor":"forged-'))
        )
        await conn.execute(
            delete(events_table).where(
                events_table.c.stream_id == f"person-{removed}", events_table.c.stream_version == 1
            )
        )

    result = await check_chains("registration", registration.url, workers=workers)

    assert result.events == 2 * PERSONS - 1
    assert result.streams == PERSONS
    assert sorted((o.kind, o.stream_id, o.version) for o in result.offences) == [
        ("altered", f"person-{altered}", 2),
        ("chain", f"person-{removed}", 2),  # its version does not follow the last one read
        ("chain", f"person-{removed}", 2),  # nor does it chain to that one's hash
    ]


async def test_verify_names_an_event_missing_from_its_topic(world: World) -> None:
    person = world.persons[0]
    registration = world["registration"]
    [lost] = await registration.emit(f"person-{person}", note(person, 2), subject=person, publish=False)
    async with registration.runtime.engine.begin() as conn:  # the relay "lost" it
        await conn.execute(delete(outbox).where(outbox.c.event_id == lost.envelope.id))

    report = await verify_platform(world.platform)

    missing = offences(report, "missing")
    assert [(o.service, o.stream_id, o.version, o.event_id) for o in missing] == [
        ("registration", f"person-{person}", 3, lost.envelope.id)
    ]
    assert len(report.offences) == 1


async def test_an_event_not_yet_relayed_is_pending_not_missing(world: World) -> None:
    person = world.persons[1]
    await world["registration"].emit(f"person-{person}", note(person, 2), subject=person, publish=False)

    report = await verify_platform(world.platform)

    assert report.ok, [str(o) for o in report.offences]
    assert {s.service: s.pending for s in report.services}["registration"] == 1


async def test_verify_names_an_event_injected_into_a_topic(world: World) -> None:
    person = world.persons[2]
    stored = await world["registration"].runtime.store.read_stream(f"person-{person}")
    genuine = stored[0].envelope.model_dump(mode="json")
    forged = canonical_bytes({**genuine, "id": str(uuid.uuid4()), "actor": "intruder"})
    await produce(world, world["registration"].topic, person.encode(), forged)

    report = await verify_platform(world.platform)

    [injected] = offences(report, "injected")
    assert (injected.service, injected.event_id) == ("registration", orjson.loads(forged)["id"])
    assert injected.where is not None
    assert injected.where.startswith(world["registration"].topic)
    assert len(report.offences) == 1


async def test_verify_names_a_stored_event_republished_with_other_bytes(world: World) -> None:
    person = world.persons[4]
    [first, _] = await world["registration"].runtime.store.read_stream(f"person-{person}")
    document = first.envelope.model_dump(mode="json")
    document["data"]["movement"] = "CPA"
    await produce(world, world["registration"].topic, person.encode(), canonical_bytes(document))

    report = await verify_platform(world.platform)

    [altered] = offences(report, "altered")
    assert (altered.event_id, altered.version) == (first.envelope.id, 1)
    assert altered.where is not None


async def test_verify_names_events_published_out_of_order(world: World) -> None:
    person = world.persons[5]
    registration = world["registration"]
    stored = await registration.emit(
        f"person-{person}", note(person, 2), note(person, 3), subject=person, publish=False
    )
    async with registration.runtime.engine.begin() as conn:
        await conn.execute(delete(outbox).where(outbox.c.event_id.in_([s.envelope.id for s in stored])))
    for event in reversed(stored):  # version 4 before version 3
        await produce(world, registration.topic, person.encode(), event.payload, event.hash)

    report = await verify_platform(world.platform)

    [late] = offences(report, "out-of-order")
    assert (late.stream_id, late.version, late.event_id) == (f"person-{person}", 3, stored[0].envelope.id)


async def test_identical_redeliveries_are_counted_not_reported(world: World) -> None:
    person = world.persons[6]
    [first, _] = await world["registration"].runtime.store.read_stream(f"person-{person}")
    async with world["registration"].runtime.engine.connect() as conn:
        payload, digest = (
            await conn.execute(
                select(events_table.c.payload, events_table.c.hash).where(
                    events_table.c.event_id == first.envelope.id
                )
            )
        ).one()
    await produce(world, world["registration"].topic, person.encode(), payload, digest)

    report = await verify_platform(world.platform)

    assert report.ok, [str(o) for o in report.offences]
    assert {s.service: s.duplicates for s in report.services}["registration"] == 1


# -- each store against the checkpoints its service signed ------------------------------------------------


async def test_each_store_is_checked_against_the_checkpoints_its_service_published(world: World) -> None:
    for service in world.services.values():
        await service.checkpoint()
    person = world.persons[0]
    await world["registration"].emit(f"person-{person}", note(person, 2), subject=person)
    await world["registration"].checkpoint()

    report = await verify_platform(world.platform)

    assert report.ok, [str(o) for o in report.offences]
    summary = {s.service: (s.checkpoints, s.checkpointed) for s in report.services}
    assert summary == {
        "registration": (2, 2 * PERSONS + 1),
        "screening": (1, PERSONS),
        "integration": (1, PERSONS),
    }


async def test_a_history_rewritten_after_its_checkpoint_is_named_against_it(world: World) -> None:
    screening = world["screening"]
    await screening.checkpoint()
    person = world.persons[7]
    event_id, payload = await stored_row(screening, f"case-{person}", 1)
    rewritten = payload.replace(b'"note":"Kidal"', b'"note":"Gao"')
    # A careful forger also rewrites the stored hash: the stream's chain (one event) looks intact.
    async with screening.runtime.engine.begin() as conn:
        await conn.execute(
            update(events_table)
            .where(events_table.c.event_id == event_id)
            .values(payload=rewritten, hash=chain_hash(rewritten))
        )

    report = await verify_platform(world.platform)

    [rewritten_offence] = offences(report, "checkpoint")
    assert rewritten_offence.service == "screening"
    assert "no longer hash to the root signed" in rewritten_offence.detail
    assert not offences(report, "chain")


async def test_events_removed_after_their_checkpoint_are_named_against_it(world: World) -> None:
    integration = world["integration"]
    await integration.checkpoint()
    async with integration.runtime.engine.begin() as conn:  # the last event of its stream: no chain breaks
        last = (
            await conn.execute(select(events_table.c.position).order_by(events_table.c.position.desc()))
        ).first()
        assert last is not None
        await conn.execute(delete(events_table).where(events_table.c.position == last.position))

    report = await verify_platform(world.platform)

    [removed] = offences(report, "checkpoint")
    assert removed.service == "integration"
    assert "events were removed" in removed.detail


async def test_a_checkpoint_signed_by_another_key_is_refused_when_keys_are_trusted(world: World) -> None:
    taken = await world["registration"].checkpoint()
    trusted = taken.checkpoint.public_key
    forger = Ed25519PrivateKey.generate()
    body = taken.checkpoint.body
    forged = SignedCheckpoint.sign(body, forger)
    document = taken.envelope.model_dump(mode="json")
    document["data"] |= {
        "signature": forged.signature,
        "key_id": forged.key_id,
        "public_key": public_pem(forger.public_key()),
    }
    document |= {
        "id": str(uuid.uuid4()),
        "streamversion": 2,
        "prevhash": chain_hash(taken.envelope.canonical_bytes()),
    }
    value = canonical_bytes(document)
    await produce(world, world.settings.checkpoints_topic(), taken.envelope.subject.encode(), value)

    report = await verify_platform(
        Platform.from_settings(world.settings, world.stores, trusted_keys=[load_public_key(trusted)])
    )

    [refused] = offences(report, "signature")
    assert (refused.service, refused.event_id) == ("registration", document["id"])


async def test_erasing_a_person_changes_no_leaf(world: World) -> None:
    before = await store_leaves(world["registration"].url)
    await world["registration"].runtime.keystore.erase(world.persons[0])

    after = await store_leaves(world["registration"].url)

    assert root_of(before) == root_of(after)


# -- consistency with a checkpoint kept from earlier ------------------------------------------------------


async def test_an_old_checkpoint_is_proven_extended_by_later_history(world: World) -> None:
    old = (await world["registration"].checkpoint()).checkpoint
    person = world.persons[0]
    await world["registration"].emit(f"person-{person}", note(person, 2), subject=person)

    [finding] = check_extends(old, await stores_leaves(world.stores))

    assert finding.ok, str(finding)
    assert (finding.service, finding.old_size, finding.new_size) == (
        "registration",
        2 * PERSONS,
        2 * PERSONS + 1,
    )


async def test_a_rewritten_history_fails_against_an_old_checkpoint(world: World) -> None:
    old = (await world["registration"].checkpoint()).checkpoint
    event_id, payload = await stored_row(world["registration"], f"person-{world.persons[1]}", 2)
    rewritten = payload.replace(b'"note":"Kidal"', b'"note":"Gao"')
    async with world["registration"].runtime.engine.begin() as conn:
        await conn.execute(
            update(events_table)
            .where(events_table.c.event_id == event_id)
            .values(payload=rewritten, hash=chain_hash(rewritten))
        )

    [finding] = check_extends(old, await stores_leaves(world.stores))

    assert not finding.ok


async def test_a_tampered_checkpoint_fails_its_signature(world: World) -> None:
    signed = (await world["registration"].checkpoint()).checkpoint
    document = signed.as_json()
    document["checkpoint"]["trees"][0]["size"] += 1

    assert signed.verify()
    assert not SignedCheckpoint.from_json(document).verify()


# -- handover bundles -------------------------------------------------------------------------------------


def _move_alone(bundle: Path, tmp_path: Path) -> Path:
    """The bundle copied to a fresh folder, as on the recipient's machine, the original deleted."""
    recipient = tmp_path / f"recipient-{uuid.uuid4().hex[:6]}"
    recipient.mkdir()
    copy = recipient / bundle.name
    if bundle.is_dir():
        shutil.copytree(bundle, copy)
        shutil.rmtree(bundle)
    else:
        shutil.copyfile(bundle, copy)
        bundle.unlink()
    return copy


async def test_a_pseudonymised_bundle_verifies_offline_with_no_personal_field_and_the_signed_checkpoints(
    world: World, tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    earlier = [(await s.checkpoint()).checkpoint for s in world.services.values()]
    exported = await export_bundle(
        world.stores, tmp_path / "out" / "handover", key, SAMPLES, earlier_checkpoints=earlier
    )

    bundle = _move_alone(exported.path, tmp_path)
    report = verify_bundle(bundle, SAMPLES, trusted_key=key.public_key())

    assert report.ok, [str(o) for o in report.offences]
    assert sum(s.events for s in report.services) == sum(exported.events.values()) == 4 * PERSONS
    assert len(list((bundle / "checkpoints").glob("earlier-*.json"))) == len(SERVICES)
    files = [p.read_bytes() for p in bundle.rglob("*") if p.is_file()]
    assert not any(b"Ibrahim" in f or b"enc:v1:" in f for f in files)
    assert not any(
        b'"full_name"' in line
        for line in (bundle / "events" / "registration.events").read_bytes().splitlines()
    )


async def test_a_full_bundle_as_a_tar_verifies_its_chains(world: World, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    exported = await export_bundle(
        world.stores, tmp_path / "out" / "handover.tar.gz", key, SAMPLES, personal=True
    )

    report = verify_bundle(_move_alone(exported.path, tmp_path), SAMPLES)

    assert report.ok, [str(o) for o in report.offences]
    assert {t.service: t.size for t in exported.checkpoint.body.trees}["registration"] == 2 * PERSONS


async def test_a_bundle_altered_after_export_fails_verification(world: World, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    exported = await export_bundle(world.stores, tmp_path / "handover", key, SAMPLES)
    events_file = exported.path / "events" / "screening.events"
    events_file.write_bytes(events_file.read_bytes().replace(b'"note":"Kidal"', b'"note":"Gao"', 1))

    report = verify_bundle(exported.path, SAMPLES)
    forged_key = verify_bundle(exported.path, SAMPLES, trusted_key=Ed25519PrivateKey.generate().public_key())

    assert [(o.kind, o.where) for o in report.offences if o.service == "bundle"] == [
        ("altered", "events/screening.events")
    ]
    assert any(o.kind in ("checkpoint", "manifest") for o in report.offences if o.service == "screening")
    assert [o.kind for o in forged_key.offences] == ["signature"]


# -- the command line -------------------------------------------------------------------------------------


async def audit(world: World, monkeypatch: pytest.MonkeyPatch, *args: str, stores: bool = True) -> Result:
    """``ddr audit ...`` as an operator runs it (in a thread: it runs its own event loop), given each store's
    address, with the stack's brokers and namespace."""
    monkeypatch.setenv("DDR_VAR_DIR", str(world.settings.var_dir))
    monkeypatch.setenv("DDR_TOPIC_NAMESPACE", world.settings.topic_namespace)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", world.settings.kafka_bootstrap_servers)
    given = [f"--store={name}={url}" for name, url in world.stores.items()] if stores else []
    return await asyncio.to_thread(CliRunner().invoke, audit_app, [*args, *given], catch_exceptions=False)


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
async def test_the_command_line_verifies_the_stores_it_is_given_exports_and_verifies_the_bundle(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    await world["screening"].checkpoint()
    bundle = tmp_path / "handover.tar.gz"

    clean = await audit(world, monkeypatch, "verify", "--json")
    exported = await audit(world, monkeypatch, "export", str(bundle))
    offline = await audit(world, monkeypatch, "verify", "--bundle", str(bundle), "--json", stores=False)

    assert clean.exit_code == 0, clean.output
    document = orjson.loads(clean.output)
    assert document["ok"] is True
    assert {s["service"]: s["checkpoints"] for s in document["services"]}["screening"] == 1
    assert exported.exit_code == 0, exported.output
    assert offline.exit_code == 0, offline.output
    assert orjson.loads(offline.output)["ok"] is True


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
async def test_the_command_line_exits_non_zero_and_prints_the_offence_as_text_not_markup(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_url(world["screening"].url).database
    assert path is not None
    with sqlite3.connect(path) as conn:
        event_id, payload = conn.execute(
            "SELECT event_id, payload FROM events ORDER BY position LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE events SET payload = ? WHERE event_id = ?", (payload.replace(b"Kidal", b"Gao"), event_id)
        )

    result = await audit(world, monkeypatch, "verify", "--stores-only")

    assert result.exit_code == 1
    assert "[altered] screening stream case-" in result.output
    assert f"event {event_id}: stored bytes do not match their hash" in result.output
    assert "[red]" not in result.output
    assert "[/red]" not in result.output
    assert "1 offence(s)" in result.output
