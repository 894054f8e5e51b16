"""Pathway rebuild: every read model rebuilt from offset zero of every topic, beside a bare drain.

1. N events of a synthetic caseload (pre-registration, registration, screening outcome, integration or
   reinsertion, service record or exit; about six events per person, keyed by person, across the registration,
   screening, integration and reinsertion topics of a namespace of their own, 6 partitions each) are produced
   once, untimed: envelopes shaped like the stores' (personal fields sealed-looking, a hash header).
2. Rebuild: a new generation of the pathway read model (``ReadModels``: a new consumer group from the earliest
   offset, the facts written into a new PostgreSQL database, offsets committed after each batch), timed from
   the start until it has caught up (no lag, every event applied). Bare: an ``AIOKafkaConsumer`` in a new group
   draining the same topics with ``getmany``, timed until every message is received. The two alternate.
3. Figures: ``programme_figures`` on the rebuilt read model (the query ``GET /figures`` runs) as of several
   business dates, now and as known on an earlier record time, as an auditor sees them (small counts
   suppressed). Milliseconds per call, median of ``FIGURE_REPEATS`` calls each (fewer when they take over
   ``FIGURE_BUDGET_MS`` together).
4. Path reads under load: the pathway app (in process, over ASGI) on the rebuilt read model, while a producer
   keeps publishing new people's events that its live consumer applies; concurrent auditors read random
   people's paths (each read also appends its ``PathRead`` record). Latency percentiles.

N: ``DDR_BENCH_PATHWAY_EVENTS`` (default 10,000,000) times ``--scale``; the N actually run is recorded.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import create_async_engine

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.envelope import GENESIS_HASH
from ddr_contracts.wire import HASH_HEADER
from ddr_pathway.adapters.tables import DEFAULT_PREFIX, facts_table
from ddr_pathway.bootstrap import build_app
from ddr_pathway.domain.figures import Disclosure, exact
from ddr_pathway.service_layer.figures import programme_figures
from ddr_pathway.service_layer.reads import commit_counts
from ddr_pathway.service_layer.replay import ReadModels
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.auth.visibility import disclose_count
from ddr_runtime.config import Settings
from ddr_runtime.messaging.topics import ensure_topics, platform_topics
from ddr_runtime.service import build_runtime
from tests.bench import BenchEnv, Figure, machine_info, now_iso, package_versions

NAME = "pathway_rebuild"
DEFAULT_EVENTS = 10_000_000
PARTITIONS = 6
SERVICES = ("registration", "screening", "integration", "reinsertion")
BATCH = 5000
READERS = 8
READS = 2000
LIVE_EVENTS_PER_SECOND = 500
TARGET_SECONDS_FOR_10M = 300.0
TARGET_RATIO = 1 / 3
TARGET_P99_MS = 50.0
TARGET_FIGURES_MS = 200.0
FIGURE_REPEATS = 3
FIGURE_BUDGET_MS = 10_000.0  # fewer repeats of a call that takes seconds: one is enough to read its miss
FIGURE_DATES = (date(2018, 12, 31), date(2019, 12, 31), date(2021, 6, 30))
SEALED = "enc:v1:" + "A" * 40  # what a sealed personal field looks like on the wire (never opened here)


def events_wanted(env: BenchEnv) -> int:
    return max(1000, int(int(os.environ.get("DDR_BENCH_PATHWAY_EVENTS", DEFAULT_EVENTS)) * env.scale))


def _stamp(day: date) -> str:
    return datetime(day.year, day.month, day.day, 9, tzinfo=UTC).isoformat()


def person_events(person: str, i: int) -> list[tuple[str, str, dict[str, Any], date]]:
    """(service, type, data, business date) of one person's path: five or six events."""
    movement = ("MNLA", "HCUA", "MAA-CMA", "GATIA", "CMFPR", "CPA")[i % 6]
    region = ("Kidal", "Gao", "Timbuktu", "Menaka", "Mopti")[i % 5]
    sex = "F" if i % 9 == 0 else "M"
    start = date(2018, 1, 1) + timedelta(days=i % 700)
    track = "integration" if i % 3 else "reinsertion"
    common = {
        "movement": movement,
        "category": "combatant",
        "sex": sex,
        "region": region,
        "birth_year": 1970 + i % 30,  # adults all (an auditor reads no child's path: it would answer 404)
    }
    out: list[tuple[str, str, dict[str, Any], date]] = [
        ("registration", "ddr.registration.PersonPreRegistered.v1", {
            "person_id": person, "list_id": f"list-{movement}", "list_version": 1, "movement_ref": f"R-{i}",
            "birth_kind": "year", "cercle": region, "rank": "soldat", "armed": True, "declared_weapons": [],
            "full_name": SEALED, "full_name_arabic": None, "birth_date": None, "commune": SEALED,
            "father_name": SEALED, "mother_name": SEALED, "birth_place": SEALED, **common,
        }, start),
        ("registration", "ddr.registration.PersonRegistered.v1",
         {"person_id": person, "ddr_id": f"ML-{i:08d}", "biometric_hash": SEALED}, start + timedelta(days=40)),
        ("screening", "ddr.screening.ScreeningOutcomeDecided.v1", {
            "person_id": person, "decision_id": f"d-{i}", "track": track, "reason_code": "armed_member",
            "rule_version": "2019.1", "previous_track": None, "supersedes_decision_id": None, "by_appeal": False,
            "rank": "soldat", "armed": True, **common,
        }, start + timedelta(days=70)),
    ]  # fmt: skip
    begin = start + timedelta(days=100)
    if track == "integration":
        out.append(("integration", "ddr.integration.CandidateAccepted.v1", {
            "person_id": person, "movement": movement, "path": "reconstituted_forces", "quota_id": "q-2019",
            "screening_decision_id": f"d-{i}", "effective_on": begin.isoformat(),
        }, begin))  # fmt: skip
        status = "deserted" if i % 11 == 0 else "serving"
        out.append(("integration", "ddr.integration.ServiceStatusChanged.v1", {
            "person_id": person, "unit": "BATFAR-Gao", "status": status, "effective_on": (begin + timedelta(days=90)).isoformat(),
            "discharge_kind": None, "referred_to_reinsertion": False,
        }, begin + timedelta(days=90)))  # fmt: skip
    else:
        out.append(("reinsertion", "ddr.reinsertion.BeneficiaryEnrolled.v1", {
            "person_id": person, "source": "screening", "round_id": "round-1", "effective_on": begin.isoformat(), **{
                k: common[k] for k in ("region", "sex", "category", "movement")},
        }, begin))  # fmt: skip
        out.append(("reinsertion", "ddr.reinsertion.BeneficiaryExited.v1", {
            "person_id": person, "reason": "completed", "effective_on": (begin + timedelta(days=365)).isoformat(),
        }, begin + timedelta(days=365)))  # fmt: skip
    if i % 4 == 0:
        out.append(("registration", "ddr.registration.PersonDetailsCorrected.v1", {
            "person_id": person, "corrected_fields": ["region"], "region": "Gao", "category": None, "sex": None,
            "birth_kind": None, "birth_year": None, "cercle": None, "rank": None, "armed": None,
            "full_name": None, "full_name_arabic": None, "birth_date": None, "commune": None, "reason": SEALED,
        }, start + timedelta(days=10)))  # fmt: skip
    return out


def envelope(
    service: str, type_name: str, subject: str, data: dict[str, Any], day: date, version: int
) -> bytes:
    recorded = datetime.now(UTC).isoformat()
    return orjson.dumps(
        {
            "specversion": "1.0", "id": str(uuid.uuid4()), "source": f"/ddr/{service}", "type": type_name,
            "subject": subject, "time": recorded, "datacontenttype": "application/json",
            "dataschema": f"contracts/schemas/{type_name}.json", "streamid": subject, "streamversion": version,
            "correlationid": str(uuid.uuid4()), "causationid": None, "actor": f"service:{service}",
            "occurredat": _stamp(day), "recordedat": recorded, "traceparent": None, "tracestate": None,
            "prevhash": GENESIS_HASH, "data": data,
        },
        option=orjson.OPT_SORT_KEYS,
    )  # fmt: skip


class Caseload:
    """Produces people's events until the wanted count; remembers the people for the path reads."""

    def __init__(self, bootstrap: str, namespace: str) -> None:
        self.bootstrap = bootstrap
        self.namespace = namespace
        self.people: list[str] = []
        self.count = 0
        self._producer: AIOKafkaProducer | None = None

    async def __aenter__(self) -> Caseload:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True, linger_ms=20,
            max_batch_size=1024 * 1024, compression_type=None,
        )  # fmt: skip
        await self._producer.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        assert self._producer is not None
        await self._producer.flush()
        await self._producer.stop()

    async def people_events(self, how_many: int, progress: Any = None) -> None:
        assert self._producer is not None
        for _ in range(how_many):
            i = len(self.people)
            person = str(uuid.uuid4())
            self.people.append(person)
            for version, (service, type_name, data, day) in enumerate(person_events(person, i), start=1):
                payload = envelope(service, type_name, person, data, day, version)
                await self._producer.send(
                    f"{self.namespace}ddr.{service}.events", payload, key=person.encode(),
                    headers=[(HASH_HEADER, hashlib.sha256(payload).hexdigest().encode())],
                )  # fmt: skip
                self.count += 1
            if progress is not None and i % 1000 == 0:
                progress()

    async def until(self, total: int, env: BenchEnv) -> None:
        task = env.progress.add_task(f"producing {total:,} events (untimed)", total=total)
        while self.count < total:
            await self.people_events(1000, lambda: env.progress.update(task, completed=self.count))
        assert self._producer is not None
        await self._producer.flush()
        env.progress.update(task, completed=self.count)


def topics(namespace: str) -> list[str]:
    return [f"{namespace}ddr.{s}.events" for s in SERVICES]


async def bare_drain(env: BenchEnv, namespace: str, total: int) -> tuple[float, float]:
    consumer = AIOKafkaConsumer(
        *topics(namespace), bootstrap_servers=env.kafka_bootstrap_servers, group_id=f"bench-bare-{uuid.uuid4().hex}",
        enable_auto_commit=False, auto_offset_reset="earliest", max_partition_fetch_bytes=4 * 1024 * 1024,
        fetch_max_bytes=16 * 1024 * 1024,
    )  # fmt: skip
    gc.collect()
    began = time.perf_counter()
    await consumer.start()
    try:
        received = 0
        while received < total:
            batches = await consumer.getmany(timeout_ms=200, max_records=BATCH)
            received += sum(len(m) for m in batches.values())
        seconds = time.perf_counter() - began
    finally:
        await consumer.stop()
    return total / seconds, seconds


async def rebuild(env: BenchEnv, namespace: str, total: int) -> tuple[float, float, str]:
    """One rebuild into a new database: (events/s, seconds, database name)."""
    database = await env.create_database("pathway")
    settings = Settings(
        service_name="pathway", database_url=env.database_url(database), kafka_bootstrap_servers=env.kafka_bootstrap_servers,
        var_dir=Path(tempfile.mkdtemp(prefix="ddr-bench-pathway-")), audit_checkpoint_seconds=0,
    )  # fmt: skip
    runtime = build_runtime("pathway", REGISTRY, settings)
    await runtime.store.create_schema()
    await runtime.broker.start()
    engine = runtime.engine
    models = ReadModels(runtime.store, runtime.broker, topics=topics(namespace),
                        namespace=f"bench-{uuid.uuid4().hex[:6]}-")  # fmt: skip
    task = env.progress.add_task(f"rebuild ({total:,} events)", total=total)
    gc.collect()
    began = time.perf_counter()
    await models.start()
    try:
        (consumer,) = models.consumers.values()
        while not (consumer.caught_up.is_set() and consumer.progress.applied >= total):
            await asyncio.sleep(0.05)
            env.progress.update(task, completed=consumer.progress.applied)
            if consumer.caught_up.is_set() and consumer.progress.applied < total:
                consumer.caught_up.clear()  # lag read before the last fetch: keep going
        seconds = time.perf_counter() - began
    finally:
        await models.stop()
        await runtime.broker.stop()
        await engine.dispose()
        await runtime.keys_engine.dispose()
    return total / seconds, seconds, database


async def figures_timing(env: BenchEnv, database: str) -> dict[str, float]:
    """Milliseconds per ``programme_figures`` call (as an auditor sees them: children's and vetting counts
    through the small-count rule), median of the repeats, for each business date; then as known on the
    middle of the recorded history."""
    engine = create_async_engine(env.database_url(database))
    auditor = Disclosure(children=disclose_count, vetting=disclose_count)
    timings: dict[str, float] = {}
    try:
        async with engine.connect() as conn:
            facts = facts_table(DEFAULT_PREFIX, 1)
            first, last = (
                await conn.execute(select(func.min(facts.c.recorded_at), func.max(facts.c.recorded_at)))
            ).one()
            known_on = first + (last - first) / 2
            cases: list[tuple[str, date, datetime | None]] = [(d.isoformat(), d, None) for d in FIGURE_DATES]
            cases.append((f"{FIGURE_DATES[-1].isoformat()} known on mid-history", FIGURE_DATES[-1], known_on))
            for label, as_of, known in cases:
                runs: list[float] = []
                while len(runs) < FIGURE_REPEATS and sum(runs) < FIGURE_BUDGET_MS:
                    began = time.perf_counter()
                    await programme_figures(conn, as_of=as_of, known_on=known, disclosure=auditor)
                    runs.append((time.perf_counter() - began) * 1000)
                timings[label] = statistics.median(runs)
            began = time.perf_counter()
            await programme_figures(conn, as_of=FIGURE_DATES[-1], disclosure=Disclosure(exact, exact))
            timings["exact (child protection)"] = (time.perf_counter() - began) * 1000
    finally:
        await engine.dispose()
    return timings


async def path_reads(env: BenchEnv, database: str, namespace: str, caseload: Caseload) -> dict[str, float]:
    """Path read latencies (ms) over HTTP while live events keep arriving."""
    folder = Path(tempfile.mkdtemp(prefix="ddr-bench-pathway-"))
    issuer = DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="bench", audience="bench")
    settings = Settings(
        service_name="pathway", database_url=env.database_url(database), var_dir=folder,
        kafka_bootstrap_servers=env.kafka_bootstrap_servers, topic_namespace=namespace,
    )  # fmt: skip
    app = build_app(
        settings, token_verifier=TokenVerifier(issuer.public_key_pem, issuer="bench", audience="bench")
    )
    headers = {"Authorization": f"Bearer {issuer.issue(subject='bench-auditor', roles=[Role.AUDITOR])}"}
    people = list(caseload.people)
    latencies: list[float] = []
    failures = 0
    stop = asyncio.Event()

    async def live_load() -> None:
        while not stop.is_set():
            began = time.perf_counter()
            await caseload.people_events(max(1, LIVE_EVENTS_PER_SECOND // 6 // 10))
            await asyncio.sleep(max(0.0, 0.1 - (time.perf_counter() - began)))

    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://pathway") as client,
    ):
        rng = random.Random(5)

        async def reader(count: int) -> None:
            nonlocal failures
            for _ in range(count):
                person = rng.choice(people)
                began = time.perf_counter()
                response = await client.get(f"/paths/{person}", headers=headers)
                latencies.append((time.perf_counter() - began) * 1000)
                failures += response.status_code != 200

        loader = asyncio.create_task(live_load())
        await reader(50)  # warm-up, not counted
        latencies.clear()
        store = app.state.runtime.store
        commits_before, reads_before = commit_counts(store)
        await asyncio.gather(*(reader(READS // READERS) for _ in range(READERS)))
        commits, recorded = (
            a - b for a, b in zip(commit_counts(store), (commits_before, reads_before), strict=True)
        )
        stop.set()
        await loader
    ordered = sorted(latencies)
    return {
        "p50_ms": statistics.median(ordered),
        "p95_ms": ordered[int(0.95 * (len(ordered) - 1))],
        "p99_ms": ordered[int(0.99 * (len(ordered) - 1))],
        "max_ms": ordered[-1],
        "reads": len(ordered),
        "failures": failures,
        "read_records_per_commit": recorded / commits if commits else 0.0,
    }


async def run(env: BenchEnv) -> None:
    wanted = events_wanted(env)
    namespace = f"bench{uuid.uuid4().hex[:10]}."
    await asyncio.to_thread(
        ensure_topics, env.kafka_bootstrap_servers, platform_topics(PARTITIONS, 1, namespace)
    )
    began_at = now_iso()
    ours: list[float] = []
    ours_seconds: list[float] = []
    bare: list[float] = []
    bare_seconds: list[float] = []
    async with Caseload(env.kafka_bootstrap_servers, namespace) as caseload:
        produce_began = time.perf_counter()
        await caseload.until(wanted, env)
        produce_seconds = time.perf_counter() - produce_began
        total = caseload.count
        people = len(caseload.people)
        database = ""
        for _ in range(env.runs):
            rate, seconds = await bare_drain(env, namespace, total)
            bare.append(rate)
            bare_seconds.append(seconds)
            rate, seconds, database = await rebuild(env, namespace, total)
            ours.append(rate)
            ours_seconds.append(seconds)
        figures_ms = await figures_timing(env, database)
        reads = await path_reads(env, database, namespace, caseload)
    figures = [
        Figure(
            "rebuild.events_per_second",
            "pathway rebuild (new generation, PostgreSQL)",
            "events/s",
            tuple(ours),
        ),
        Figure("rebuild.seconds", "pathway rebuild, seconds", "s", tuple(ours_seconds)),
        Figure("bare.events_per_second", "bare AIOKafkaConsumer drain", "events/s", tuple(bare)),
        Figure("bare.seconds", "bare drain, seconds", "s", tuple(bare_seconds)),
    ]
    rate = statistics.median(ours)
    ratio = rate / statistics.median(bare)
    projected_10m = DEFAULT_EVENTS / rate
    document = {
        "name": NAME,
        "measured_at": began_at,
        "events": total,
        "people": people,
        "events_requested": wanted,
        "produce_seconds": round(produce_seconds, 1),
        "figures": [f.as_json() for f in figures],
        "ratio_to_bare": round(ratio, 3),
        "projected_seconds_for_10m": round(projected_10m, 1),
        "path_reads": {k: round(v, 2) for k, v in reads.items()},
        "figures_ms": {k: round(v, 1) for k, v in figures_ms.items()},
        "machine": machine_info(),
        "versions": {**env.versions, **package_versions()},
    }
    env.write_json(NAME, document)
    env.write_section(NAME, section(document, figures, total, ratio, projected_10m, reads, env))


def _verdict(met: bool) -> str:
    return "met" if met else "**missed**"


def section(
    document: dict[str, Any], figures: list[Figure], total: int, ratio: float, projected: float,
    reads: dict[str, float], env: BenchEnv,
) -> str:  # fmt: skip
    rebuild_rate, rebuild_seconds, bare_rate, _ = figures
    measured_10m = total >= DEFAULT_EVENTS
    machine = document["machine"]
    return "\n".join([
        "## Pathway: rebuild of the read models from offset zero, path reads under load",
        "",
        f"Measured {document['measured_at']} by `python -m tests.bench.run --only {NAME}` (module `tests/bench/{NAME}.py`); "
        f"raw figures in `var/bench/{NAME}.json`. Median of {env.runs} run(s) (min-max). "
        f"**N = {total:,} events** ({document['people']:,} people) across the registration, screening, integration and "
        f"reinsertion topics (6 partitions each){'' if measured_10m else '; the 10 million of the target were not run here (N is `DDR_BENCH_PATHWAY_EVENTS`, default 10,000,000)'}.",
        "",
        "| Figure | Value | Target | Result |",
        "|---|---:|---|---|",
        f"| Rebuild (new generation into PostgreSQL), events/s | {rebuild_rate.cell()} | | |",
        f"| Bare `AIOKafkaConsumer` drain of the same topics, events/s | {bare_rate.cell()} | | |",
        f"| Rebuild rate / bare drain rate | {ratio:.2f}x | ≥ 0.33x | {_verdict(ratio >= TARGET_RATIO)} |",
        f"| Rebuild of {total:,} events, seconds | {rebuild_seconds.cell()} | | |",
        f"| 10 million events at the measured rate, seconds | {projected:,.0f}{'' if measured_10m else ' (projected)'} | < 300 s | {_verdict(projected < TARGET_SECONDS_FOR_10M)} |",
        f"| `/figures` at {document['people']:,} people, ms (slowest of: "
        + ", ".join(f"{k} {v:,.0f}" for k, v in document["figures_ms"].items())
        + f") | {max(document['figures_ms'].values()):,.0f} | < 200 ms at 100,000 people | "
        f"{_verdict(max(document['figures_ms'].values()) < TARGET_FIGURES_MS) if document['people'] >= 100_000 else 'not at 100,000 people' if max(document['figures_ms'].values()) < TARGET_FIGURES_MS else _verdict(False)} |",
        f"| Path read p99 under live load, ms | {reads['p99_ms']:.1f} (p50 {reads['p50_ms']:.1f}, p95 {reads['p95_ms']:.1f}, max {reads['max_ms']:.1f}) | < 50 ms | {_verdict(reads['p99_ms'] < TARGET_P99_MS)} |",
        "",
        f"Method: events produced once (untimed, {document['produce_seconds']:.0f} s) as envelopes shaped like the stores' "
        "(personal fields sealed-looking, never opened; hash header). Rebuild: `ReadModels.start()` on a new database "
        f"(a new consumer group from the earliest offset, batches of up to {BATCH:,}, one fact row per event inserted "
        "with ON CONFLICT DO NOTHING, offsets committed after each batch), timed until caught up with every event "
        "applied. Bare: `AIOKafkaConsumer.getmany` in a new group until every message is received. They alternate. "
        f"Path reads: {reads['reads']:.0f} `GET /paths/{{id}}` over ASGI by {READERS} concurrent auditors (each also "
        f"appends its `PathRead` record and its ledger row to the PostgreSQL store before it is answered; group commit: "
        f"{reads.get('read_records_per_commit', 0):.1f} reads per transaction), while new people's events arrive at about "
        f"{LIVE_EVENTS_PER_SECOND} events/s and the live generation applies them; {reads['failures']:.0f} failed.",
        "",
        f"Machine: {machine['nproc']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB; load average "
        f"{machine['load_average_at_start']} at the start (other sessions share it); Kafka "
        f"{document['versions'].get('kafka')}, PostgreSQL {document['versions'].get('postgresql')}, all on this machine.",
    ])  # fmt: skip
