"""One-by-one writes through the HTTP APIs, as a registration site and a screening desk send them (issue 15:
2,300 registrations took 247 s, 9 per second, when first tried; target at least 200 requests per second at 8
concurrent clients).

Registration and screening run as they are deployed: each its own process (``uvicorn --factory``, the
service's ``create_app``, settings from the environment), its store and key store in a new PostgreSQL database
of the benchmark server, its events on the benchmark's Kafka (a topic namespace of its own), screening opening
its cases from registration's events. Tokens are the development issuer's, signed with the key both services
verify with.

Untimed: the movements, the certified lists of the accelerated DDR (:mod:`tests.e2e.scenario`, its 2,300
adults), the records' versions, and screening opening the cases. Timed, each with 8 clients (httpx over TCP,
one kept-alive connection each) taking the next item as soon as their last answer came:

* **registration**: ``POST /persons/{id}/registration`` with biometrics, ``If-Match`` the version read and an
  ``Idempotency-Key``, one person per request (2,300);
* **examinations**: ``POST /cases/{id}/examinations`` with an ``Idempotency-Key``, one case per request.

Every answer is checked (200/201). With ``DDR_BENCH_PYSPY=1`` the service processes are sampled with py-spy
(``uv run --with py-spy==0.4.3``) during each timed phase, and the top frames (own time) are kept.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_runtime.stack.native import free_ports
from ddr_testkit.upstream import create_namespace_topics, new_namespace
from tests.bench import MASTER_KEY, REPO_ROOT, BenchEnv, Figure, machine_info, now_iso, package_versions
from tests.e2e import scenario
from tests.e2e.platform import Platform, eventually
from tests.e2e.timeline import Plan

NAME = "api_writes"
CLIENTS = 8
TARGET_RPS = 200.0
FIRST_TRY = "2,300 registrations in 247 s (9 per second; SQLite, loaded machine)"
APPS = {
    "registration": "ddr_registration.bootstrap:create_app",
    "screening": "ddr_screening.bootstrap:create_app",
}
TOP_FRAMES = 12
STORE = os.environ.get("DDR_BENCH_STORE", "postgres")
"""``sqlite``: each service's store a SQLite file instead (as a new user's first try); figures kept apart."""


@dataclass(frozen=True)
class Served:
    name: str
    pid: int
    url: str


@contextmanager
def services(
    env: BenchEnv, var_dir: Path, databases: dict[str, str], namespace: str
) -> Iterator[dict[str, Served]]:
    """Each service as its own uvicorn process on a free port; stopped (by its pid) when the block ends."""
    started: dict[str, tuple[subprocess.Popen[bytes], Served]] = {}
    ports = free_ports(len(APPS))
    (var_dir / "stores").mkdir(parents=True, exist_ok=True)
    try:
        for (name, app), port in zip(APPS.items(), ports, strict=True):
            url = (
                f"sqlite:///{var_dir / 'stores' / f'{name}.sqlite'}"
                if STORE == "sqlite"
                else env.database_url(databases[name], driver=None)
            )
            child_env = {
                **os.environ,
                "DDR_ENVIRONMENT": "development",
                "DDR_SERVICE_NAME": name,
                "DDR_VAR_DIR": str(var_dir),
                "DDR_DATABASE_URL": url,
                "DDR_KEYSTORE_URL": f"sqlite:///{var_dir / 'stores' / f'keys-{name}.sqlite'}"
                if STORE == "sqlite"
                else url,
                "DDR_MASTER_KEY": base64.b64encode(MASTER_KEY).decode(),
                "KAFKA_BOOTSTRAP_SERVERS": env.kafka_bootstrap_servers,
                "DDR_TOPIC_NAMESPACE": namespace,
                "OTEL_SDK_DISABLED": os.environ.get("OTEL_SDK_DISABLED", "false"),
            }
            argv = [
                sys.executable,
                "-m",
                "uvicorn",
                "--factory",
                app,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
            ]
            argv.append("--no-access-log")
            log = (var_dir / f"{name}.log").open("ab")
            process = subprocess.Popen(
                argv, env=child_env, cwd=REPO_ROOT, stdout=log, stderr=subprocess.STDOUT
            )
            started[name] = (process, Served(name, process.pid, f"http://127.0.0.1:{port}"))
        for name, (process, served) in started.items():
            _wait_ready(process, served, var_dir / f"{name}.log")
        yield {name: served for name, (_, served) in started.items()}
    finally:
        for process, _ in started.values():
            process.terminate()
        for process, _ in started.values():
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_ready(process: subprocess.Popen[bytes], served: Served, log: Path, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{served.name} exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{served.url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{served.name} not ready within {timeout:.0f} s")


# -- profiling ----------------------------------------------------------------------------------------------


class Sampler:
    """py-spy sampling a service process while a phase runs (``DDR_BENCH_PYSPY=1``); its top frames."""

    def __init__(self, pid: int, out: Path) -> None:
        self.pid = pid
        self.out = out
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        argv = [
            "uv",
            "run",
            "--frozen",
            "--with",
            "py-spy==0.4.3",
            "py-spy",
            "record",
            "--pid",
            str(self.pid),
        ]
        argv += ["--format", "raw", "--rate", "97", "--nonblocking", "-o", str(self.out)]
        self.process = subprocess.Popen(
            argv, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )

    def stop(self) -> dict[str, Any]:
        if self.process is None:
            return {}
        # py-spy writes its profile on SIGINT; uv passes it on to its child.
        os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        return top_frames(self.out) if self.out.exists() else {}


def top_frames(raw: Path, count: int = TOP_FRAMES) -> dict[str, Any]:
    """From py-spy's collapsed stacks (``frame;frame;... samples``): the frames with most own samples, and
    the functions of this repository (and of the HTTP layer's libraries) with most samples under them."""
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, n = line.rpartition(" ")
        if not n.isdigit():
            continue
        samples = int(n)
        total += samples
        frames = [_function(frame) for frame in stack.split(";")]
        if frames:
            own[frames[-1][0]] += samples
        for name in {name for name, path in frames if path.startswith(_OURS)}:
            inclusive[name] += samples
    if not total:
        return {}
    return {
        "samples": total,
        "own": [(frame, round(100 * n / total, 1)) for frame, n in own.most_common(count)],
        "inclusive": [(frame, round(100 * n / total, 1)) for frame, n in inclusive.most_common(2 * count)],
    }


_OURS = ("ddr_", "jwt/", "opentelemetry/")


def _function(frame: str) -> tuple[str, str]:
    """``function (path/to/module.py:123)`` -> (``function (path/to/module.py)``, its path)."""
    name, _, where = frame.partition(" (")
    path = where.rstrip(")").rsplit(":", 1)[0]
    return f"{name} ({path})", path


@contextmanager
def sampled(served: Sequence[Served], folder: Path, phase: str, profiles: dict[str, Any]) -> Iterator[None]:
    if os.environ.get("DDR_BENCH_PYSPY") != "1" or shutil.which("uv") is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    samplers = {s.name: Sampler(s.pid, folder / f"{phase}-{s.name}.txt") for s in served}
    for sampler in samplers.values():
        sampler.start()
    time.sleep(1.0)  # py-spy attaches
    try:
        yield
    finally:
        profiles[phase] = {name: sampler.stop() for name, sampler in samplers.items()}


# -- the phases ---------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """The CPU time (user and system) process ``pid`` has used so far: a cost per request that the other
    load of a shared machine changes far less than it changes the wall time."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Phase:
    requests: int
    seconds: float
    latencies_ms: list[float]
    cpu_ms_per_request: dict[str, float] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


async def concurrently(
    base_url: str,
    items: Sequence[Any],
    send: Callable[[httpx.AsyncClient, Any], Awaitable[None]],
    pids: dict[str, int],
) -> Phase:
    """``send`` every item, ``CLIENTS`` clients each taking the next one when its last answer came."""
    queue: asyncio.Queue[Any] = asyncio.Queue()
    for item in items:
        queue.put_nowait(item)
    latencies: list[float] = []

    async def client() -> None:
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(base_url=base_url, timeout=120.0, limits=limits) as http:
            while True:
                try:
                    item = queue.get_nowait()
                except asyncio.QueueEmpty:
                    return
                began = time.perf_counter()
                await send(http, item)
                latencies.append((time.perf_counter() - began) * 1000)

    cpu = {name: cpu_seconds(pid) for name, pid in pids.items()}
    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    seconds = time.perf_counter() - began
    used = {name: round((cpu_seconds(pid) - cpu[name]) * 1000 / len(items), 2) for name, pid in pids.items()}
    return Phase(len(items), seconds, latencies, used)


def _check(response: httpx.Response, expected: int) -> None:
    if response.status_code != expected:
        raise RuntimeError(
            f"{response.request.method} {response.request.url.path} answered {response.status_code}: "
            f"{response.text[:500]}"
        )


async def versions_of(platform: Platform, person_ids: Sequence[str]) -> dict[str, str]:
    """Each person's ETag, as a registration desk reads the record before registering (untimed)."""
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER)
    found = {p["person_id"]: p for p in await scenario.pre_registered_persons(officer)}
    versions: dict[str, str] = {}
    for person_id in person_ids:
        version = found.get(person_id, {}).get("version")
        versions[person_id] = (
            f'"{version}"'
            if version is not None
            else await officer.etag("registration", f"/persons/{person_id}")
        )
    return versions


async def register_one_by_one(
    platform: Platform, base_url: str, plan: Plan, adults: Sequence[str], pids: dict[str, int]
) -> Phase:
    officer = platform.party("cnddr-officer", Role.CNDDR_OFFICER, back_recording=scenario.HISTORY)
    versions = await versions_of(platform, adults)
    headers = {"Authorization": f"Bearer {officer.token}", **officer.headers}
    sites = scenario.REGISTRATION_SITES

    async def send(http: httpx.AsyncClient, indexed: tuple[int, str]) -> None:
        n, person_id = indexed
        body = {
            "biometric_reference": f"bio-{person_id}",
            "site": sites[n % len(sites)],
            "on": scenario.day(plan.registered_on[person_id]),
        }
        sent = {**headers, "If-Match": versions[person_id], "Idempotency-Key": str(uuid.uuid4())}
        _check(await http.post(f"/persons/{person_id}/registration", json=body, headers=sent), 200)

    return await concurrently(base_url, list(enumerate(adults)), send, pids)


async def cases_opened(platform: Platform, plan: Plan, expected: int) -> None:
    officer = platform.party("screening-officer", Role.SCREENING_OFFICER)
    child_protection = platform.party(
        "unicef-child-protection", Role.CHILD_PROTECTION, back_recording=scenario.HISTORY
    )

    async def all_open() -> int | None:
        await scenario._assess_ages(child_protection, plan)
        cases = int((await officer.get("screening", "/figures"))["cases"])
        return cases if cases >= expected else None

    await eventually(all_open, what=f"{expected} screening cases", within=900, every=1.0)


async def examine_one_by_one(platform: Platform, base_url: str, plan: Plan, pids: dict[str, int]) -> Phase:
    examiner = platform.party("medical-examiner", Role.EXAMINER, back_recording=scenario.HISTORY)
    headers = {"Authorization": f"Bearer {examiner.token}", **examiner.headers}
    exams = list(plan.first_examinations)

    async def send(http: httpx.AsyncClient, exam: Any) -> None:
        body = {"result": exam.result, "examined_on": scenario.day(exam.on)}
        if exam.result == "unfit":
            body["details"] = "disability recorded by the examiner"
        sent = {**headers, "Idempotency-Key": str(uuid.uuid4())}
        _check(await http.post(f"/cases/{exam.person_id}/examinations", json=body, headers=sent), 201)

    return await concurrently(base_url, exams, send, pids)


async def run(env: BenchEnv) -> None:
    started, machine = now_iso(), machine_info()
    full = scenario.Shape()
    registered = max(50, round(full.registered * env.scale))
    shape = scenario.Shape(
        registered=registered, finally_unfit=round(full.finally_unfit * registered / full.registered)
    )
    namespace = new_namespace()
    create_namespace_topics(env.kafka_bootstrap_servers, namespace)
    databases = (
        {name: await env.create_database(f"api_{name}") for name in APPS} if STORE == "postgres" else {}
    )
    profiles: dict[str, Any] = {}
    phases: dict[str, Phase] = {}
    loads: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="ddr-bench-api-writes-") as tmp:
        var_dir = Path(tmp)
        settings = Settings(environment="development", var_dir=var_dir)
        issuer = DevelopmentTokenIssuer.from_settings(settings)  # the key the services verify with
        try:
            with services(env, var_dir, databases, namespace) as served:
                async with (
                    httpx.AsyncClient(base_url=served["registration"].url, timeout=600.0) as registration,
                    httpx.AsyncClient(base_url=served["screening"].url, timeout=600.0) as screening,
                ):
                    pids = {name: s.pid for name, s in served.items()}
                    platform = Platform({"registration": registration, "screening": screening}, issuer)
                    outcome = scenario.Outcome()
                    env.console.log("lists of the accelerated DDR (untimed)")
                    await scenario.movements_and_coalitions(platform)
                    await scenario.submit_certified_lists(platform, shape, scenario.Progress(), outcome)
                    plan = await scenario.choose_and_plan(platform, shape, outcome)
                    adults = list(outcome.registered)
                    env.console.log(f"registering {len(adults):,} people one by one, {CLIENTS} clients")
                    loads["registration"] = [round(x, 2) for x in os.getloadavg()]
                    with sampled(
                        list(served.values()), env.out_dir / "api_writes-profiles", "registration", profiles
                    ):
                        phases["registration"] = await register_one_by_one(
                            platform, served["registration"].url, plan, adults, pids
                        )
                    env.console.log(f"registration: {phases['registration'].rate:,.1f} requests/s")
                    await cases_opened(platform, plan, len(adults))
                    env.console.log(f"examining {len(plan.first_examinations):,} cases one by one")
                    loads["examinations"] = [round(x, 2) for x in os.getloadavg()]
                    with sampled(
                        list(served.values()), env.out_dir / "api_writes-profiles", "examinations", profiles
                    ):
                        phases["examinations"] = await examine_one_by_one(
                            platform, served["screening"].url, plan, pids
                        )
                    env.console.log(f"examinations: {phases['examinations'].rate:,.1f} requests/s")
        finally:
            for database in databases.values():
                await env.drop_database(database)
    machine["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    document: dict[str, Any] = {
        "benchmark": NAME,
        "date": started,
        "finished": now_iso(),
        "runs": 1,
        "machine": machine,
        "versions": {**env.versions, **package_versions()},
        "parameters": {"clients": CLIENTS, "registered": len(adults), "scale": env.scale, "store": STORE},
        "phases": {
            name: {
                "requests": phase.requests,
                "seconds": round(phase.seconds, 1),
                "requests_per_second": round(phase.rate, 1),
                "median_ms": round(statistics.median(phase.latencies_ms), 1),
                "p95_ms": round(statistics.quantiles(phase.latencies_ms, n=20)[-1], 1),
                "load_average_at_start": loads[name],
                "service_cpu_ms_per_request": phase.cpu_ms_per_request,
                "met": phase.rate >= TARGET_RPS,
            }
            for name, phase in phases.items()
        },
        "profiles": profiles,
        "target": {"requests_per_second": TARGET_RPS, "clients": CLIENTS},
    }
    figures = [Figure(f"{name}.rps", name, "requests/s", (phase.rate,)) for name, phase in phases.items()]
    document["figures"] = [f.as_json() for f in figures]
    section = NAME if STORE == "postgres" else f"{NAME}_{STORE}"
    json_path = env.write_json(section, document)
    docs_path = env.write_section(section, render(document))
    for name, phase in phases.items():
        status = "[green]met[/]" if phase.rate >= TARGET_RPS else "[red]missed[/]"
        env.console.print(
            f"{name}: {phase.requests:,} requests in {phase.seconds:,.1f} s = {phase.rate:,.1f}/s at "
            f"{CLIENTS} clients; target {TARGET_RPS:.0f}/s: {status}"
        )
    env.console.log(f"wrote {json_path} and the {section} section of {docs_path}")


def _pairs(own: list[Any], inclusive: list[Any]) -> list[tuple[Any, Any]]:
    return [(own[n] if n < len(own) else None, inclusive[n]) for n in range(len(inclusive))]


def render(document: dict[str, Any]) -> str:
    m, p = document["machine"], document["parameters"]
    sqlite = p.get("store") == "sqlite"
    where = "a SQLite file each" if sqlite else "a PostgreSQL database of their own"
    lines = [
        f"## One-by-one writes through the HTTP APIs: {p['registered']:,} registrations, then their examinations"
        + (" (SQLite)" if sqlite else ""),
        "",
        f"{document['date']} on {m['nproc']} cores ({m['cpu_model']}, {m['memory_gib']} GiB), "
        + ("SQLite stores" if sqlite else f"PostgreSQL {document['versions'].get('postgresql')}")
        + f"; load average {m['load_average_at_start'][0]:.1f} at start, "
        f"{m['load_average_at_end'][0]:.1f} at end (the machine was shared with other sessions); one run.",
        "",
        "Registration and screening each in its own `uvicorn` process (store, keys and read models in "
        f"{where}, events on Kafka, screening opening its cases from registration's "
        f"events), driven over HTTP by {p['clients']} concurrent clients, one request per person, each with a "
        "development token, `Idempotency-Key` and (registration) `If-Match`; every answer checked. Untimed: "
        "the certified lists of the accelerated DDR, the records' versions, screening opening the cases. "
        f"First tried as a new user: {FIRST_TRY}.",
        "",
        "| Phase | Requests | Seconds | Requests/s | Median ms | p95 ms | Services' CPU ms per request | "
        "Load at start | Target | |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for name, ph in document["phases"].items():
        lines.append(
            f"| {name} | {ph['requests']:,} | {ph['seconds']:,.1f} | **{ph['requests_per_second']:,.1f}** | "
            f"{ph['median_ms']:,.1f} | {ph['p95_ms']:,.1f} | "
            + ", ".join(f"{k} {v:.1f}" for k, v in ph.get("service_cpu_ms_per_request", {}).items())
            + f" | {ph['load_average_at_start'][0]:.2f} | "
            f"≥ {TARGET_RPS:.0f}/s | {'met' if ph['met'] else 'missed'} |"
        )
    for phase, by_service in document["profiles"].items():
        for service, profile in by_service.items():
            if not profile:
                continue
            lines += [
                "",
                f"Profile of {service} during {phase} (py-spy, {profile['samples']:,} samples of the "
                "whole process, its relay and consumers included; % of samples):",
                "",
                "| Own time: frame | % | Under it: our function | % |",
                "|---|---|---|---|",
                *(
                    f"| `{own[0] if own else ''}` | {own[1] if own else ''} | `{under[0]}` | {under[1]} |"
                    for own, under in _pairs(profile["own"], profile["inclusive"])
                ),
            ]
    if p["scale"] != 1.0:
        lines += ["", f"**Scaled run (scale {p['scale']}): not comparable with full runs.**"]
    return "\n".join(lines)
