"""Fixtures: the screening app on PostgreSQL and SQLite, its own topic namespace, registration upstream."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_screening.bootstrap import ScreeningConfig, build_app
from ddr_testkit.services import Api, caller_of, service_client, service_fixtures
from ddr_testkit.upstream import UpstreamService

settings = service_fixtures("screening", build_app)[0]  # the app is built in `env`, with its config


@dataclass
class Env:
    app: FastAPI
    settings: Settings
    registration: UpstreamService
    client: httpx.AsyncClient
    issuer: DevelopmentTokenIssuer

    def as_role(self, *roles: Role, **claims: Any) -> Api:
        """A caller of its own (a subject named after its roles) holding ``roles``."""
        subject = f"{'-'.join(roles)}-{uuid.uuid4().hex[:6]}"
        return caller_of(self.client, self.issuer)(*roles, subject=subject, **claims)

    @property
    def topic(self) -> str:
        return self.settings.events_topic("screening")


@pytest.fixture
async def env(
    settings: Settings, issuer: DevelopmentTokenIssuer, token_verifier: TokenVerifier
) -> AsyncIterator[Env]:
    app = build_app(
        settings, token_verifier=token_verifier, config=ScreeningConfig(overdue_check_seconds=1.0)
    )
    async with (
        service_client(app, "http://screening") as client,
        UpstreamService("registration", settings) as registration,
    ):
        yield Env(app, settings, registration, client, issuer)
