"""Fixtures: the screening app on PostgreSQL and SQLite, its own topic namespace, registration upstream."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_screening.bootstrap import ScreeningConfig, build_app
from ddr_testkit.upstream import UpstreamService, create_namespace_topics, new_namespace

from .support import Api, caller


@pytest.fixture(scope="module")
def issuer() -> DevelopmentTokenIssuer:
    return DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="test", audience="test")


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'screening.sqlite'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture
def settings(database_url: str, kafka_bootstrap_servers: str, tmp_path: Path) -> Settings:
    namespace = new_namespace()
    create_namespace_topics(kafka_bootstrap_servers, namespace)
    return Settings(
        service_name="screening",
        database_url=database_url,
        var_dir=tmp_path,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_namespace=namespace,
    )


@dataclass
class Env:
    app: FastAPI
    settings: Settings
    registration: UpstreamService
    client: httpx.AsyncClient
    issuer: DevelopmentTokenIssuer

    def as_role(self, *roles: Role, **claims: object) -> Api:
        return caller(self.client, self.issuer, *roles, **claims)

    @property
    def topic(self) -> str:
        return self.settings.events_topic("screening")


@pytest.fixture
async def env(settings: Settings, issuer: DevelopmentTokenIssuer) -> AsyncIterator[Env]:
    app = build_app(
        settings,
        token_verifier=TokenVerifier(issuer.public_key_pem, issuer="test", audience="test"),
        config=ScreeningConfig(overdue_check_seconds=1.0),
    )
    async with (
        app.router.lifespan_context(app),
        UpstreamService("registration", settings) as registration,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://screening") as client,
    ):
        yield Env(app, settings, registration, client, issuer)
