"""The reinsertion service on a fresh database (PostgreSQL or SQLite) and its own Kafka topic namespace.

The tests follow the 2020 roadmap's dates, older than the back-recording window: the callers are records
officers too and send a reason, as a programme migrating its records does.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from kafka import KafkaConsumer

from ddr_contracts.screening import ScreeningOutcomeDecided
from ddr_reinsertion.bootstrap import build_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.kernel import UnknownRecord
from ddr_testkit.services import Api, service_client, service_settings
from ddr_testkit.upstream import UpstreamService

REASON = "migrated from the CNDDR's 2020 reinsertion registers"
SCREENED_AT = datetime(2020, 2, 10, 9, 0, tzinfo=UTC)


class Caller(Api):
    """A caller of the app who back-records: every POST carries the reason."""

    def __init__(self, client: httpx.AsyncClient, token: str, reason: str | None = REASON) -> None:
        super().__init__(client, token)
        self.reason = reason

    async def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        if self.reason is not None:
            headers.setdefault("back_recording_reason", self.reason)
        return await super().post(path, body, **headers)

    async def read(self, path: str, **params: Any) -> Any:
        response = await self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()

    async def ok(self, path: str, body: Any = None, status: int = 200, **headers: str) -> Any:
        response = await self.post(path, body, **headers)
        assert response.status_code == status, response.text
        return response.json() if response.content else None


@dataclass
class Service:
    app: FastAPI
    settings: Settings
    client: httpx.AsyncClient
    issuer: DevelopmentTokenIssuer
    officer: Caller
    finance: Caller
    donor: Caller
    auditor: Caller

    def as_(
        self,
        *roles: Role,
        subject: str | None = None,
        regions: tuple[str, ...] = (),
        reason: str | None = REASON,
    ) -> Caller:
        token = self.issuer.issue(subject=subject or f"{roles[0]}-1", roles=list(roles), regions=regions)
        return Caller(self.client, token, reason)


@pytest.fixture
def settings(database_url: str, kafka_bootstrap_servers: str, namespace: str, tmp_path: Path) -> Settings:
    return service_settings("reinsertion", database_url, kafka_bootstrap_servers, namespace, tmp_path)


def make_app(settings: Settings, verifier: TokenVerifier) -> FastAPI:
    return build_app(settings, token_verifier=verifier)


@pytest.fixture
async def service(
    settings: Settings, token_verifier: TokenVerifier, issuer: DevelopmentTokenIssuer
) -> AsyncIterator[Service]:
    app = make_app(settings, token_verifier)
    async with service_client(app, "http://reinsertion") as client:

        def caller(*roles: Role, subject: str | None = None) -> Caller:
            return Caller(client, issuer.issue(subject=subject or f"{roles[0]}-1", roles=list(roles)))

        yield Service(
            app,
            settings,
            client,
            issuer,
            caller(Role.REINSERTION_OFFICER, Role.RECORDS_OFFICER),
            caller(Role.FINANCE_OFFICER, Role.RECORDS_OFFICER),
            caller(Role.DONOR),
            caller(Role.AUDITOR),
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


async def screened(service: Service, *outcomes: ScreeningOutcomeDecided, at: datetime = SCREENED_AT) -> None:
    """Screening's outcomes, decided on ``at`` (business time), published to this service."""
    async with UpstreamService("screening", service.settings) as screening:
        for decided in outcomes:
            await screening.emit(decided.person_id, decided, occurred_at=at)


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


def money(value: Any) -> Decimal:
    """An amount as answered (a decimal string), to compare exactly."""
    return Decimal(value)


async def stage_of(service: Service, person_id: str) -> str | None:
    """The person's stage in the read model (a child's too, which no caller of this API may read)."""
    try:
        found = await service.app.state.queries.beneficiary(person_id, include_barred=True)
    except UnknownRecord:
        return None
    stage: str = found["stage"]
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


def refusal(response: httpx.Response) -> tuple[int, str | None]:
    """A refused request's status and the rule it names."""
    rule: str | None = response.json().get("rule") if response.content else None
    return response.status_code, rule


async def volunteers(
    service: Service, round_id: str, people: list[str], region: str = "Gao", sex: str = "M"
) -> None:
    """A round of one region, and ``people`` listed on it."""
    await service.officer.ok(
        "/rounds",
        {
            "round_id": round_id,
            "title": "R",
            "regions": [region],
            "size_per_region": 300,
            "opened_on": "2020-02-01",
        },
        201,
    )
    listed = await service.officer.ok(
        f"/rounds/{round_id}/volunteers",
        {
            "listed_on": "2020-02-02",
            "volunteers": [
                {"person_id": p, "region": region, "sex": sex, "category": "combatant", "movement": "CMA"}
                for p in people
            ],
        },
    )
    assert listed["refused"] == 0, listed
