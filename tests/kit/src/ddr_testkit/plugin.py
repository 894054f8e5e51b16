"""The pytest plugin every test run loads (entry point ``pytest11``): infrastructure and service fixtures."""

from __future__ import annotations

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
    "token_verifier",
    "topics_deleted_after_each_test",
]
