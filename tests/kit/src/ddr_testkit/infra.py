"""Pytest plugin: a real Kafka broker and a real PostgreSQL server for integration tests.

Loaded for every run by ``-p ddr_testkit.infra`` (pyproject's addopts). Each server is started
lazily, once per session, by the first test that asks for it, and stopped at the end of the session.

Where each comes from, first match wins:

1. the environment: ``KAFKA_BOOTSTRAP_SERVERS`` (``host:port[,host:port]``) and ``DATABASE_URL`` (a server
   URL ``postgresql://user:password@host:port/database`` naming a database that exists);
2. Docker, through testcontainers, when a Docker engine answers ``docker info``: ``apache/kafka`` (KRaft) and
   ``postgres`` images (override with ``DDR_TEST_KAFKA_IMAGE`` / ``DDR_TEST_POSTGRES_IMAGE``);
3. native processes (``deploy/local/kafka.sh`` and ``deploy/local/postgres.sh``) on free ports, with their
   data in a temporary folder that is removed afterwards.

``DDR_TEST_INFRA=native`` or ``=docker`` forces step 2 or 3 (default ``auto``). A server that cannot be had
is an error, never a skip.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from ddr_runtime.stack.native import NativeKafka, NativePostgres, free_ports

__all__ = [
    "asyncpg_url",
    "fresh_postgres_database",
    "kafka_bootstrap_servers",
    "make_postgres_database",
    "postgres_url",
]

KAFKA_IMAGE = os.environ.get("DDR_TEST_KAFKA_IMAGE", "apache/kafka:4.1.1")
POSTGRES_IMAGE = os.environ.get("DDR_TEST_POSTGRES_IMAGE", "postgres:16")
TEST_DATABASE = "ddr_test"
PG_USER = "ddr"
PG_PASSWORD = "ddr"
KAFKA_READY_TIMEOUT = 120.0

T = TypeVar("T")


# -- helpers ----------------------------------------------------------------------------------------------


def asyncpg_url(url: str, database: str | None = None) -> str:
    """``url`` for SQLAlchemy's asyncpg dialect (``postgresql+asyncpg://``), maybe another database.

    Usable with ``create_async_engine``; ``postgres_url`` itself carries no driver.
    """
    parsed = make_url(url).set(drivername="postgresql+asyncpg")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


def _plain_url(url: str) -> str:
    """``url`` without a driver: ``postgresql://``."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def _infra_mode() -> str:
    mode = os.environ.get("DDR_TEST_INFRA", "auto").strip().lower() or "auto"
    if mode not in ("auto", "docker", "native"):
        raise pytest.UsageError(f"DDR_TEST_INFRA must be auto, docker or native, not {mode!r}")
    return mode


@functools.cache
def _docker_engine_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        subprocess.run(["docker", "info"], capture_output=True, timeout=15, check=True)
    except (OSError, subprocess.SubprocessError):
        return False
    return True


def _use_docker() -> bool:
    mode = _infra_mode()
    if mode == "native":
        return False
    if mode == "docker" and not _docker_engine_answers():
        raise RuntimeError("DDR_TEST_INFRA=docker but `docker info` does not answer")
    return _docker_engine_answers()


def _run_in_thread(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion in a new event loop on a worker thread, whatever loop this thread has."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


async def _execute_autocommit(url: str, *statements: str) -> None:
    engine = create_async_engine(asyncpg_url(url), isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        async with engine.connect() as connection:
            for statement in statements:
                await connection.execute(text(statement))
    finally:
        await engine.dispose()


def _new_database_name() -> str:
    return f"ddr_t_{uuid.uuid4().hex[:16]}"


async def _create_database(server_url: str, name: str) -> str:
    await _execute_autocommit(server_url, f'CREATE DATABASE "{name}"')
    return asyncpg_url(server_url, name)


def _drop_databases(server_url: str, names: list[str]) -> None:
    if names:
        statements = [f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)' for name in names]
        _run_in_thread(lambda: _execute_autocommit(server_url, *statements))


def _wait_for_kafka(bootstrap_servers: str, timeout: float) -> None:
    """Return once the broker answers a metadata request; raise after ``timeout`` seconds."""
    from kafka import KafkaAdminClient

    deadline = time.monotonic() + timeout
    while True:
        try:
            admin = KafkaAdminClient(
                bootstrap_servers=bootstrap_servers, request_timeout_ms=5000, bootstrap_timeout_ms=5000
            )
            try:
                admin.list_topics()
                return
            finally:
                admin.close()
        except Exception as error:
            if time.monotonic() >= deadline:
                raise RuntimeError(
                    f"Kafka at {bootstrap_servers} did not answer within {timeout:.0f} s"
                ) from error
        time.sleep(0.5)


# -- Kafka ------------------------------------------------------------------------------------------------


def _kafka_in_docker() -> Iterator[str]:
    from testcontainers.core.container import DockerContainer

    # testcontainers' KafkaContainer drives Confluent's image; apache/kafka is set up by KAFKA_* variables.
    # The advertised address must be known before the start, so the host port is chosen here.
    (host_port,) = free_ports(1)
    container = DockerContainer(KAFKA_IMAGE)
    host = container.get_docker_client().host()
    cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
    container.with_bind_ports(9092, host_port).with_envs(
        CLUSTER_ID=cluster_id,
        KAFKA_NODE_ID="1",
        KAFKA_PROCESS_ROLES="broker,controller",
        KAFKA_LISTENERS="PLAINTEXT://0.0.0.0:9092,CONTROLLER://localhost:9093",
        KAFKA_ADVERTISED_LISTENERS=f"PLAINTEXT://{host}:{host_port}",
        KAFKA_CONTROLLER_LISTENER_NAMES="CONTROLLER",
        KAFKA_LISTENER_SECURITY_PROTOCOL_MAP="CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
        KAFKA_INTER_BROKER_LISTENER_NAME="PLAINTEXT",
        KAFKA_CONTROLLER_QUORUM_VOTERS="1@localhost:9093",
        KAFKA_AUTO_CREATE_TOPICS_ENABLE="false",
        KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR="1",
        KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS="10",
        KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR="1",
        KAFKA_TRANSACTION_STATE_LOG_MIN_ISR="1",
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR="1",
        KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR="1",
        KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS="0",
    )
    container.start()
    try:
        bootstrap_servers = f"{host}:{host_port}"
        _wait_for_kafka(bootstrap_servers, KAFKA_READY_TIMEOUT)
        yield bootstrap_servers
    finally:
        container.stop()


def _kafka_native() -> Iterator[str]:
    home = Path(tempfile.mkdtemp(prefix="ddr-pytest-kafka-"))
    port, controller_port = free_ports(2)
    # A whole suite's namespaced topics (thousands of partitions) outgrow the default 512 MB heap.
    kafka = NativeKafka(port, controller_port, home, heap="-Xmx2g -Xms512m")
    try:
        kafka.start()
        yield kafka.bootstrap_servers
    finally:
        try:
            kafka.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_bootstrap_servers() -> Iterator[str]:
    """Bootstrap servers of a Kafka broker that answers (topics are not auto-created: create yours)."""
    configured = os.environ.get("KAFKA_BOOTSTRAP_SERVERS", "").strip()
    if configured:
        yield configured
        return
    yield from (_kafka_in_docker() if _use_docker() else _kafka_native())


# -- PostgreSQL -------------------------------------------------------------------------------------------


def _postgres_in_docker() -> Iterator[str]:
    from testcontainers.community.postgres import PostgresContainer

    container = PostgresContainer(
        POSTGRES_IMAGE, username=PG_USER, password=PG_PASSWORD, dbname=TEST_DATABASE, driver=None
    )
    container.start()
    try:
        yield str(container.get_connection_url())
    finally:
        container.stop()


def _postgres_native() -> Iterator[str]:
    # Not pytest's tmp_path: its folders are 0700 root's, which the OS user postgres could not enter.
    home = Path(tempfile.mkdtemp(prefix="ddr-pytest-postgres-"))
    (port,) = free_ports(1)
    postgres = NativePostgres(port, home, user=PG_USER, password=PG_PASSWORD)
    try:
        postgres.start()
        postgres.create_databases(TEST_DATABASE)
        yield postgres.url(TEST_DATABASE)
    finally:
        try:
            postgres.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """``postgresql://user:password@host:port/ddr_test``: a database that exists on a server that answers.

    Shared by the whole session; use ``fresh_postgres_database`` for a database of your own.
    """
    configured = os.environ.get("DATABASE_URL", "").strip()
    if configured:
        yield _plain_url(configured)
        return
    yield from (_postgres_in_docker() if _use_docker() else _postgres_native())


@pytest.fixture
def fresh_postgres_database(postgres_url: str) -> Iterator[str]:
    """A new, empty database for this test only: its ``postgresql+asyncpg://`` URL. Dropped afterwards."""
    name = _new_database_name()
    url = _run_in_thread(lambda: _create_database(postgres_url, name))
    try:
        yield url
    finally:
        _drop_databases(postgres_url, [name])


@pytest.fixture
def make_postgres_database(postgres_url: str) -> Iterator[Callable[[], Coroutine[Any, Any, str]]]:
    """An async factory of new, empty databases (``postgresql+asyncpg://`` URLs), dropped after the test."""
    created: list[str] = []

    async def make() -> str:
        name = _new_database_name()
        created.append(name)
        return await _create_database(postgres_url, name)

    try:
        yield make
    finally:
        _drop_databases(postgres_url, created)
