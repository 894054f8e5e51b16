"""The pytest plugin every test run loads (entry point ``pytest11``): infrastructure and service fixtures.

Settings default to production, which refuses development keys and local key stores; a test run is a
development setting, said here once for every test (a test may still build production settings itself).
"""

from __future__ import annotations

import os

import pytest

os.environ.setdefault("DDR_ENVIRONMENT", "development")

from ddr_testkit.infra import (
    fresh_postgres_database,
    kafka_bootstrap_servers,
    make_postgres_database,
    postgres_url,
)
from ddr_testkit.services import (
    database_url,
    issuer,
    namespace,
    service_env,
    token_verifier,
    topics_deleted_after_each_test,
)

__all__ = [
    "database_url",
    "fresh_postgres_database",
    "issuer",
    "kafka_bootstrap_servers",
    "make_postgres_database",
    "namespace",
    "postgres_url",
    "service_env",
    "token_verifier",
    "topics_deleted_after_each_test",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--service-backends",
        default="sqlite,postgres",
        help="the stores a service's tests run on (its database_url parameter): sqlite, postgres or both. "
        "The runtime's event-store tests always run on both.",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Leave out the service tests on a backend not asked for (``make test`` runs them on PostgreSQL only;
    ``make test-all`` on both)."""
    wanted = {b.strip() for b in str(config.getoption("service_backends")).split(",") if b.strip()}
    unknown = wanted - {"sqlite", "postgres"}
    if unknown:
        raise pytest.UsageError(f"--service-backends: unknown backend(s) {', '.join(sorted(unknown))}")
    kept: list[pytest.Item] = []
    left_out: list[pytest.Item] = []
    for item in items:
        callspec = getattr(item, "callspec", None)
        backend = callspec.params.get("database_url") if callspec is not None else None
        (left_out if backend is not None and backend not in wanted else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept
