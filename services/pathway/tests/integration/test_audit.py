"""The platform audit against real stores (SQLite and PostgreSQL) and a real Kafka broker.

Each test builds a small platform: registration, screening, integration and reinsertion stores populated
through the runtime's own EventStore and outbox relay (the same bytes, hash chains and topics a running
service produces), plus the pathway store that receives checkpoints.
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, update
from sqlalchemy.engine import make_url
from typer.testing import CliRunner, Result

from ddr_contracts.audit import CHECKPOINT_STREAM, CheckpointSigned
from ddr_contracts.catalog import REGISTRY
from ddr_contracts.envelope import EventEnvelope, canonical_bytes, chain_hash
from ddr_contracts.events import DomainEvent
from ddr_contracts.wire import HASH_HEADER
from ddr_pathway.adapters.audit_sources import read_topic
from ddr_pathway.domain.bundle import TreeHead
from ddr_pathway.entrypoints.audit_cli import audit_app
from ddr_pathway.service_layer.audit import (
    AuditReport,
    Offence,
    Platform,
    bundle_received,
    export_bundle,
    live_received,
    personal_fields_by_type,
    replay,
    verify_bundle,
    verify_extends,
    verify_platform,
)
from ddr_pathway.service_layer.checkpoints import (
    SignedCheckpoint,
    check_extends,
    platform_leaves,
    publish_checkpoint,
    start_checkpoint_publisher,
    take_checkpoint,
)
from ddr_runtime.config import Settings
from ddr_runtime.db import create_engine
from ddr_runtime.eventstore.schema import events as events_table
from ddr_runtime.eventstore.schema import outbox
from ddr_runtime.eventstore.store import Causation, NewEvent, StoredEvent
from ddr_runtime.service import ServiceRuntime, build_runtime
from ddr_testkit.upstream import create_namespace_topics, new_namespace

SERVICES = ("registration", "screening", "integration", "reinsertion", "pathway")
PERSONS = 12
AS_OF = date(2020, 6, 30)


class Service:
    """One service's real store, key store, outbox and relay, publishing to the test's namespace."""

    def __init__(self, name: str, settings: Settings, url: str) -> None:
        self.name = name
        self.runtime: ServiceRuntime = build_runtime(
            name, REGISTRY, settings.model_copy(update={"service_name": name, "database_url": url})
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
        await self.runtime.broker.start()

    async def stop(self) -> None:
        await self.runtime.broker.stop()
        await self.runtime.engine.dispose()
        await self.runtime.keys_engine.dispose()

    async def emit(
        self, stream: str, *events: DomainEvent, subject: str, on: date, publish: bool = True
    ) -> list[StoredEvent]:
        store = self.runtime.store
        occurred = datetime.combine(on, datetime.min.time(), tzinfo=UTC).replace(hour=9)
        stored = await store.append(
            stream,
            await store.stream_version(stream),
            [NewEvent(e, subject, occurred) for e in events],
            Causation("audit-test"),
        )
        if publish:
            await self.publish()
        return stored

    async def publish(self) -> int:
        return await self.runtime.relay.drain()


@dataclass
class World:
    settings: Settings
    services: dict[str, Service]
    persons: list[str] = field(default_factory=list)

    @property
    def stores(self) -> dict[str, str]:
        return {name: s.url for name, s in self.services.items()}

    @property
    def platform(self) -> Platform:
        return Platform.from_settings(self.settings, self.stores)

    def __getitem__(self, name: str) -> Service:
        return self.services[name]


@pytest.fixture(params=["sqlite", "postgres"])
async def world(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    kafka_bootstrap_servers: str,
    events: Any,
) -> AsyncIterator[World]:
    namespace = new_namespace()
    create_namespace_topics(kafka_bootstrap_servers, namespace)
    settings = Settings(
        service_name="pathway",
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
    services = {name: Service(name, settings, url) for name, url in urls.items()}
    for service in services.values():
        await service.start()
    world = World(settings, services)
    try:
        await populate(world, events)
        yield world
    finally:
        for service in services.values():
            await service.stop()


async def populate(world: World, events: Any) -> None:
    """A small caseload: listed and registered; screened; then integrated or reinserted."""
    for i in range(PERSONS):
        person = str(uuid.uuid4())
        world.persons.append(person)
        movement = "MNLA" if i % 2 else "GATIA"
        await world["registration"].emit(
            f"person-{person}",
            events.pre_registered(person, movement=movement, sex="F" if i % 3 == 0 else "M"),
            subject=person,
            on=date(2018, 5, 1),
            publish=False,
        )
        await world["registration"].emit(
            f"person-{person}", events.registered(person), subject=person, on=date(2019, 3, 1), publish=False
        )
        track = "integration" if i % 2 else "reinsertion"
        await world["screening"].emit(
            f"screening-{person}",
            events.screened(person, track, movement=movement),
            subject=person,
            on=date(2019, 6, 1),
            publish=False,
        )
        if track == "integration":
            await world["integration"].emit(
                f"candidate-{person}",
                events.accepted(person, "2019-09-01", movement=movement),
                subject=person,
                on=date(2019, 9, 1),
                publish=False,
            )
        elif i % 4 == 0:
            await world["reinsertion"].emit(
                f"beneficiary-{person}",
                events.enrolled(person, "2020-01-15"),
                subject=person,
                on=date(2020, 1, 15),
                publish=False,
            )
    for service in world.services.values():
        await service.publish()


def offences(report: AuditReport, kind: str) -> list[Offence]:
    return [o for o in report.offences if o.kind == kind]


async def produce(world: World, service: str, key: bytes, value: bytes, digest: str | None = None) -> None:
    """Write straight to a topic, as an intruder with broker access would."""
    producer = AIOKafkaProducer(bootstrap_servers=world.settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        headers = [(HASH_HEADER, (digest or chain_hash(value)).encode())]
        await producer.send_and_wait(world[service].topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


# -- verify -----------------------------------------------------------------------------------------------


async def test_a_clean_platform_verifies(world: World) -> None:
    report = await verify_platform(world.platform)

    assert report.ok, [str(o) for o in report.offences]
    by_service = {s.service: s for s in report.services}
    assert by_service["registration"].events == 2 * PERSONS
    assert by_service["registration"].topic_messages == 2 * PERSONS
    assert by_service["screening"].streams == PERSONS


async def test_a_stream_carrying_several_subjects_verifies_across_partitions(
    world: World, events: Any
) -> None:
    """A unit's stream holds its members' service records: each event is keyed by its member, so the
    stream's events land on several partitions and only each subject's own order is Kafka's to keep."""
    members = world.persons[:6]
    for member in members:
        await world["integration"].emit(
            "unit-BATFAR-Gao", events.accepted(member, "2019-10-01"), subject=member, on=date(2019, 10, 1)
        )

    report = await verify_platform(world.platform)

    assert report.ok, [str(o) for o in report.offences]


async def test_verify_names_an_event_altered_in_a_store(world: World) -> None:
    person = world.persons[3]
    engine = world["registration"].runtime.engine
    async with engine.begin() as conn:
        row = (
            await conn.execute(
                select(events_table.c.event_id, events_table.c.payload).where(
                    events_table.c.stream_id == f"person-{person}", events_table.c.stream_version == 1
                )
            )
        ).one()
        forged = row.payload.replace(b'"movement":"MNLA"', b'"movement":"GATIA"')
        assert forged != row.payload
        await conn.execute(
            update(events_table).where(events_table.c.event_id == row.event_id).values(payload=forged)
        )

    report = await verify_platform(world.platform)

    altered = offences(report, "altered")
    in_store = [o for o in altered if o.where is None]
    assert [(o.service, o.stream_id, o.version, o.event_id) for o in in_store] == [
        ("registration", f"person-{person}", 1, row.event_id)
    ]
    assert len(report.offences) == 1  # the topic still holds the original bytes, matching the stored hash


async def test_verify_names_an_event_missing_from_its_topic(world: World, events: Any) -> None:
    person = world.persons[0]
    registration = world["registration"]
    [lost] = await registration.emit(
        f"person-{person}",
        events.corrected(person, region="Gao"),
        subject=person,
        on=date(2019, 4, 1),
        publish=False,
    )
    async with registration.runtime.engine.begin() as conn:  # the relay "lost" it
        await conn.execute(delete(outbox).where(outbox.c.event_id == lost.envelope.id))

    report = await verify_platform(world.platform)

    missing = offences(report, "missing")
    assert [(o.service, o.stream_id, o.version, o.event_id) for o in missing] == [
        ("registration", f"person-{person}", 3, lost.envelope.id)
    ]
    assert len(report.offences) == 1


async def test_an_event_not_yet_relayed_is_pending_not_missing(world: World, events: Any) -> None:
    person = world.persons[1]
    await world["registration"].emit(
        f"person-{person}",
        events.corrected(person, region="Gao"),
        subject=person,
        on=date(2019, 4, 1),
        publish=False,
    )

    report = await verify_platform(world.platform)

    assert report.ok, [str(o) for o in report.offences]
    assert {s.service: s.pending for s in report.services}["registration"] == 1


async def test_verify_names_an_event_injected_into_a_topic(world: World) -> None:
    person = world.persons[2]
    stored = await world["registration"].runtime.store.read_stream(f"person-{person}")
    genuine = stored[0].envelope.model_dump(mode="json")
    forged = canonical_bytes({**genuine, "id": str(uuid.uuid4()), "actor": "intruder"})
    await produce(world, "registration", person.encode(), forged)

    report = await verify_platform(world.platform)

    [injected] = offences(report, "injected")
    assert injected.service == "registration"
    assert injected.event_id == orjson.loads(forged)["id"]
    assert injected.where is not None
    assert injected.where.startswith(world["registration"].topic)
    assert len(report.offences) == 1


async def test_verify_names_a_stored_event_republished_with_other_bytes(world: World) -> None:
    person = world.persons[4]
    [first, _] = await world["registration"].runtime.store.read_stream(f"person-{person}")
    document = first.envelope.model_dump(mode="json")
    document["data"]["sex"] = "F" if document["data"]["sex"] == "M" else "M"
    await produce(world, "registration", person.encode(), canonical_bytes(document))

    report = await verify_platform(world.platform)

    [altered] = offences(report, "altered")
    assert (altered.event_id, altered.version) == (first.envelope.id, 1)
    assert altered.where is not None


async def test_verify_names_events_published_out_of_order(world: World, events: Any) -> None:
    person = world.persons[5]
    registration = world["registration"]
    stored = await registration.emit(
        f"person-{person}",
        events.corrected(person, region="Gao"),
        events.corrected(person, region="Mopti"),
        subject=person,
        on=date(2019, 4, 1),
        publish=False,
    )
    async with registration.runtime.engine.begin() as conn:
        await conn.execute(delete(outbox).where(outbox.c.event_id.in_([s.envelope.id for s in stored])))
    for event in reversed(stored):  # version 4 before version 3
        await produce(world, "registration", person.encode(), event.payload, event.hash)

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
    await produce(world, "registration", person.encode(), payload, digest)

    report = await verify_platform(world.platform)

    assert report.ok, [str(o) for o in report.offences]
    assert {s.service: s.duplicates for s in report.services}["registration"] == 1


# -- checkpoints ------------------------------------------------------------------------------------------


async def test_an_old_checkpoint_is_proven_extended_by_later_history(world: World, events: Any) -> None:
    key = Ed25519PrivateKey.generate()
    old = await take_checkpoint(world.stores, key)
    person = world.persons[0]
    await world["registration"].emit(
        f"person-{person}", events.corrected(person, region="Gao"), subject=person, on=date(2019, 4, 1)
    )
    await world["reinsertion"].emit(
        f"beneficiary-{person}", events.exited(person, "2020-03-01"), subject=person, on=date(2020, 3, 1)
    )

    findings = check_extends(old, await platform_leaves(world.stores))

    assert old.verify()
    assert all(f.ok for f in findings), [str(f) for f in findings]
    grown = {f.service: (f.old_size, f.new_size) for f in findings}
    assert grown["registration"] == (2 * PERSONS, 2 * PERSONS + 1)
    assert not await verify_extends(world.stores, old)


async def test_a_rewritten_history_fails_against_an_old_checkpoint(world: World) -> None:
    old = await take_checkpoint(world.stores, Ed25519PrivateKey.generate())
    person = world.persons[7]
    async with world["screening"].runtime.engine.begin() as conn:
        row = (
            await conn.execute(
                select(events_table.c.event_id, events_table.c.payload).where(
                    events_table.c.stream_id == f"screening-{person}"
                )
            )
        ).one()
        rewritten = row.payload.replace(
            b'"rule_version":"eligibility-2019.1"', b'"rule_version":"eligibility-2020.1"'
        )
        # A careful forger also rewrites the stored hash, so the chain alone (last event) looks intact.
        await conn.execute(
            update(events_table)
            .where(events_table.c.event_id == row.event_id)
            .values(payload=rewritten, hash=chain_hash(rewritten))
        )

    findings = {f.service: f for f in check_extends(old, await platform_leaves(world.stores))}

    assert not findings["screening"].ok
    assert findings["registration"].ok
    assert [o.service for o in await verify_extends(world.stores, old)] == ["screening"]


async def test_erasing_a_person_changes_no_checkpoint(world: World) -> None:
    before = await take_checkpoint(world.stores, Ed25519PrivateKey.generate())
    await world["registration"].runtime.keystore.erase(world.persons[0])

    after = await take_checkpoint(world.stores, Ed25519PrivateKey.generate())

    assert before.body.trees == after.body.trees


async def test_a_tampered_checkpoint_fails_its_signature(world: World) -> None:
    signed = await take_checkpoint(world.stores, Ed25519PrivateKey.generate())
    document = signed.as_json()
    document["checkpoint"]["trees"][0]["size"] += 1

    assert signed.verify()
    assert not SignedCheckpoint.from_json(document).verify()


async def test_a_checkpoint_is_published_on_the_pathway_topic_and_as_a_file(world: World) -> None:
    signed = await take_checkpoint(world.stores, Ed25519PrivateKey.generate())
    pathway = world["pathway"]

    path = await publish_checkpoint(pathway.runtime.store, signed, world.settings.var_dir / "audit")
    await pathway.publish()

    assert SignedCheckpoint.load(path) == signed
    published = [
        r.value
        async for records in read_topic(world.settings.kafka_bootstrap_servers, pathway.topic)
        for r in records
        if r.value is not None
    ]
    [received] = await pathway.runtime.store.decode([_envelope(v) for v in published])
    assert isinstance(received.event, CheckpointSigned)
    from_topic = SignedCheckpoint.from_event(received.event)
    assert from_topic.verify()
    assert from_topic.body.digest == signed.body.digest
    assert (await verify_platform(world.platform)).ok


def _envelope(value: bytes) -> EventEnvelope:
    return EventEnvelope.from_bytes(value)


# -- export, offline verify, replay -----------------------------------------------------------------------


async def _replay_figures(source: AsyncIterator[Any], folder: Path) -> dict[str, Any]:
    engine = create_engine(f"sqlite+aiosqlite:///{folder / f'replay-{uuid.uuid4().hex[:6]}.sqlite'}")
    try:
        result = await replay(source, engine, as_of=AS_OF)
    finally:
        await engine.dispose()
    assert result.events > 0
    return result.figures


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


def _bundle_lines(folder: Path) -> list[bytes]:
    return [
        line
        for file in sorted((folder / "events").glob("*.events"))
        for line in file.read_bytes().splitlines()
    ]


async def test_a_pseudonymised_bundle_verifies_offline_and_replays_to_the_live_figures(
    world: World, tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    old = await take_checkpoint(world.stores, key)
    live = await _replay_figures(live_received(world.platform, REGISTRY), tmp_path / "live")
    exported = await export_bundle(
        world.stores, tmp_path / "out" / "handover", key, REGISTRY, earlier_checkpoints=[old]
    )

    bundle = _move_alone(exported.path, tmp_path)
    report = verify_bundle(bundle, REGISTRY, trusted_key=key.public_key())
    replayed = await _replay_figures(bundle_received(bundle, REGISTRY), tmp_path / "replay")

    assert report.ok, [str(o) for o in report.offences]
    assert replayed == live
    assert live["funnel"] != {}
    assert sum(s.events for s in report.services) == sum(exported.events.values())
    personal = personal_fields_by_type(REGISTRY)
    lines = _bundle_lines(bundle)
    assert len(lines) == sum(exported.events.values())
    for line in lines:
        document = orjson.loads(line)
        assert not personal.get(document["type"], frozenset()) & document["data"].keys(), document["type"]
        assert b"enc:v1:" not in line
    assert all(b"Ibrahim" not in p.read_bytes() for p in bundle.rglob("*") if p.is_file())


async def test_a_full_bundle_as_a_tar_verifies_its_chains_and_replays_the_same(
    world: World, tmp_path: Path
) -> None:
    key = Ed25519PrivateKey.generate()
    live = await _replay_figures(live_received(world.platform, REGISTRY), tmp_path / "live")
    exported = await export_bundle(
        world.stores, tmp_path / "out" / "handover.tar.gz", key, REGISTRY, personal=True
    )

    bundle = _move_alone(exported.path, tmp_path)
    report = verify_bundle(bundle, REGISTRY)
    replayed = await _replay_figures(bundle_received(bundle, REGISTRY), tmp_path / "replay")

    assert report.ok, [str(o) for o in report.offences]
    assert replayed == live
    assert exported.checkpoint.body.trees == (await take_checkpoint(world.stores, key)).body.trees


async def test_a_bundle_altered_after_export_fails_verification(world: World, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    exported = await export_bundle(world.stores, tmp_path / "handover", key, REGISTRY)
    events_file = exported.path / "events" / "screening.events"
    events_file.write_bytes(
        events_file.read_bytes().replace(b'"track":"integration"', b'"track":"reinsertion"', 1)
    )

    report = verify_bundle(exported.path, REGISTRY)
    forged_key = verify_bundle(exported.path, REGISTRY, trusted_key=Ed25519PrivateKey.generate().public_key())

    assert [(o.kind, o.where) for o in report.offences if o.service == "bundle"] == [
        ("altered", "events/screening.events")
    ]
    assert any(
        o.kind == "checkpoint" or o.kind == "manifest" for o in report.offences if o.service == "screening"
    )
    assert [o.kind for o in forged_key.offences] == ["signature"]


# -- the periodic publisher and the command line ----------------------------------------------------------


def _point_env_at(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment an auditor's shell would have: each store's URL, the brokers, the namespace."""
    for name, service in world.services.items():
        monkeypatch.setenv(f"DDR_{name.upper()}_DATABASE_URL", service.url)
    monkeypatch.setenv("DDR_VAR_DIR", str(world.settings.var_dir))
    monkeypatch.setenv("DDR_TOPIC_NAMESPACE", world.settings.topic_namespace)
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", world.settings.kafka_bootstrap_servers)


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
async def test_the_pathway_service_publishes_signed_checkpoints_periodically(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_env_at(world, monkeypatch)
    pathway = world["pathway"]
    folder = world.settings.var_dir / "audit" / "checkpoints"

    task, stop = start_checkpoint_publisher(
        pathway.runtime.store, pathway.runtime.settings, every_seconds=0.3
    )
    deadline = time.monotonic() + 30
    while len(list(folder.glob("*.json"))) < 2:
        assert time.monotonic() < deadline, "no two checkpoints within 30 s"
        await asyncio.sleep(0.1)
    stop.set()
    await task

    recorded = await pathway.runtime.store.read_stream(CHECKPOINT_STREAM)
    assert len(recorded) >= 2
    signed = [SignedCheckpoint.from_event(r.event) for r in recorded if isinstance(r.event, CheckpointSigned)]
    assert all(c.verify() for c in signed)
    sizes = {t.service: t.size for t in signed[0].body.trees}
    assert sizes["registration"] == 2 * PERSONS
    assert sizes["cvr"] == 0
    assert signed[1].body.tree("pathway") == TreeHead("pathway", 1, signed[1].body.trees[2].root)


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_the_command_line_verifies_checkpoints_exports_and_replays(
    world: World, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_env_at(world, monkeypatch)
    runner = CliRunner()

    def audit(*args: str) -> Result:
        return runner.invoke(audit_app, list(args), catch_exceptions=False)

    clean = audit("verify", "--json")
    checkpointed = audit("checkpoint")
    after_checkpoint = audit("verify", "--json")
    bundle = tmp_path / "handover.tar.gz"
    exported = audit("export", str(bundle))
    offline = audit("verify", "--bundle", str(bundle), "--json")
    replayed = audit("replay", "--as-of", "2020-06-30", "--bundle", str(bundle), "--person", world.persons[1])

    assert clean.exit_code == 0, clean.output
    assert orjson.loads(clean.output)["ok"] is True
    assert checkpointed.exit_code == 0, checkpointed.output
    assert len(list((world.settings.var_dir / "audit" / "checkpoints").glob("*.json"))) == 1
    assert after_checkpoint.exit_code == 0, after_checkpoint.output
    assert "extend checkpoint" in " ".join(orjson.loads(after_checkpoint.output)["notes"])
    assert exported.exit_code == 0, exported.output
    assert offline.exit_code == 0, offline.output
    assert replayed.exit_code == 0, replayed.output
    document = orjson.loads(replayed.output)
    assert document["events"] > 0
    assert document["path"]["person_id"] == world.persons[1]


@pytest.mark.parametrize("world", ["sqlite"], indirect=True)
def test_the_command_line_exits_non_zero_naming_the_offender(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    _point_env_at(world, monkeypatch)
    path = make_url(world["screening"].url).database
    assert path is not None
    with sqlite3.connect(path) as conn:
        event_id, payload = conn.execute(
            "SELECT event_id, payload FROM events ORDER BY position LIMIT 1"
        ).fetchone()
        conn.execute(
            "UPDATE events SET payload = ? WHERE event_id = ?", (payload.replace(b"Kidal", b"Gao"), event_id)
        )

    result = CliRunner().invoke(audit_app, ["verify", "--stores-only", "--json"], catch_exceptions=False)

    assert result.exit_code == 1
    [offence] = orjson.loads(result.output)["offences"]
    assert (offence["kind"], offence["service"], offence["event_id"]) == ("altered", "screening", event_id)
