"""Every service of the platform in this process, on ASGI transports, meeting through one topic namespace on
the real Kafka broker, each on its own PostgreSQL database, one key store: the platform as deployed, minus the
network between the HTTP clients and the apps."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import AsyncExitStack
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from ddr_contracts.topics import SERVICES
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_testkit.upstream import create_namespace_topics, new_namespace
from tests.e2e.platform import Platform


def _builder(service: str) -> Callable[..., FastAPI]:
    """The service's ``build_app(settings, *, token_verifier=...)``, found through its entry point."""
    (found,) = [ep for ep in entry_points(group="ddr.services") if ep.name == service]
    module = __import__(found.module, fromlist=["build_app"])
    builder: Callable[..., FastAPI] = module.build_app
    return builder


@pytest.fixture
async def platform(
    kafka_bootstrap_servers: str,
    make_postgres_database: Callable[[], Coroutine[Any, Any, str]],
    tmp_path: Path,
) -> AsyncIterator[Platform]:
    namespace = new_namespace()
    create_namespace_topics(kafka_bootstrap_servers, namespace)
    issuer = DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="e2e", audience="e2e")
    verifier = TokenVerifier(issuer.public_key_pem, issuer="e2e", audience="e2e")
    keystore_url = await make_postgres_database()
    async with AsyncExitStack() as stack:
        clients: dict[str, httpx.AsyncClient] = {}
        for service in SERVICES:
            settings = Settings(
                service_name=service,
                database_url=await make_postgres_database(),
                keystore_url=keystore_url,
                var_dir=tmp_path,
                kafka_bootstrap_servers=kafka_bootstrap_servers,
                topic_namespace=namespace,
            )
            extra: dict[str, Any] = {"biometric_key": os.urandom(32)} if service == "registration" else {}
            app = _builder(service)(settings, token_verifier=verifier, **extra)
            await stack.enter_async_context(app.router.lifespan_context(app))
            clients[service] = await stack.enter_async_context(
                httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=f"http://{service}")
            )
        yield Platform(clients, issuer)
