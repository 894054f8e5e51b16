"""The CVR service over HTTP on PostgreSQL and SQLite, with a real Kafka broker on its own topic namespace.

History here is the programme's (2015-2023): every caller who records it also holds the records officer's
role and sends a reason, as a commission migrating its records would (``historian``); ``caller`` makes
callers without that authority.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from ddr_cvr.bootstrap import build_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.eventstore.unit import UnitOfWork
from ddr_testkit.services import Api, Caller, caller_of, service_fixtures

REASON = "migrated from the CVR unit's 2015-2023 project files"


settings, app, client = service_fixtures("cvr", build_app)


@pytest.fixture
def caller(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> Caller:
    """Callers holding the given roles, without the authority to record facts older than the window."""
    return caller_of(client, issuer)


@pytest.fixture
def historian(caller: Caller) -> Caller:
    """Callers holding the given roles and the records officer's, who send a reason with every request."""

    def make(*roles: Role, subject: str | None = None, **claims: Any) -> Api:
        api = caller(*roles, Role.RECORDS_OFFICER, subject=subject or f"{roles[0]}-1", **claims)
        api.headers["Back-Recording-Reason"] = REASON
        return api

    return make


@pytest.fixture
def officer(historian: Caller) -> Api:
    return historian(Role.CNDDR_OFFICER)


@pytest.fixture
def committee(historian: Caller) -> Api:
    return historian(Role.COMMITTEE_MEMBER)


@pytest.fixture
def unit(app: FastAPI) -> UnitOfWork:
    found: UnitOfWork = app.state.cvr_unit
    return found
