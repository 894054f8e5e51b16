"""Benchmarks of the platform: ``make bench`` (``python -m tests.bench.run``).

Every module of this package except ``run`` is a benchmark module: it defines ``async def run(env: BenchEnv)
-> None``, measures against the Kafka broker and PostgreSQL server in ``env``, and writes its figures with
:meth:`BenchEnv.write_json` and its section of ``docs/benchmarks.md`` with :meth:`BenchEnv.write_section`.
This file holds what they share: the environment, figures (median of N runs with min and max), the machine
description and the markdown section writer.
"""

from __future__ import annotations

import base64
import json
import os
import platform
import re
import statistics
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import Progress
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ddr_runtime.config import Settings

__all__ = [
    "BenchEnv",
    "Figure",
    "machine_info",
    "package_versions",
    "replace_section",
]

REPO_ROOT = Path(__file__).resolve().parents[2]
MASTER_KEY = bytes(range(32))  # a throwaway key-encryption key for a benchmark's throwaway key store


@dataclass(frozen=True)
class Figure:
    """One measured quantity: every run's value, summarised as median, min and max."""

    key: str
    label: str
    unit: str
    values: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    @property
    def low(self) -> float:
        return min(self.values)

    @property
    def high(self) -> float:
        return max(self.values)

    def as_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "label": self.label,
            "unit": self.unit,
            "median": round(self.median, 1),
            "min": round(self.low, 1),
            "max": round(self.high, 1),
            "runs": [round(v, 1) for v in self.values],
        }

    def cell(self) -> str:
        """``12,345 (11,900-12,800)``: median, then min-max (ratios, unit ``x``, to two decimals)."""
        if self.unit == "x":
            return f"{self.median:.2f}x ({self.low:.2f}-{self.high:.2f})"
        return f"{self.median:,.0f} ({self.low:,.0f}-{self.high:,.0f})"


@dataclass
class BenchEnv:
    """What a benchmark module gets: the servers, the number of runs, where to write, a progress display."""

    kafka_bootstrap_servers: str
    postgres_url: str  # postgresql://user:password@host:port/database, a database that exists
    runs: int
    console: Console
    progress: Progress
    versions: dict[str, str] = field(default_factory=dict)
    scale: float = 1.0  # multiplies event counts: below 1 for a quick smoke run (figures then not comparable)
    out_dir: Path = REPO_ROOT / "var" / "bench"
    docs_file: Path = REPO_ROOT / "docs" / "benchmarks.md"
    created_databases: list[str] = field(default_factory=list)

    def database_url(self, name: str, *, driver: str | None = "asyncpg") -> str:
        """The URL of database ``name`` on the benchmark server (``postgresql+asyncpg://`` by default)."""
        url = make_url(self.postgres_url).set(database=name)
        if driver is not None:
            url = url.set(drivername=f"postgresql+{driver}")
        return url.render_as_string(hide_password=False)

    def service_settings(
        self, service: str, database: str, var_dir: Path, *, topic_namespace: str = ""
    ) -> Settings:
        """A service's settings with its store and key store in ``database`` on the benchmark server."""
        url = self.database_url(database, driver=None)
        return Settings(
            service_name=service,
            database_url=url,
            keystore_url=url,
            master_key=base64.b64encode(MASTER_KEY).decode(),
            kafka_bootstrap_servers=self.kafka_bootstrap_servers,
            var_dir=var_dir,
            topic_namespace=topic_namespace,
        )

    async def create_database(self, prefix: str) -> str:
        """A new, empty database; its name. Dropped by :meth:`drop_databases`."""
        name = f"bench_{prefix}_{uuid.uuid4().hex[:8]}"
        await self.execute_autocommit(f'CREATE DATABASE "{name}"')
        self.created_databases.append(name)
        return name

    async def drop_database(self, name: str) -> None:
        await self.execute_autocommit(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.created_databases:
            self.created_databases.remove(name)

    async def drop_databases(self) -> None:
        for name in list(self.created_databases):
            await self.drop_database(name)

    async def execute_autocommit(self, *statements: str, database: str | None = None) -> None:
        url = make_url(self.postgres_url).set(drivername="postgresql+asyncpg")
        if database is not None:
            url = url.set(database=database)
        engine = create_async_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                for statement in statements:
                    await conn.execute(text(statement))
        finally:
            await engine.dispose()

    async def postgres_version(self) -> str:
        url = make_url(self.postgres_url).set(drivername="postgresql+asyncpg")
        engine = create_async_engine(url, poolclass=NullPool)
        try:
            async with engine.connect() as conn:
                return str((await conn.execute(text("SHOW server_version"))).scalar_one())
        finally:
            await engine.dispose()

    @property
    def scaled(self) -> bool:
        return self.scale != 1.0

    def write_json(self, name: str, document: dict[str, Any]) -> Path:
        """``var/bench/<name>.json`` (``<name>.scaled.json`` for a scaled run, which is not comparable)."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        path = self.out_dir / (f"{name}.scaled.json" if self.scaled else f"{name}.json")
        path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        return path

    def write_section(self, name: str, markdown: str) -> Path:
        """Put ``markdown`` between ``<!-- name:start -->`` and ``<!-- name:end -->`` in docs/benchmarks.md.

        A scaled run leaves the document alone (its figures are not comparable) and only prints the section.
        """
        if self.scaled:
            self.console.print(markdown)
            self.console.log(f"scaled run: {self.docs_file} left as it was")
            return self.docs_file
        existing = self.docs_file.read_text(encoding="utf-8") if self.docs_file.exists() else ""
        self.docs_file.parent.mkdir(parents=True, exist_ok=True)
        self.docs_file.write_text(replace_section(existing, name, markdown), encoding="utf-8")
        return self.docs_file


DOCS_PREAMBLE = """# Benchmarks

Measured by `make bench` (`python -m tests.bench.run`) against a real Kafka broker and a real PostgreSQL
server. Each section between `<!-- NAME:start -->` and `<!-- NAME:end -->` markers is regenerated by the
benchmark module of that name; edit anything outside the markers freely. Raw figures: `var/bench/NAME.json`.
"""


def replace_section(document: str, name: str, markdown: str) -> str:
    """``document`` with the section ``name`` replaced (or appended), everything else kept as it was."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    block = f"{start}\n{markdown.strip()}\n{end}"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(document):
        return pattern.sub(lambda _match: block, document, count=1)
    if not document.strip():
        document = DOCS_PREAMBLE
    return document.rstrip("\n") + "\n\n" + block + "\n"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine_info() -> dict[str, Any]:
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_model": _cpu_model(),
        "memory_gib": _memory_gib(),
        "kernel": platform.release(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


PACKAGES = (
    "ddr-runtime",
    "sqlalchemy",
    "asyncpg",
    "aiokafka",
    "confluent-kafka",
    "faststream",
    "pydantic",
    "cryptography",
    "eventsourcing",
    "psycopg",
    "psycopg-pool",
)


def package_versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()
