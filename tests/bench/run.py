"""Run every benchmark module: ``python -m tests.bench.run [--runs N] [--only NAME ...]``.

Kafka and PostgreSQL come from ``KAFKA_BOOTSTRAP_SERVERS`` and ``DATABASE_URL`` when set (a server URL naming
a database that exists; the benchmarks create and drop databases of their own beside it). Otherwise a native
broker and server are started on free ports with their data in a temporary folder, and stopped (and the
folder removed) when the run ends, whether it succeeded, failed or was interrupted (Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import pkgutil
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, ModuleType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

import tests.bench
from ddr_runtime.stack.native import NativeKafka, NativePostgres, free_ports, repo_root
from tests.bench import BenchEnv

PG_USER = "ddr"
PG_PASSWORD = "ddr"  # a throwaway local server
BOOTSTRAP_DATABASE = "bench"


@dataclass(frozen=True)
class Servers:
    kafka_bootstrap_servers: str
    postgres_url: str
    kafka_version: str


def _default_kafka_version() -> str:
    """The version deploy/local/kafka.sh runs when KAFKA_VERSION is not set."""
    configured = os.environ.get("KAFKA_VERSION", "").strip()
    if configured:
        return configured
    script = (repo_root() / "deploy" / "local" / "kafka.sh").read_text(encoding="utf-8")
    found = re.search(r'KAFKA_VERSION="\$\{KAFKA_VERSION:-([^}]+)\}"', script)
    return found.group(1) if found else "unknown"


@contextmanager
def servers(console: Console) -> Iterator[Servers]:
    """Kafka and PostgreSQL for the run: from the environment, else started here and stopped on exit."""
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    database_url = os.environ.get("DATABASE_URL", "").strip()
    with ExitStack() as stack:
        starts: list[tuple[str, NativeKafka | NativePostgres]] = []
        kafka_version = "external"
        if not bootstrap:
            home = Path(tempfile.mkdtemp(prefix="ddr-bench-kafka-"))
            stack.callback(shutil.rmtree, home, ignore_errors=True)
            port, controller_port = free_ports(2)
            kafka = NativeKafka(port, controller_port, home)
            stack.callback(kafka.stop)  # registered before the start: a half-started broker is stopped too
            starts.append(("Kafka", kafka))
            bootstrap = kafka.bootstrap_servers
            kafka_version = _default_kafka_version()
        postgres: NativePostgres | None = None
        if not database_url:
            # Not a 0700 folder of a pytest tmp_path: the OS user postgres must be able to enter it.
            home = Path(tempfile.mkdtemp(prefix="ddr-bench-postgres-"))
            stack.callback(shutil.rmtree, home, ignore_errors=True)
            (port,) = free_ports(1)
            postgres = NativePostgres(port, home, user=PG_USER, password=PG_PASSWORD)
            stack.callback(postgres.stop)
            starts.append(("PostgreSQL", postgres))
            database_url = postgres.url(BOOTSTRAP_DATABASE)
        if starts:
            names = " and ".join(name for name, _ in starts)
            with console.status(f"starting {names} (native, free ports, temporary folders)"):
                began = time.monotonic()
                with ThreadPoolExecutor(max_workers=len(starts)) as pool:
                    futures = [pool.submit(server.start) for _, server in starts]
                    for future in futures:
                        future.result()
                if postgres is not None:
                    postgres.create_databases(BOOTSTRAP_DATABASE)
            console.log(f"{names} up in {time.monotonic() - began:.1f} s")
        yield Servers(bootstrap, database_url, kafka_version)
        console.log("stopping what this run started")


def benchmark_names(only: list[str] | None) -> list[str]:
    """Every module of tests.bench except this one; ``foundation`` first, then by name."""
    names = sorted(
        info.name
        for info in pkgutil.iter_modules(tests.bench.__path__)
        if info.name != "run" and not info.name.startswith("_")
    )
    names.sort(key=lambda name: (name != "foundation", name))
    if only:
        unknown = set(only) - set(names)
        if unknown:
            raise SystemExit(f"unknown benchmark module(s): {', '.join(sorted(unknown))}; have {names}")
        names = [name for name in names if name in only]
    return names


def load(name: str) -> ModuleType:
    module = importlib.import_module(f"tests.bench.{name}")
    if not callable(getattr(module, "run", None)):
        raise TypeError(f"{module.__name__} defines no `async def run(env: BenchEnv) -> None`")
    return module


async def run_all(env: BenchEnv, names: list[str]) -> list[str]:
    """Run each module in turn; one that fails is reported and the others still run. Returns the failed."""
    failed: list[str] = []
    env.versions["postgresql"] = await env.postgres_version()
    try:
        for name in names:
            env.console.rule(f"[bold]{name}")
            try:
                await load(name).run(env)
            except Exception:
                env.console.print_exception()
                env.console.log(f"[red]benchmark module {name} failed")
                failed.append(name)
    finally:
        await env.drop_databases()
    return failed


def _raise_on_sigterm(signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


async def run_cancellable(env: BenchEnv, names: list[str]) -> list[str]:
    """``run_all``, cancelled cleanly by SIGTERM (a SystemExit raised inside the event loop may be swallowed)."""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await run_all(env, names)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)  # puts SIG_DFL back: restore ours
        signal.signal(signal.SIGTERM, _raise_on_sigterm)


def run_with_servers(console: Console, names: list[str], runs: int, scale: float) -> list[str]:
    with servers(console) as found:
        progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        env = BenchEnv(
            kafka_bootstrap_servers=found.kafka_bootstrap_servers,
            postgres_url=found.postgres_url,
            runs=runs,
            scale=scale,
            console=console,
            progress=progress,
            versions={"kafka": found.kafka_version},
        )
        with progress:
            return asyncio.run(run_cancellable(env, names))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.run", description=__doc__)
    parser.add_argument("--runs", type=int, default=3, help="runs per figure; each figure is their median")
    parser.add_argument("--only", nargs="*", metavar="NAME", help="benchmark modules to run (default: all)")
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply event counts (below 1 for a quick smoke run; its figures are not comparable)",
    )
    arguments = parser.parse_args(argv)
    if arguments.runs < 1:
        parser.error("--runs must be at least 1")
    if arguments.scale <= 0:
        parser.error("--scale must be positive")
    # A SIGTERM unwinds like Ctrl-C, so the servers started here are stopped: outside the event loop it
    # raises SystemExit, inside it cancels the benchmarks (see run_cancellable).
    signal.signal(signal.SIGTERM, _raise_on_sigterm)
    console = Console()
    names = benchmark_names(arguments.only)
    began = time.monotonic()
    try:
        failed = run_with_servers(console, names, arguments.runs, arguments.scale)
    except asyncio.CancelledError:
        console.log("[red]terminated; what this run started is stopped")
        return 128 + signal.SIGTERM
    console.log(f"benchmarks done in {time.monotonic() - began:.0f} s")
    if failed:
        console.log(f"[red]failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
