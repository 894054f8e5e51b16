"""Screening throughput: registration events on Kafka to outcome events on Kafka, 74,000 people.

One timed run, in new databases of the benchmark server:

1. ``generate_caseload(74_000, seed=7)`` turned into registration's events (untimed): per person
   ``PersonPreRegistered``, a ``WeaponHandedOver`` for each weapon the list declares, ``PersonRegistered``;
   stored in a registration event store (PostgreSQL) exactly as registration would store them;
2. the screening service started on its own PostgreSQL database (its consumer of the registration topic, its
   outbox relay), then registration's relay publishes every event to Kafka;
3. while cases open, a feeder plays the screening staff and uploads in bulk, through the service layer's bulk
   commands (the code path of ``POST /examinations/bulk``, ``/age-assessments/bulk``, ``/handling-tests/bulk``):
   a medical result for everyone in the medical queue (10% unfit, the rest fit), an age assessment (adult)
   for everyone whose birth date was unknown, a passed handling test for armed members without a weapon;
4. a Kafka consumer reads the screening topic until every person has an outcome.

Automatic (no human input): case opening, child separation (category child, or under 18 at registration with
the benefit of the doubt) to ``child_protection``, vetting against the current list, eligibility under the
rule set in force, every outcome for unarmed members and other categories (reinsertion), and every outcome
once the fed decisions are in. Fed in bulk: medical results, age assessments for unknown ages, handling tests.

Figure: seconds from the last registration event acknowledged by Kafka to the last outcome read from Kafka
(target: 60 s), beside the seconds from the first registration event. ``--scale 0.05`` is a smoke run.
"""

from __future__ import annotations

import asyncio
import base64
import os
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.envelope import EventEnvelope
from ddr_contracts.events import DomainEvent
from ddr_contracts.registration import PersonPreRegistered, PersonRegistered, WeaponHandedOver
from ddr_contracts.topics import events_topic
from ddr_registration.simulate.caseload import generate_caseload
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.store import Causation, NewEvent
from ddr_runtime.kernel import Recording
from ddr_runtime.messaging.topics import ensure_topics, platform_topics
from ddr_runtime.service import ServiceRuntime, build_runtime
from ddr_screening.bootstrap import build_screening, prepare
from ddr_screening.domain.case import AgeEvidence
from ddr_screening.service_layer.bulk import assess_ages, record_examinations, record_handling_tests
from ddr_screening.service_layer.handlers import AgeAssessment, Examination, HandlingTest
from ddr_screening.service_layer.service import Screening
from tests.bench import BenchEnv, Figure, machine_info, now_iso, package_versions

NAME = "screening"
SIZE = 74_000
SEED = 7
TARGET_SECONDS = 60.0
PARTITIONS = 6
CHUNK = 1000
UNFIT_EVERY = 10  # one in ten examined is unfit
MASTER_KEY = bytes(range(32))
CAUSE = Causation(actor="bench-feeder")


BENCH_STAFF = Principal(
    "bench", "Bench", frozenset({Role.EXAMINER, Role.SCREENING_OFFICER, Role.CHILD_PROTECTION})
)


@dataclass(frozen=True)
class Staff:
    """The feeder's command context: decisions recorded now, by the bench, as national staff holding the roles
    of each queue it works (examiner, screening officer, child protection for the age assessments)."""

    recording: Recording
    causation: Causation = CAUSE
    principal: Principal = BENCH_STAFF


@dataclass
class ScreeningRun:
    persons: int
    registration_events: int
    publish_seconds: float  # first to last registration event acknowledged
    after_last_seconds: float  # last registration event to last outcome
    total_seconds: float  # first registration event to last outcome
    outcomes: int
    by_track: dict[str, int]
    fed_examinations: int
    fed_age_assessments: int
    fed_handling_tests: int


def registration_events(size: int, registered_at: datetime) -> list[tuple[str, list[DomainEvent]]]:
    """The caseload as registration's person streams."""
    streams: list[tuple[str, list[DomainEvent]]] = []
    for row in generate_caseload(size, seed=SEED).rows():
        member = row.member
        pid = str(uuid.uuid4())
        birth = member.birth
        events: list[DomainEvent] = [
            PersonPreRegistered(
                person_id=pid,
                list_id="bench",
                list_version=1,
                movement=row.movement,
                movement_ref=member.movement_ref,
                category=str(member.category),
                sex=str(member.sex),
                birth_kind=birth.kind,
                birth_year=birth.year,
                region=member.region,
                cercle=member.cercle,
                rank=member.rank or "",
                armed=member.armed,
                full_name=member.full_name,
                full_name_arabic=None,
                birth_date=birth.value,
                commune=None,
                father_name=None,
                mother_name=None,
                birth_place=None,
            )
        ]
        for n, weapon in enumerate(member.weapons):
            events.append(
                WeaponHandedOver(
                    weapon_id=str(uuid.uuid4()),
                    person_id=pid,
                    movement=row.movement,
                    kind="weapon",
                    type=weapon.kind,
                    calibre=weapon.calibre or "",
                    serial=weapon.serial,
                    quantity=1,
                    condition=weapon.condition or "",
                    tag=f"{member.movement_ref}-{n}",
                    receipt_number=f"R-{pid[:13]}-{n}",
                    custodian="CNDDR",
                )
            )
        events.append(PersonRegistered(person_id=pid, ddr_id=f"ML-{pid[:12]}", biometric_hash=None))
        streams.append((pid, events))
    del registered_at
    return streams


def settings_for(env: BenchEnv, service: str, database: str, var_dir: Path, namespace: str) -> Settings:
    url = env.database_url(database, driver=None)
    return Settings(
        service_name=service,
        database_url=url,
        keystore_url=env.database_url(database, driver=None) if service == "keys" else "",
        master_key=base64.b64encode(MASTER_KEY).decode(),
        kafka_bootstrap_servers=env.kafka_bootstrap_servers,
        var_dir=var_dir,
        topic_namespace=namespace,
    )


async def feed(scr: Screening, stop: asyncio.Event, counts: dict[str, int]) -> None:
    """Play the screening staff: whatever waits in the medical, age and weapon queues gets a bulk upload."""
    while not stop.is_set():
        medical = await scr.reads.queue_person_ids("medical")
        ages = await scr.reads.queue_person_ids("age_assessment")
        weapons = await scr.reads.queue_person_ids("weapon")
        for start in range(0, len(ages), CHUNK):
            chunk = ages[start : start + CHUNK]
            adult = AgeEvidence("interview", youngest_age=25)
            await assess_ages(scr, [AgeAssessment(p, adult) for p in chunk], Staff(Recording()))
            counts["ages"] += len(chunk)
        for start in range(0, len(weapons), CHUNK):
            chunk = weapons[start : start + CHUNK]
            await record_handling_tests(scr, [HandlingTest(p, True) for p in chunk], Staff(Recording()))
            counts["handling"] += len(chunk)
        for start in range(0, len(medical), CHUNK):
            chunk = medical[start : start + CHUNK]
            items = [Examination(p, "unfit" if hash(p) % UNFIT_EVERY == 0 else "fit") for p in chunk]
            await record_examinations(scr, items, Staff(Recording()))
            counts["medical"] += len(chunk)
        if not (medical or ages or weapons):
            await asyncio.sleep(0.5)


async def count_outcomes(
    bootstrap: str, topic: str, expected: int, tracks: dict[str, str], done: asyncio.Event, last: list[float]
) -> None:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
    )
    await consumer.start()
    try:
        while len(tracks) < expected:
            batches = await consumer.getmany(timeout_ms=500, max_records=5000)
            for records in batches.values():
                for record in records:
                    envelope = EventEnvelope.from_bytes(record.value)
                    if envelope.type.startswith("ddr.screening.ScreeningOutcomeDecided."):
                        tracks[envelope.subject] = envelope.data["track"]
                        last[0] = time.perf_counter()
        done.set()
    finally:
        await consumer.stop()


async def screening_run(env: BenchEnv, size: int) -> ScreeningRun:
    namespace = f"bench{uuid.uuid4().hex[:8]}."
    ensure_topics(env.kafka_bootstrap_servers, platform_topics(PARTITIONS, 1, namespace))
    with tempfile.TemporaryDirectory(prefix="ddr-bench-screening-") as tmp:
        folder = Path(tmp)
        reg_db = await env.create_database("scr_registration")
        scr_db = await env.create_database("scr_screening")
        keys_db = await env.create_database("scr_keys")
        keys_url = env.database_url(keys_db, driver=None)
        reg_settings = settings_for(env, "registration", reg_db, folder, namespace).model_copy(
            update={"keystore_url": keys_url}
        )
        scr_settings = settings_for(env, "screening", scr_db, folder, namespace).model_copy(
            update={"keystore_url": keys_url}
        )
        registration: ServiceRuntime = build_runtime("registration", REGISTRY, reg_settings)
        screening: ServiceRuntime = build_runtime("screening", REGISTRY, scr_settings)
        scr, scr_unit = build_screening(screening)
        try:
            await registration.keystore.create_schema()
            await registration.store.create_schema()
            streams = await asyncio.to_thread(registration_events, size, datetime.now(UTC))
            for start in range(0, len(streams), 2000):
                await registration.store.append_new_streams(
                    [
                        (pid, [NewEvent(e, pid) for e in events])
                        for pid, events in streams[start : start + 2000]
                    ],
                    Causation("bench-registration"),
                )
            event_count = sum(len(events) for _, events in streams)
            relay_task = await screening.start([lambda: prepare(scr, scr_unit)])
            await registration.broker.connect()
            tracks: dict[str, str] = {}
            done, stop = asyncio.Event(), asyncio.Event()
            last = [0.0]
            counts = {"medical": 0, "ages": 0, "handling": 0}
            counter = asyncio.create_task(
                count_outcomes(
                    env.kafka_bootstrap_servers,
                    scr_settings.events_topic("screening"),
                    size,
                    tracks,
                    done,
                    last,
                )
            )
            feeder = asyncio.create_task(feed(scr, stop, counts))
            task = env.progress.add_task(f"screening {size:,} people", total=size)
            began = time.perf_counter()
            await registration.relay.drain()
            published = time.perf_counter()
            while not done.is_set():
                env.progress.update(task, completed=len(tracks))
                await asyncio.sleep(0.5)
                if counter.done():
                    counter.result()
            env.progress.remove_task(task)
            stop.set()
            await feeder
            await screening.stop(relay_task)
        finally:
            await registration.broker.stop()
            await registration.engine.dispose()
            await registration.keys_engine.dispose()
            for database in (reg_db, scr_db, keys_db):
                await env.drop_database(database)
    by_track: dict[str, int] = {}
    for track in tracks.values():
        by_track[track] = by_track.get(track, 0) + 1
    return ScreeningRun(
        persons=size,
        registration_events=event_count,
        publish_seconds=published - began,
        after_last_seconds=last[0] - published,
        total_seconds=last[0] - began,
        outcomes=len(tracks),
        by_track=by_track,
        fed_examinations=counts["medical"],
        fed_age_assessments=counts["ages"],
        fed_handling_tests=counts["handling"],
    )


def render(document: dict[str, Any], figures: list[Figure]) -> str:
    p, m = document["parameters"], document["machine"]
    run = document["runs_detail"][0]
    after = figures[0].median
    met = "met" if after <= TARGET_SECONDS else "missed"
    lines = [
        "## Screening: registration events on Kafka to outcome events on Kafka",
        "",
        f"{document['date']} on {m['nproc']} cores ({m['cpu_model']}, {m['memory_gib']} GiB), "
        f"PostgreSQL {document['versions'].get('postgresql')}, Kafka {document['versions'].get('kafka')}; "
        f"median of {document['runs']} run(s), (min-max).",
        "",
        f"`generate_caseload({p['size']}, seed={p['seed']})` as {run['registration_events']:,} registration events "
        "(pre-registered, weapons handed over, registered) published by registration's relay; the screening "
        "service consumes them, opens the cases and decides. Automatic: case opening, child separation, vetting "
        "against the list, eligibility under the rule set in force, the outcome of everyone not needing a medical "
        "(unarmed, other categories, children), and every outcome once its decisions are in. Fed in bulk by the "
        "bench through the service layer's bulk commands, as cases open: medical results "
        f"({run['fed_examinations']:,}), age assessments for unknown ages ({run['fed_age_assessments']:,}), "
        f"handling tests for armed members without a weapon ({run['fed_handling_tests']:,}). "
        f"Target: every outcome within {TARGET_SECONDS:.0f} s of the last registration event — **{met}** "
        f"({after:,.1f} s).",
        "",
        "| Figure | Median (min-max) | Unit |",
        "|---|---|---|",
    ]
    for figure in figures:
        lines.append(
            f"| {figure.label} | {figure.median:,.1f} ({figure.low:,.1f}-{figure.high:,.1f}) | {figure.unit} |"
        )
    lines += [
        "",
        "Outcomes by track: " + ", ".join(f"{k} {v:,}" for k, v in sorted(run["by_track"].items())) + ".",
    ]
    if p["scale"] != 1.0:
        lines += ["", f"**Scaled run (scale {p['scale']}): not comparable with full runs.**"]
    return "\n".join(lines)


async def run(env: BenchEnv) -> None:
    started = now_iso()
    machine = machine_info()
    size = max(100, round(SIZE * env.scale))
    runs: list[ScreeningRun] = []
    for _ in range(env.runs):
        runs.append(await screening_run(env, size))
        env.console.log(f"{size:,} people: {runs[-1]}")
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    figures = [
        Figure("after_last", "seconds, last registration event to last outcome", "s",
               tuple(r.after_last_seconds for r in runs)),
        Figure("total", "seconds, first registration event to last outcome", "s", tuple(r.total_seconds for r in runs)),
        Figure("publish", "seconds publishing the registration events", "s", tuple(r.publish_seconds for r in runs)),
        Figure("people_per_second", "people screened per second, end to end", "people/s",
               tuple(r.persons / r.total_seconds for r in runs)),
    ]  # fmt: skip
    document: dict[str, Any] = {
        "benchmark": NAME,
        "date": started,
        "finished": now_iso(),
        "runs": env.runs,
        "machine": machine,
        "versions": {**env.versions, **package_versions()},
        "parameters": {"size": size, "seed": SEED, "scale": env.scale, "topic": events_topic(NAME)},
        "figures": [f.as_json() for f in figures],
        "runs_detail": [r.__dict__ for r in runs],
        "target": {"seconds": TARGET_SECONDS, "met": figures[0].median <= TARGET_SECONDS},
    }
    json_path = env.write_json(NAME, document)
    docs_path = env.write_section(NAME, render(document, figures))
    status = "[green]met[/]" if document["target"]["met"] else "[red]missed[/]"
    env.console.print(
        f"{size:,} people: {figures[0].median:,.1f} s after the last registration event; {status}"
    )
    env.console.log(f"wrote {json_path} and the {NAME} section of {docs_path}")
