"""The registration service on its own store (PostgreSQL and SQLite) and topic namespace, and its callers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from ddr_registration.bootstrap import build_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_testkit.services import Api, Caller, caller_of, running, service_settings


@pytest.fixture
def settings(database_url: str, kafka_bootstrap_servers: str, namespace: str, tmp_path: Path) -> Settings:
    return service_settings("registration", database_url, kafka_bootstrap_servers, namespace, tmp_path)


@pytest.fixture
async def app(settings: Settings, token_verifier: TokenVerifier) -> AsyncIterator[FastAPI]:
    built = build_app(settings, token_verifier=token_verifier, biometric_key=os.urandom(32))
    async with running(built):
        yield built


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://registration") as c:
        yield c


@pytest.fixture
def caller(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> Caller:
    return caller_of(client, issuer)


@pytest.fixture
def officer(caller: Caller) -> Api:
    return caller(Role.CNDDR_OFFICER, subject="cnddr-officer-1")
