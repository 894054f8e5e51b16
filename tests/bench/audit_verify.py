"""``ddr audit verify``, store side: events whose hash chain is checked per second, over a large store.

The target (issue 15): at least half the raw ceiling measured in the same run, that is reading the same
rows out of PostgreSQL with ``COPY ... TO STDOUT`` and hashing each payload with SHA-256 on every core (one
process per core, each copying out its share of the rows, nothing else done with them).

Setup (untimed): a store of N events (1,000,000 at scale 1; 5 per person, as a registration store holds)
in a new PostgreSQL database of the benchmark server, and the same in an SQLite file. Every event is the
canonical envelope bytes the runtime stores (same keys, a PersonPreRegistered-sized ``data`` with its
personal fields as ``enc:v1:`` ciphertext of realistic length), chained by SHA-256 exactly as
``EventStore`` chains them, written with COPY (PostgreSQL) and ``executemany`` (SQLite); the first events of
each store are appended through the runtime's own ``EventStore`` so the two formats are checked together.

Timed: :func:`ddr_runtime.audit.platform.check_chains`, the store-side check of ``ddr audit verify``:
one read-only snapshot streamed in batches of 20,000 rows, SHA-256 over every stored payload, version and
``prevhash`` continuity per stream. It must find no offence. On PostgreSQL a store this large is checked by one process per core, each reading
its streams with binary COPY below one horizon; the ceiling and the check alternate run by run.
``python -m tests.bench.run --only audit_verify --runs 1 --scale 0.1`` is a quick smoke run.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import multiprocessing
import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.envelope import GENESIS_HASH, canonical_bytes
from ddr_contracts.registration import PersonPreRegistered
from ddr_runtime.audit.chains import hash_share_in_process
from ddr_runtime.audit.platform import check_chains, default_workers
from ddr_runtime.audit.sources import asyncpg_dsn, store_horizon
from ddr_runtime.config import Settings
from ddr_runtime.db import create_engine
from ddr_runtime.eventstore.schema import create_store_schema
from ddr_runtime.eventstore.store import EVENT_COLUMNS, Causation, NewEvent
from ddr_runtime.service import build_runtime
from tests.bench import BenchEnv, Figure, machine_info, now_iso, package_versions

NAME = "audit_verify"
SIZE = 1_000_000
EVENTS_PER_STREAM = 5
TARGET_RATIO = 0.5
CHUNK = 50_000
RUNTIME_EVENTS = 1_000


def _sealed(length: int) -> str:
    return "enc:v1:" + base64.urlsafe_b64encode(os.urandom(length)).decode()


def generated_rows(count: int, seed_streams: int) -> Iterator[list[tuple[Any, ...]]]:
    """Chunks of event rows (EVENT_COLUMNS order) as ``EventStore`` writes them, chained per stream."""
    recorded = datetime(2019, 6, 1, 9, tzinfo=UTC)
    stamp = recorded.isoformat().replace("+00:00", "Z")
    streams = max(count // EVENTS_PER_STREAM, 1)
    tails: dict[int, tuple[int, str]] = {}
    chunk: list[tuple[Any, ...]] = []
    for i in range(count):
        number = (i % streams) + seed_streams
        version, previous = tails.get(number, (0, GENESIS_HASH))
        version += 1
        person = f"{number:08d}-0000-4000-8000-000000000000"
        event_id = str(uuid.uuid4())
        stream_id = f"person-{person}"
        document: dict[str, Any] = {
            "actor": "bench-import",
            "causationid": None,
            "correlationid": "bench",
            "data": {
                "armed": True,
                "birth_date": None,
                "birth_kind": "year",
                "birth_place": _sealed(12),
                "birth_year": 1988,
                "category": "combatant",
                "cercle": "Kidal",
                "commune": _sealed(10),
                "declared_weapons": [],
                "father_name": _sealed(14),
                "full_name": _sealed(24),
                "full_name_arabic": None,
                "list_id": "list-1",
                "list_version": 1,
                "mother_name": _sealed(14),
                "movement": "MNLA",
                "movement_ref": f"R-{number}",
                "person_id": person,
                "rank": "soldat",
                "region": "Kidal",
                "sex": "M",
            },
            "datacontenttype": "application/json",
            "dataschema": "contracts/schemas/ddr.registration.PersonPreRegistered.v1.json",
            "id": event_id,
            "occurredat": stamp,
            "prevhash": previous,
            "recordedat": stamp,
            "source": "/ddr/registration",
            "specversion": "1.0",
            "streamid": stream_id,
            "streamversion": version,
            "subject": person,
            "time": stamp,
            "traceparent": None,
            "tracestate": None,
            "type": "ddr.registration.PersonPreRegistered.v1",
        }
        payload = canonical_bytes(document)
        digest = hashlib.sha256(payload).hexdigest()
        tails[number] = (version, digest)
        chunk.append(
            (event_id, stream_id, version, "ddr.registration.PersonPreRegistered.v1", person, recorded, payload,
             digest, None)
        )  # fmt: skip
        if len(chunk) >= CHUNK:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


async def through_runtime(url: str, var_dir: Path, count: int) -> None:
    """The first events, appended by the runtime's EventStore itself (real encryption, real chain)."""
    settings = Settings(service_name="registration", database_url=url, var_dir=var_dir)
    runtime = build_runtime("registration", REGISTRY, settings)
    try:
        await runtime.keystore.create_schema()
        await runtime.store.create_schema()
        streams = []
        for i in range(count):
            person = str(uuid.uuid4())
            streams.append((f"person-{person}", [NewEvent(_pre_registered(person, i), person)]))
        await runtime.store.append_new_streams(streams, Causation("bench"))
    finally:
        await runtime.engine.dispose()
        await runtime.keys_engine.dispose()


def _pre_registered(person: str, i: int) -> PersonPreRegistered:
    return PersonPreRegistered(
        person_id=person, list_id="list-1", list_version=1, movement="MNLA", movement_ref=f"R-{i}",
        category="combatant", sex="M", birth_kind="year", region="Kidal", cercle="Kidal", rank="soldat",
        armed=True, birth_year=1988, full_name="Ibrahim Ag Assaleh", full_name_arabic=None,
        birth_date=date(1988, 1, 1), commune="Anefis", father_name="Assaleh", mother_name="Fadimata",
        birth_place="Kidal",
    )  # fmt: skip


async def fill_postgres(url: str, count: int) -> None:
    conn = await asyncpg.connect(
        make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    )
    try:
        for chunk in generated_rows(count, 10_000_000):
            await conn.copy_records_to_table("events", records=chunk, columns=EVENT_COLUMNS)
        await conn.execute("ANALYZE events")
    finally:
        await conn.close()


def fill_sqlite(path: Path, count: int) -> None:
    conn = sqlite3.connect(path)
    try:
        columns = ", ".join(EVENT_COLUMNS)
        marks = ", ".join("?" for _ in EVENT_COLUMNS)
        for chunk in generated_rows(count, 10_000_000):
            with conn:
                conn.executemany(
                    f"INSERT INTO events ({columns}) VALUES ({marks})",
                    [(*r[:5], r[5].isoformat(), *r[6:]) for r in chunk],
                )
    finally:
        conn.close()


_DOING = {"postgres": "events verified", "sqlite": "events verified", "ceiling": "rows copied out and hashed"}


async def ceiling(url: str) -> tuple[int, float]:
    """Read the same rows out with COPY and hash them, one process per core: the physical ceiling."""
    horizon, _ = await store_horizon(url)
    dsn = asyncpg_dsn(url)
    parts = default_workers()
    loop = asyncio.get_running_loop()
    with ProcessPoolExecutor(parts, mp_context=multiprocessing.get_context("spawn")) as pool:
        started = time.perf_counter()
        counts = await asyncio.gather(
            *(loop.run_in_executor(pool, hash_share_in_process, dsn, horizon, k, parts) for k in range(parts))
        )
        seconds = time.perf_counter() - started
    return sum(counts), seconds


async def measure(url: str) -> tuple[int, float]:
    started = time.perf_counter()
    checker = await check_chains("registration", url)
    seconds = time.perf_counter() - started
    if checker.offences:
        raise AssertionError(f"the benchmark store does not verify: {checker.offences[:3]}")
    return checker.events, seconds


async def run(env: BenchEnv) -> None:
    started = now_iso()
    machine = machine_info()
    size = max(int(SIZE * env.scale), 10_000)
    generated = size - RUNTIME_EVENTS
    with tempfile.TemporaryDirectory(prefix="bench-audit-") as folder:
        database = await env.create_database("audit")
        pg_url = env.database_url(database)
        sqlite_path = Path(folder) / "registration.sqlite"
        sqlite_url = f"sqlite+aiosqlite:///{sqlite_path}"
        try:
            setup = time.perf_counter()
            for url in (pg_url, sqlite_url):
                engine = create_engine(url)
                await create_store_schema(engine)
                await engine.dispose()
                await through_runtime(url, Path(folder) / "var", RUNTIME_EVENTS)
            env.console.log(f"runtime events appended; generating {generated:,} more per store")
            await fill_postgres(pg_url, generated)
            fill_sqlite(sqlite_path, generated)
            env.console.log(f"stores filled in {time.perf_counter() - setup:,.0f} s")
            results: dict[str, list[tuple[int, float]]] = {"postgres": [], "sqlite": [], "ceiling": []}
            for _ in range(env.runs):
                results["ceiling"].append(await ceiling(pg_url))
                env.console.log(f"ceiling: {results['ceiling'][-1]}")
                if results["ceiling"][-1][0] != size:
                    raise AssertionError(f"the ceiling read {results['ceiling'][-1][0]} rows, not {size}")
                results["postgres"].append(await measure(pg_url))
                env.console.log(f"postgres: {results['postgres'][-1]}")
                results["sqlite"].append(await measure(sqlite_url))
                env.console.log(f"sqlite: {results['sqlite'][-1]}")
        finally:
            await env.drop_database(database)
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    figures = [
        Figure(f"{backend}.events_per_second", f"{_DOING[backend]} per second ({backend})", "events/s",
               tuple(n / s for n, s in runs))
        for backend, runs in results.items()
    ] + [
        Figure(f"{backend}.seconds", f"seconds for {size:,} events ({backend})", "s", tuple(s for _, s in runs))
        for backend, runs in results.items()
    ]  # fmt: skip
    ratios = tuple(
        (n / s) / (cn / cs) for (n, s), (cn, cs) in zip(results["postgres"], results["ceiling"], strict=True)
    )
    figures.append(Figure("postgres.ratio", "ratio to the ceiling (postgres, run by run)", "x", ratios))
    by_key = {f.key: f for f in figures}
    met = by_key["postgres.ratio"].median >= TARGET_RATIO
    document: dict[str, Any] = {
        "benchmark": NAME,
        "date": started,
        "finished": now_iso(),
        "runs": env.runs,
        "machine": machine,
        "versions": {**env.versions, **package_versions()},
        "parameters": {"events": size, "events_per_stream": EVENTS_PER_STREAM, "scale": env.scale},
        "figures": [f.as_json() for f in figures],
        "target": {"ratio_to_ceiling": TARGET_RATIO, "met": met},
        "workers": default_workers(),
    }
    json_path = env.write_json(NAME, document)
    env.write_section(NAME, render(document, figures, size))
    env.console.print(
        f"audit verify, store side: postgres {by_key['postgres.events_per_second'].median:,.0f} events/s, "
        f"sqlite {by_key['sqlite.events_per_second'].median:,.0f} events/s over {size:,} events; ceiling "
        f"{by_key['ceiling.events_per_second'].median:,.0f}/s, ratio {by_key['postgres.ratio'].median:.2f}x; "
        f"target {TARGET_RATIO}x: {'met' if met else 'missed'}"
    )
    env.console.log(f"wrote {json_path}")


def render(document: dict[str, Any], figures: list[Figure], size: int) -> str:
    machine = document["machine"]
    rows = "\n".join(f"| {f.label} | {f.cell()} |" for f in figures)
    verdict = "met" if document["target"]["met"] else "missed"
    return f"""## Audit verify, store side ({document["date"]})

`ddr audit verify`'s chain check (SHA-256 over every stored payload, version and `prevhash` continuity per
stream; on PostgreSQL binary COPY below one horizon, the streams split over {document["workers"]} processes)
over one store of {size:,} events
({EVENTS_PER_STREAM} per stream, about 1 KB each). Median (min-max) of {document["runs"]} run(s);
{machine["nproc"]} cores, {machine["cpu_model"]}, load average at start {machine["load_average_at_start"]},
at end {machine["load_average_at_end"]} (the machine is shared: figures drop with the load).

| figure | value |
|---|---|
{rows}

The ceiling is the same rows read out with `COPY ... TO STDOUT` and each payload hashed with SHA-256, one
process per core, measured in the same run (alternating with the check). Target: the check at least
{TARGET_RATIO}x the ceiling on PostgreSQL: **{verdict}**.
"""
