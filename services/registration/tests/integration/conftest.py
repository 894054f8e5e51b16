"""The registration service on its own store (PostgreSQL and SQLite) and topic namespace, and its callers."""

from __future__ import annotations

import os
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ddr_registration.bootstrap import build_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_testkit.services import Api, Caller, caller_of, service_fixtures


def build_registration(settings: Settings, **options: Any) -> FastAPI:
    """Registration's app with a biometric key of its own (the tests' apps have no configured one)."""
    return build_app(settings, biometric_key=os.urandom(32), **options)


settings, app, client = service_fixtures("registration", build_registration)


@pytest.fixture
def caller(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> Caller:
    return caller_of(client, issuer)


@pytest.fixture
def officer(caller: Caller) -> Api:
    return caller(Role.CNDDR_OFFICER, subject="cnddr-officer-1")
