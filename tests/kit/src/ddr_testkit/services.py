"""What a service's tests share: a development token issuer, a store on each backend, the service's settings
on its own topic namespace, the app running its lifespan, and clients acting as one caller each.

A service's ``conftest.py`` keeps only what is its own; its ``settings`` (each backend), running ``app`` and
``client`` fixtures are bound in one line::

    settings, app, client = service_fixtures("cvr", build_app)

``service_env`` bundles what a test of a whole app on SQLite needs (the authorisation and fuzz harnesses).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_testkit.upstream import (
    NAMESPACES_IN_USE,
    create_namespace_topics,
    delete_namespace_topics,
    new_namespace,
)

ISSUER = "test"
AUDIENCE = "test"


@pytest.fixture(scope="module")
def issuer() -> DevelopmentTokenIssuer:
    """Signs tokens for the tests' callers with a key made for this module."""
    return DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture
def token_verifier(issuer: DevelopmentTokenIssuer) -> TokenVerifier:
    return TokenVerifier(issuer.public_key_pem, issuer=ISSUER, audience=AUDIENCE)


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The service's store on each backend: a fresh PostgreSQL database, and an SQLite file."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'store.sqlite'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture(autouse=True)
def topics_deleted_after_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """Once a test that used Kafka has ended (its services stopped: this fixture is torn down last), the
    topics of the namespaces it took are deleted."""
    NAMESPACES_IN_USE.clear()
    yield
    if NAMESPACES_IN_USE and "kafka_bootstrap_servers" in request.fixturenames:
        delete_namespace_topics(request.getfixturevalue("kafka_bootstrap_servers"), list(NAMESPACES_IN_USE))
    NAMESPACES_IN_USE.clear()


@pytest.fixture
def namespace(kafka_bootstrap_servers: str) -> str:
    """A topic namespace of this test's own, its topics created: no other run sees its events."""
    name = new_namespace()
    create_namespace_topics(kafka_bootstrap_servers, name)
    return name


@dataclass(frozen=True)
class ServiceEnv:
    """What a test of a whole service app runs on (the ``service_env`` fixture): the broker and the test's
    namespace, its folder, the tokens' issuer and their verifier."""

    kafka_bootstrap_servers: str
    namespace: str
    var_dir: Path
    issuer: DevelopmentTokenIssuer
    token_verifier: TokenVerifier

    def sqlite_settings(self, service: str, **overrides: Any) -> Settings:
        """``service``'s settings with its store in an SQLite file of the test's folder."""
        database_url = f"sqlite+aiosqlite:///{self.var_dir / f'{service}.sqlite'}"
        return service_settings(
            service, database_url, self.kafka_bootstrap_servers, self.namespace, self.var_dir, **overrides
        )


@pytest.fixture
def service_env(
    kafka_bootstrap_servers: str,
    namespace: str,
    tmp_path: Path,
    issuer: DevelopmentTokenIssuer,
    token_verifier: TokenVerifier,
) -> ServiceEnv:
    return ServiceEnv(kafka_bootstrap_servers, namespace, tmp_path, issuer, token_verifier)


def service_settings(
    service: str,
    database_url: str,
    kafka_bootstrap_servers: str,
    namespace: str,
    var_dir: Path,
    **overrides: Any,
) -> Settings:
    """Settings of ``service`` for a test: its store, the broker, the test's namespace, a private var/.

    Readiness probes get 30 s by default (not a deployment's 2 s): the test machine is shared and loaded, and
    a probe that is merely slow there is not the failure a test of ``/readyz`` looks for."""
    overrides.setdefault("readiness_timeout_seconds", 30.0)
    return Settings(
        service_name=service,
        database_url=database_url,
        var_dir=var_dir,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_namespace=namespace,
        **overrides,
    )


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[FastAPI]:
    """The app with its lifespan entered (store tables, broker, relay, consumers), left at the end."""
    async with app.router.lifespan_context(app):
        yield app


@asynccontextmanager
async def service_client(app: FastAPI, base_url: str = "http://service") -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the running app, in process."""
    async with (
        running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=base_url) as client,
    ):
        yield client


def service_fixtures(service: str, build_app: Callable[..., FastAPI]) -> tuple[Any, Any, Any]:
    """A service's ``settings`` (its store on each backend, the test's namespace), ``app`` (built with the
    test's token verifier, its lifespan running) and ``client`` fixtures, bound in its ``conftest.py``::

        settings, app, client = service_fixtures("cvr", build_app)
    """

    @pytest.fixture(name="settings")
    def settings_fixture(
        database_url: str, kafka_bootstrap_servers: str, namespace: str, tmp_path: Path
    ) -> Settings:
        return service_settings(service, database_url, kafka_bootstrap_servers, namespace, tmp_path)

    @pytest.fixture(name="app")
    async def app_fixture(settings: Settings, token_verifier: TokenVerifier) -> AsyncIterator[FastAPI]:
        async with running(build_app(settings, token_verifier=token_verifier)) as served:
            yield served

    @pytest.fixture(name="client")
    async def client_fixture(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{service}") as client:
            yield client

    return settings_fixture, app_fixture, client_fixture


class Api:
    """An HTTP client of one app acting as one caller (its token on every request)."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers)

    async def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return await self.client.post(path, json=body, headers={**self.headers, **_header_names(headers)})

    async def put(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        return await self.client.put(path, json=body, headers={**self.headers, **_header_names(headers)})

    async def delete(self, path: str, **headers: str) -> httpx.Response:
        return await self.client.delete(path, headers={**self.headers, **_header_names(headers)})

    async def ok(self, path: str, body: Any = None, status: int = 200, **headers: str) -> Any:
        """POST and insist on ``status``; the answer's JSON."""
        response = await self.post(path, body, **headers)
        assert response.status_code == status, response.text
        return response.json()


def _header_names(headers: dict[str, str]) -> dict[str, str]:
    """``if_match="3"`` as ``If-Match: 3``: keyword arguments name headers with underscores."""
    return {"-".join(part.capitalize() for part in name.split("_")): value for name, value in headers.items()}


Caller = Callable[..., Api]


def caller_of(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> Caller:
    """Make callers of ``client``: ``caller(Role.X, movement=..., subject=...)`` gives an :class:`Api`."""

    def make(*roles: Role, subject: str | None = None, **claims: Any) -> Api:
        name = subject or f"{roles[0]}-1"
        return Api(client, issuer.issue(subject=name, roles=list(roles), **claims))

    return make
