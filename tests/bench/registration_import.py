"""Registration list import, end to end: a generated caseload's list files to acknowledged events on Kafka.

The issue's benchmark: import a generated list of 74,000 rows (the 2018 pre-registration size), file to
events on Kafka, in under 60 s on the 2-core machine, memory flat in the file's size.

One timed run, in a new database of the benchmark server:

1. ``generate_caseload(size, seed=7)`` written as one CSV file per movement (untimed), the eight movements
   registered (untimed);
2. each movement's file imported through the service layer (``import_list``, the code path of
   ``ddr lists import``): parse, pre-register, flag suspected duplicates, one transaction per file;
3. the service's outbox relay draining every stored event to Kafka until each is acknowledged.

Figures: rows/s end to end (2 + 3), the seconds of each stage, the events published, and the peak RSS growth
of this process during 2 + 3 (sampled every 20 ms, after a collection and ``malloc_trim``), beside the same
for a 20,000-row caseload: flat memory means the two growths are close, not in proportion to the files.
``python -m tests.bench.run --only registration_import --runs 1 --scale 0.07`` is a quick smoke run.
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import gc
import os
import tempfile
import threading
import time
from contextlib import ExitStack, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.topics import events_topic
from ddr_registration.adapters.list_files import ListFileWriter
from ddr_registration.bootstrap import build_app, build_desk, build_unit, prepare
from ddr_registration.service_layer.handlers import register_movement
from ddr_registration.service_layer.importing import ImportReport, import_list
from ddr_registration.simulate.caseload import generate_caseload
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.messaging.topics import KEEP_FOREVER, TopicSpec, ensure_topics
from ddr_runtime.service import build_runtime
from tests.bench import BenchEnv, Figure, machine_info, now_iso, package_versions

NAME = "registration_import"
SERVICE = "registration"
SIZE = 74_000
SMALL_SIZE = 20_000  # the comparison run for memory
API_SIZE = 9_000  # one movement's file through POST /lists
API_TARGET_SECONDS = 15.0
SEED = 7
TARGET_SECONDS = 60.0
PARTITIONS = 6
SAMPLE_SECONDS = 0.02
CAUSE = Causation(actor="bench")
MASTER_KEY = bytes(range(32))  # a throwaway key-encryption key for a throwaway key store
BIOMETRIC_KEY = bytes(range(32, 64))


@dataclass(frozen=True)
class ImportRun:
    rows: int
    files: int
    import_seconds: float
    relay_seconds: float
    events: int
    pre_registered: int
    already_listed: int
    rejected: int
    duplicates_suspected: int
    rss_growth_mib: float

    @property
    def seconds(self) -> float:
        return self.import_seconds + self.relay_seconds

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


class PeakRss:
    """Samples this process's RSS in a thread; ``growth`` is the peak above the RSS at the start."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, name="bench-rss", daemon=True)
        self.baseline = 0
        self.peak = 0

    def _sample(self) -> None:
        while not self._stop.wait(SAMPLE_SECONDS):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __enter__(self) -> PeakRss:
        release_memory()
        self.baseline = self.peak = self._process.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._process.memory_info().rss)

    @property
    def growth_mib(self) -> float:
        return (self.peak - self.baseline) / 1024 / 1024


def release_memory() -> None:
    """Collect, then hand freed heap back to the OS, so a run's baseline does not hide an earlier run's."""
    gc.collect()
    with suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def scaled_size(env: BenchEnv, size: int) -> int:
    return max(100, round(size * env.scale))


def write_lists(size: int, folder: Path) -> list[tuple[str, Path, int]]:
    """The caseload as one CSV file per movement: (movement, path, rows), in the order first met."""
    with ExitStack() as files:
        writers: dict[str, ListFileWriter] = {}
        for row in generate_caseload(size, seed=SEED).rows():
            writer = writers.get(row.movement)
            if writer is None:
                writer = writers[row.movement] = files.enter_context(
                    ListFileWriter(folder / f"{row.movement}.csv")
                )
            writer.write(row.member)
        return [(movement, w.path, w.rows) for movement, w in writers.items()]


def write_one_list(size: int, folder: Path) -> tuple[str, Path]:
    """The first ``size`` members of the caseload's largest movement as one CSV file: (movement, path)."""
    rows = list(generate_caseload(SIZE, seed=SEED).rows())
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.movement] = counts.get(row.movement, 0) + 1
    movement = max(counts, key=lambda name: counts[name])
    path = folder / f"{movement}.csv"
    with ListFileWriter(path) as writer:
        for row in (row for row in rows if row.movement == movement):
            if writer.rows == size:
                break
            writer.write(row.member)
    return movement, path


async def api_run(env: BenchEnv, size: int) -> float:
    """Seconds for one ``POST /lists`` of a ``size``-row file (a CNDDR officer, in process over ASGI), until
    the answer: the report, every row stored with its outbox row."""
    issuer = DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="bench", audience="bench")
    verifier = TokenVerifier(issuer.public_key_pem, issuer="bench", audience="bench")
    token = issuer.issue(subject="bench-officer", roles=[Role.CNDDR_OFFICER])
    headers = {"Authorization": f"Bearer {token}"}
    with tempfile.TemporaryDirectory(prefix="ddr-bench-api-") as tmp:
        folder = Path(tmp)
        movement, path = await asyncio.to_thread(write_one_list, size, folder)
        database = await env.create_database("import_api")
        app = build_app(
            settings_for(env, database, folder), token_verifier=verifier, biometric_key=BIOMETRIC_KEY
        )
        try:
            async with (
                app.router.lifespan_context(app),
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app), base_url="http://registration", timeout=600
                ) as client,
            ):
                answer = await client.post(
                    "/movements",
                    json={"code": movement, "display_name": movement, "kind": "movement"},
                    headers=headers,
                )
                answer.raise_for_status()
                body = path.read_bytes()
                began = time.perf_counter()
                answer = await client.post(
                    "/lists",
                    params={"movement": movement},
                    files={"file": (path.name, body, "text/csv")},
                    headers=headers,
                )
                seconds = time.perf_counter() - began
                answer.raise_for_status()
                report = answer.json()
                if report["rows_total"] != size or report["status"] != "accepted":
                    raise RuntimeError(
                        f"POST /lists: {report['status']}, {report['rows_total']} of {size} rows"
                    )
        finally:
            await env.drop_database(database)
    return seconds


def settings_for(env: BenchEnv, database: str, var_dir: Path) -> Settings:
    url = env.database_url(database, driver=None)
    return Settings(
        service_name=SERVICE,
        database_url=url,
        keystore_url=url,
        master_key=base64.b64encode(MASTER_KEY).decode(),
        kafka_bootstrap_servers=env.kafka_bootstrap_servers,
        var_dir=var_dir,
    )


async def import_run(env: BenchEnv, size: int) -> ImportRun:
    """One timed run of ``size`` rows in a new database: files imported, then the outbox drained."""
    with tempfile.TemporaryDirectory(prefix="ddr-bench-import-") as tmp:
        folder = Path(tmp)
        lists = await asyncio.to_thread(write_lists, size, folder)
        database = await env.create_database("import")
        runtime = build_runtime(SERVICE, REGISTRY, settings_for(env, database, folder))
        unit = build_unit(runtime)
        reg = build_desk(runtime, unit, BIOMETRIC_KEY)
        try:
            await runtime.keystore.create_schema()
            await runtime.store.create_schema()
            await prepare(reg, unit)
            for movement, _path, _rows in lists:
                await register_movement(reg, movement, movement, "movement", CAUSE)
            await runtime.broker.connect()
            await runtime.relay.drain()  # the movements' events: not part of the timed run
            task = env.progress.add_task(f"importing {size:,} rows ({len(lists)} files)", total=size)
            reports: list[ImportReport] = []
            with PeakRss() as rss:
                began = time.perf_counter()
                for movement, path, _rows in lists:
                    done = sum(r.rows_total for r in reports)

                    def advance(rows: int, base: int = done) -> None:
                        env.progress.update(task, completed=base + rows)

                    reports.append(await import_list(reg, path, movement, CAUSE, progress=advance))
                imported = time.perf_counter()
                events = await runtime.relay.drain()
                relayed = time.perf_counter()
            env.progress.remove_task(task)
        finally:
            await runtime.broker.stop()
            await runtime.engine.dispose()
            await runtime.keys_engine.dispose()
            await env.drop_database(database)
    rows = sum(r.rows_total for r in reports)
    if rows != size or any(r.status != "accepted" for r in reports):
        raise RuntimeError(f"imported {rows} of {size} rows: {[r.status for r in reports]}")
    return ImportRun(
        rows=rows,
        files=len(lists),
        import_seconds=imported - began,
        relay_seconds=relayed - imported,
        events=events,
        pre_registered=sum(r.rows_pre_registered for r in reports),
        already_listed=sum(r.rows_already_listed for r in reports),
        rejected=sum(r.rows_rejected for r in reports),
        duplicates_suspected=sum(r.duplicates_suspected for r in reports),
        rss_growth_mib=rss.growth_mib,
    )


def figures_of(prefix: str, label: str, runs: list[ImportRun]) -> list[Figure]:
    return [
        Figure(f"{prefix}.rows_per_second", f"{label}: rows/s, file to acknowledged", "rows/s",
               tuple(r.rows_per_second for r in runs)),
        Figure(f"{prefix}.seconds", f"{label}: seconds, file to acknowledged", "s", tuple(r.seconds for r in runs)),
        Figure(f"{prefix}.import_seconds", f"{label}: seconds importing (service layer)", "s",
               tuple(r.import_seconds for r in runs)),
        Figure(f"{prefix}.relay_seconds", f"{label}: seconds relaying to Kafka", "s",
               tuple(r.relay_seconds for r in runs)),
        Figure(f"{prefix}.rss_growth", f"{label}: peak RSS growth", "MiB", tuple(r.rss_growth_mib for r in runs)),
        Figure(f"{prefix}.rss_per_person", f"{label}: peak RSS growth per listed person", "KiB",
               tuple(r.rss_growth_mib * 1024 / r.rows for r in runs)),
    ]  # fmt: skip


def render(
    document: dict[str, Any], figures: dict[str, Figure], big: list[Figure], small: list[Figure], api: Figure
) -> str:
    p = document["parameters"]
    full_runs = document["runs_detail"]["full"]
    seconds = figures["full.seconds"].median
    met = "met" if seconds < TARGET_SECONDS else "missed"
    m = document["machine"]
    lines = [
        "## Registration: list import, file to Kafka",
        "",
        f"{document['date']} on {m['nproc']} cores ({m['cpu_model']}, {m['memory_gib']} GiB), "
        f"PostgreSQL {document['versions'].get('postgresql')}, Kafka {document['versions'].get('kafka')}; "
        f"median of {document['runs']} run(s), (min-max).",
        "",
        f"A caseload of {p['size']:,} rows (`generate_caseload({p['size']}, seed={p['seed']})`, one CSV file "
        f"per movement, {full_runs[0]['files']} files) imported through the service layer (`import_list`, the "
        "path of `ddr lists import`) on PostgreSQL, then the outbox relay draining every event to Kafka until "
        f"acknowledged. Target: under {TARGET_SECONDS:.0f} s — **{met}** ({seconds:,.1f} s).",
        "",
        "| Figure | Median (min-max) | Unit |",
        "|---|---|---|",
    ]
    for figure in (*big, *small, api):
        lines.append(
            f"| {figure.label} | {figure.median:,.1f} ({figure.low:,.1f}-{figure.high:,.1f}) | {figure.unit} |"
        )
    run = full_runs[0]
    lines += [
        "",
        f"Events published: {run['events']:,} ({run['pre_registered']:,} pre-registered, "
        f"{run['already_listed']:,} already listed, {run['rejected']:,} rejected, "
        f"{run['duplicates_suspected']:,} suspected duplicates, one list version per file). Peak RSS growth: "
        f"{figures['full.rss_growth'].median:,.0f} MiB for {p['size']:,} rows against "
        f"{figures['small.rss_growth'].median:,.0f} MiB for {p['small_size']:,} rows; the files are streamed "
        "in chunks, what grows with the caseload is the in-memory identity index (every person's names and "
        "blocking keys, needed to flag duplicates across lists). "
        f"`POST /lists` (a CNDDR officer, in process over ASGI, the app's relay running beside it): one file "
        f"of {p['api_size']:,} rows of one movement, timed from the request "
        f"to the answer (rows stored, not yet on Kafka); target under {API_TARGET_SECONDS:.0f} s — "
        f"**{'met' if api.median < API_TARGET_SECONDS else 'missed'}** ({api.median:,.1f} s).",
    ]  # fmt: skip
    if p["scale"] != 1.0:
        lines += ["", f"**Scaled run (scale {p['scale']}): not comparable with full runs.**"]
    return "\n".join(lines)


async def run(env: BenchEnv) -> None:
    started = now_iso()
    machine = machine_info()
    size, small_size = scaled_size(env, SIZE), scaled_size(env, SMALL_SIZE)
    ensure_topics(
        env.kafka_bootstrap_servers, [TopicSpec(events_topic(SERVICE), PARTITIONS, dict(KEEP_FOREVER))]
    )
    small_runs: list[ImportRun] = []
    full_runs: list[ImportRun] = []
    for _ in range(env.runs):
        small_runs.append(await import_run(env, small_size))
        env.console.log(f"{small_size:,} rows: {small_runs[-1]}")
        full_runs.append(await import_run(env, size))
        env.console.log(f"{size:,} rows: {full_runs[-1]}")
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    full = figures_of("full", f"{size:,} rows", full_runs)
    small = figures_of("small", f"{small_size:,} rows", small_runs)
    figures: dict[str, Figure] = {f.key: f for f in (*full, *small)}
    api_size = scaled_size(env, API_SIZE)
    api_seconds = [await api_run(env, api_size) for _ in range(env.runs)]
    env.console.log(f"POST /lists, {api_size:,} rows: {api_seconds}")
    api = Figure("api.seconds", f"{api_size:,} rows through POST /lists: seconds to the answer", "s",
                 tuple(api_seconds))  # fmt: skip
    figures[api.key] = api
    document: dict[str, Any] = {
        "benchmark": NAME,
        "date": started,
        "finished": now_iso(),
        "runs": env.runs,
        "machine": machine,
        "versions": {**env.versions, **package_versions()},
        "parameters": {"size": size, "small_size": small_size, "api_size": api_size, "seed": SEED,
                       "scale": env.scale},
        "figures": [f.as_json() for f in (*full, *small, api)],
        "runs_detail": {
            "full": [{**r.__dict__, "seconds": r.seconds, "rows_per_second": r.rows_per_second} for r in full_runs],
            "small": [{**r.__dict__, "seconds": r.seconds, "rows_per_second": r.rows_per_second} for r in small_runs],
        },
        "target": {"seconds": TARGET_SECONDS, "met": figures["full.seconds"].median < TARGET_SECONDS,
                   "api_seconds": API_TARGET_SECONDS, "api_met": api.median < API_TARGET_SECONDS},
    }  # fmt: skip
    json_path = env.write_json(NAME, document)
    docs_path = env.write_section(NAME, render(document, figures, full, small, api))
    status = "[green]met[/]" if document["target"]["met"] else "[red]missed[/]"
    if env.scaled:
        status += " (scaled run: not the benchmark's size)"
    env.console.print(
        f"{size:,} rows file to Kafka: {figures['full.seconds'].median:,.1f} s "
        f"({figures['full.rows_per_second'].median:,.0f} rows/s); target {TARGET_SECONDS:.0f} s: {status}"
    )
    env.console.log(f"wrote {json_path} and the {NAME} section of {docs_path}")
