"""The reinsertion service on a fresh database (PostgreSQL or SQLite) and its own Kafka topic namespace."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from kafka import KafkaConsumer

from ddr_contracts.screening import ScreeningOutcomeDecided
from ddr_reinsertion.bootstrap import build_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_testkit.upstream import create_namespace_topics, new_namespace

ISSUER = DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="test", audience="test")


class Api:
    """An HTTP client of the app acting as one caller."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers)

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers)

    async def ok(self, path: str, body: Any = None, status: int = 200) -> Any:
        response = await self.post(path, body)
        assert response.status_code == status, response.text
        return response.json() if response.content else None

    async def read(self, path: str, **params: Any) -> Any:
        response = await self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()


def caller(
    client: httpx.AsyncClient, role: Role, subject: str | None = None, regions: tuple[str, ...] = ()
) -> Api:
    return Api(client, ISSUER.issue(subject=subject or f"{role}-1", roles=[role], regions=regions))


@dataclass
class Service:
    app: FastAPI
    settings: Settings
    client: httpx.AsyncClient
    officer: Api
    finance: Api
    donor: Api
    auditor: Api

    def as_(self, role: Role, subject: str | None = None, regions: tuple[str, ...] = ()) -> Api:
        return caller(self.client, role, subject, regions)


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'reinsertion.sqlite'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture
def settings(database_url: str, kafka_bootstrap_servers: str, tmp_path: Path) -> Settings:
    namespace = new_namespace()
    create_namespace_topics(kafka_bootstrap_servers, namespace)
    return Settings(
        service_name="reinsertion",
        database_url=database_url,
        var_dir=tmp_path,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_namespace=namespace,
    )


def make_app(settings: Settings) -> FastAPI:
    return build_app(
        settings, token_verifier=TokenVerifier(ISSUER.public_key_pem, issuer="test", audience="test")
    )


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[Service]:
    app = make_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reinsertion") as client,
    ):
        yield Service(
            app,
            settings,
            client,
            caller(client, Role.REINSERTION_OFFICER),
            caller(client, Role.FINANCE_OFFICER),
            caller(client, Role.DONOR),
            caller(client, Role.AUDITOR),
        )


async def eventually(check: Callable[[], Awaitable[bool]], deadline_seconds: float = 30.0) -> None:
    """Poll ``check`` until it holds; fail after ``deadline_seconds``."""
    deadline = time.monotonic() + deadline_seconds
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("the consumer did not catch up in time")
        await asyncio.sleep(0.1)


def outcome(person_id: str, track: str = "reinsertion", **overrides: Any) -> ScreeningOutcomeDecided:
    values: dict[str, Any] = {
        "person_id": person_id,
        "decision_id": str(uuid.uuid4()),
        "track": track,
        "reason_code": "unarmed_member" if track == "reinsertion" else "decided",
        "rule_version": "2020.1",
        "previous_track": None,
        "supersedes_decision_id": None,
        "by_appeal": False,
        "movement": "CMA",
        "category": "combatant",
        "sex": "M",
        "region": "Gao",
        "birth_year": 1988,
        "rank": "soldat",
        "armed": False,
    }
    values.update(overrides)
    return ScreeningOutcomeDecided(**values)


PACKAGE: dict[str, Any] = {
    "package_id": "small-trade",
    "kind": "small_trade",
    "title": "Petit commerce",
    "caseloads": ["ex_combatant"],
    "currency": "XOF",
    "base_amount": 400_000,
    "rank_supplements": {"capitaine": 100_000},
    "per_dependant_amount": 10_000,
    "max_dependants": 4,
    "tranches": [
        {"number": 1, "share_percent": 50, "due_after_days": 0},
        {"number": 2, "share_percent": 30, "due_after_days": 60, "condition": "training_attended"},
        {"number": 3, "share_percent": 20, "due_after_days": 120, "condition": "follow_up_visit"},
    ],
    "follow_up_after_days": [90, 180],
    "effective_on": "2020-01-01",
}

FAGA_PACKAGE: dict[str, Any] = {
    **PACKAGE,
    "package_id": "faga-iga",
    "kind": "income_generating_activity",
    "title": "Activité génératrice de revenus (femmes associées)",
    "caseloads": ["faga"],
    "base_amount": 450_000,
    "tranches": [
        {"number": 1, "share_percent": 60, "due_after_days": 0},
        {"number": 2, "share_percent": 40, "due_after_days": 90},
    ],
}


async def setup_catalogue_and_line(
    service: Service, allotted: int = 100_000_000, received: int | None = None
) -> None:
    await service.officer.ok("/packages", PACKAGE, 201)
    await service.officer.ok("/packages", FAGA_PACKAGE, 201)
    await service.finance.ok(
        "/budget-lines",
        {
            "line_id": "wb-2020",
            "funding_source": "World Bank",
            "title": "IDA grant, reinsertion component",
            "currency": "XOF",
            "allotted": allotted,
            "opened_on": "2020-01-15",
        },
        201,
    )
    await service.finance.ok(
        "/budget-lines/wb-2020/receipts",
        {
            "amount": allotted if received is None else received,
            "reference": "DA-1",
            "received_on": "2020-01-20",
        },
    )


def enrolment(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "package_id": "small-trade",
        "line_id": "wb-2020",
        "skills": ["commerce"],
        "literacy": "basic",
        "area_of_return": "Gao, quartier Aljanabandja",
        "dependants": 2,
        "enrolled_on": "2020-03-01",
    }
    values.update(overrides)
    return values


def payment(
    person_id: str, tranche: int = 1, request_id: str | None = None, paid_on: str = "2020-03-02"
) -> dict[str, Any]:
    return {
        "request_id": request_id or str(uuid.uuid4()),
        "person_id": person_id,
        "tranche": tranche,
        "office": "Gao",
        "paid_on": paid_on,
    }


async def stage_of(service: Service, person_id: str) -> str | None:
    response = await service.auditor.get(f"/beneficiaries/{person_id}")
    if response.status_code == 404:
        return None
    stage: str = response.json()["stage"]
    return stage


async def wait_for_stage(service: Service, person_id: str, stage: str) -> None:
    async def reached() -> bool:
        return await stage_of(service, person_id) == stage

    await eventually(reached)


def published(settings: Settings, event_type: str, timeout_ms: int = 5000) -> list[dict[str, Any]]:
    """Envelopes of ``event_type`` on the reinsertion topic (deduplicated by event id)."""
    consumer = KafkaConsumer(
        settings.events_topic("reinsertion"),
        bootstrap_servers=settings.kafka_bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        consumer_timeout_ms=timeout_ms,
    )
    try:
        envelopes = [json.loads(record.value) for record in consumer]
    finally:
        consumer.close()
    return list(
        {
            e["id"]: e for e in envelopes if e["type"].rpartition(".v")[0] == f"ddr.reinsertion.{event_type}"
        }.values()
    )


TODAY = date(2020, 3, 2)


def refusal(response: httpx.Response) -> tuple[int, str | None]:
    """A refused request's status and the rule it names."""
    rule: str | None = response.json().get("rule") if response.content else None
    return response.status_code, rule
