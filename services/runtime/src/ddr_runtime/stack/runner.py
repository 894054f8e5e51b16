"""The whole platform on one machine: Kafka, the stores, every installed service as a process.

Natively (Kafka from its own jars, PostgreSQL from Debian's package, SQLite files by default), or through
Docker Compose where a Docker engine answers. State lives under ``var/``: pids in ``var/run``, logs in
``var/log``, and ``var/run/stack.json`` remembers what ``up`` started so ``down`` stops exactly that.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib.metadata import entry_points
from pathlib import Path
from typing import Literal

import httpx

from ddr_contracts.topics import SERVICES
from ddr_runtime.config import Settings, project_root, service_settings, to_async_url
from ddr_runtime.db import create_engine
from ddr_runtime.keyservice.credentials import Credentials, provision
from ddr_runtime.keyservice.settings import credential_file
from ddr_runtime.messaging.topics import ensure_topics, platform_topics
from ddr_runtime.stack import processes
from ddr_runtime.stack.native import NativeKafka, NativePostgres

Store = Literal["sqlite", "postgres"]
KAFKA_PORT = int(os.environ.get("DDR_KAFKA_PORT", "9092"))
KAFKA_CONTROLLER_PORT = int(os.environ.get("DDR_KAFKA_CONTROLLER_PORT", "9093"))
POSTGRES_PORT = int(os.environ.get("DDR_POSTGRES_PORT", "55432"))
FIRST_SERVICE_PORT = 8001
KEYS_PORT = int(os.environ.get("DDR_KEYS_PORT", str(FIRST_SERVICE_PORT - 1)))
# The key service is its own process; only these services may erase a subject's key.
KEYS = "keys"
ERASING_SERVICES = frozenset({"registration", "cvr"})  # cvr shreds its participants' keys
KEYS_APP = "ddr_runtime.keyservice.app:create_keyservice_app"


@dataclass(frozen=True)
class ServiceProcess:
    name: str
    app: str  # "module:factory"
    port: int


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    running: bool
    detail: str


def installed_services() -> list[ServiceProcess]:
    """Every service package installed in the workspace (entry-point group ``ddr.services``), in port order."""
    found = {ep.name: ep.value for ep in entry_points(group="ddr.services")}
    ordered = [name for name in SERVICES if name in found] + sorted(set(found) - set(SERVICES))
    return [ServiceProcess(name, found[name], FIRST_SERVICE_PORT + i) for i, name in enumerate(ordered)]


def docker_available() -> bool:
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


class Stack:
    """The native stack is a development stack: its services run with ``DDR_ENVIRONMENT=development``."""

    def __init__(self, settings: Settings | None = None) -> None:
        self.settings = settings or Settings(environment="development")
        self.var = self.settings.var_dir
        self.run_dir = self.var / "run"
        self.log_dir = self.var / "log"
        self.state_file = self.run_dir / "stack.json"
        self.kafka = NativeKafka(KAFKA_PORT, KAFKA_CONTROLLER_PORT, self.var / "kafka")
        self.postgres = NativePostgres(POSTGRES_PORT, self.var / "postgres")

    # -- up --------------------------------------------------------------------------------------
    def start_kafka(self) -> str:
        self.kafka.start()
        ensure_topics(
            self.kafka.bootstrap_servers,
            platform_topics(
                self.settings.kafka_partitions,
                self.settings.kafka_dlq_partitions,
                self.settings.topic_namespace,
            ),
        )
        return self.kafka.bootstrap_servers

    def start_postgres(self) -> None:
        self.postgres.start()
        self.postgres.create_databases(*(f"ddr_{name}" for name in SERVICES), "ddr_keys")

    @property
    def keys_process(self) -> ServiceProcess:
        return ServiceProcess(KEYS, KEYS_APP, KEYS_PORT)

    def keys_env(self, store: Store) -> dict[str, str]:
        """The key service's environment: it alone opens the key store and holds the (development) KEK."""
        env = self._common_env(KEYS)
        if store == "postgres":
            env["DDR_KEYS_DATABASE_URL"] = self.postgres.url("ddr_keys")
        return env

    def start_keys(self, store: Store) -> int:
        """Start the key service (development: its KEK in var/secrets, plain HTTP on the loopback)."""
        return self._start(self.keys_process, self.keys_env(store))

    def provision_credentials(self, store: Store) -> dict[str, Path]:
        """A key-service credential for each installed service on this host, kept 0600 under var/secrets;
        one still live is kept, a missing or revoked one is issued again."""
        url = to_async_url(self.postgres.url("ddr_keys")) if store == "postgres" else None
        database = url or f"sqlite+aiosqlite:///{self.var / 'stores' / 'keys.sqlite'}"

        async def run() -> dict[str, Path]:
            engine = create_engine(database, pool_size=2)
            credentials = Credentials(engine)
            try:
                await credentials.create_schema()
                files = {s.name: credential_file(self.var, s.name) for s in installed_services()}
                return await provision(credentials, files, host="native-stack", erasing=ERASING_SERVICES)
            finally:
                await engine.dispose()

        return asyncio.run(run())

    def service_env(self, service: ServiceProcess, store: Store) -> dict[str, str]:
        """A service's environment: its store, the key service with its own credential, never the KEK."""
        env = self._common_env(service.name)
        env["DDR_KEY_SERVICE_URL"] = f"http://127.0.0.1:{KEYS_PORT}"
        env["DDR_KEY_SERVICE_CREDENTIAL_FILE"] = str(credential_file(self.var, service.name))
        for inherited in ("DDR_MASTER_KEY", "DDR_KEYSTORE_URL", "DDR_KEYS_KEK", "DDR_KEYS_PREVIOUS_KEKS"):
            env.pop(inherited, None)
        if store == "postgres":
            env[f"DDR_{service.name.upper()}_DATABASE_URL"] = self.postgres.url(f"ddr_{service.name}")
        return env

    def _common_env(self, name: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "KAFKA_BOOTSTRAP_SERVERS": self.kafka.bootstrap_servers,
                "DDR_ENVIRONMENT": "development",
                "DDR_VAR_DIR": str(self.var),
                "DDR_SERVICE_NAME": name,
            }
        )
        return env

    def start_service(self, service: ServiceProcess, store: Store) -> int:
        return self._start(service, self.service_env(service, store))

    def _start(self, service: ServiceProcess, env: dict[str, str]) -> int:
        existing = processes.running_pid(self.run_dir, service.name)
        if existing is not None:
            return existing
        argv = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            service.app,
            "--host",
            "127.0.0.1",
            "--port",
            str(service.port),
            "--no-access-log",
        ]
        return processes.start(
            service.name,
            argv,
            env=env,
            run_dir=self.run_dir,
            log_file=self.log_dir / f"{service.name}.log",
            cwd=project_root(),
        )

    def wait_ready(self, service: ServiceProcess, timeout: float = 180.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if processes.running_pid(self.run_dir, service.name) is None:
                return False
            try:
                if httpx.get(f"http://127.0.0.1:{service.port}/readyz", timeout=2).status_code == 200:
                    return True
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        return False

    def remember(self, store: Store) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps({"store": store, "mode": "native"}))

    def remembered_store(self) -> Store | None:
        if not self.state_file.exists():
            return None
        store = json.loads(self.state_file.read_text()).get("store")
        return "postgres" if store == "postgres" else "sqlite"

    def store_addresses(self) -> dict[str, str]:
        """Each service's event store as the stack started it (its own PostgreSQL database, or its SQLite file
        under var/stores): what an operator's ``ddr audit`` reads."""
        if self.remembered_store() == "postgres":
            return {name: self.postgres.url(f"ddr_{name}") for name in SERVICES}
        return {name: service_settings(name, var_dir=self.var).store_url() for name in SERVICES}

    # -- down ------------------------------------------------------------------------------------
    def stop_all(self) -> list[str]:
        stopped = [s.name for s in installed_services() if processes.stop(s.name, run_dir=self.run_dir)]
        if processes.stop(KEYS, run_dir=self.run_dir):
            stopped.append(KEYS)
        if self.postgres.is_running():
            self.postgres.stop()
            stopped.append("postgres")
        if self.kafka.is_running():
            self.kafka.stop()
            stopped.append("kafka")
        self.state_file.unlink(missing_ok=True)
        return stopped

    # -- status ----------------------------------------------------------------------------------
    def status(self) -> list[ComponentStatus]:
        found = [
            ComponentStatus("kafka", self.kafka.is_running(), self.kafka.bootstrap_servers),
            ComponentStatus("postgres", self.postgres.is_running(), f"127.0.0.1:{POSTGRES_PORT}"),
        ]
        for service in [self.keys_process, *installed_services()]:
            pid = processes.running_pid(self.run_dir, service.name)
            found.append(ComponentStatus(service.name, pid is not None, f"http://127.0.0.1:{service.port}"))
        return found

    def log_path(self, name: str) -> Path:
        if name == "kafka":
            return self.var / "kafka" / "kafka.log"
        if name == "postgres":
            return self.var / "postgres" / "postgres.log"
        return self.log_dir / f"{name}.log"
