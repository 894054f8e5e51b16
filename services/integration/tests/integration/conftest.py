"""The integration service on a real Kafka broker and each database backend, with upstream services
publishing their contract events through their own store and relay (``UpstreamService``)."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from ddr_contracts.registration import CoalitionJoined
from ddr_contracts.screening import ScreeningOutcomeDecided
from ddr_integration.bootstrap import build_app
from ddr_integration.domain.ranks import DECREE_2019
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_testkit.upstream import UpstreamService, create_namespace_topics, new_namespace

WAIT_SECONDS = 30.0
OUTCOME_DAY = date(2022, 3, 1)


def at(day: date) -> datetime:
    return datetime.combine(day, clock(9), tzinfo=UTC)


@pytest.fixture(scope="module")
def issuer() -> DevelopmentTokenIssuer:
    return DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="test", audience="test")


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'integration.sqlite'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture
def settings(database_url: str, kafka_bootstrap_servers: str, tmp_path: Path) -> Settings:
    namespace = new_namespace()
    create_namespace_topics(kafka_bootstrap_servers, namespace)
    return Settings(
        service_name="integration",
        database_url=database_url,
        var_dir=tmp_path,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_namespace=namespace,
    )


@pytest.fixture
async def app(settings: Settings, issuer: DevelopmentTokenIssuer) -> AsyncIterator[FastAPI]:
    built = build_app(
        settings, token_verifier=TokenVerifier(issuer.public_key_pem, issuer="test", audience="test")
    )
    async with built.router.lifespan_context(built):
        yield built


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://integration") as c:
        yield c


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
        return response.json()


def caller(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer, role: Role, **claims: Any) -> Api:
    return Api(client, issuer.issue(subject=f"{role}-{uuid.uuid4().hex[:6]}", roles=[role], **claims))


@pytest.fixture
def nic(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> Api:
    return caller(client, issuer, Role.NIC_OFFICER)


@pytest.fixture
def mod(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> Api:
    return caller(client, issuer, Role.MOD_LIAISON)


@pytest.fixture
async def screening(settings: Settings) -> AsyncIterator[UpstreamService]:
    async with UpstreamService("screening", settings) as upstream:
        yield upstream


@pytest.fixture
async def reinsertion(settings: Settings) -> AsyncIterator[UpstreamService]:
    async with UpstreamService("reinsertion", settings) as upstream:
        yield upstream


@pytest.fixture
async def registration(settings: Settings) -> AsyncIterator[UpstreamService]:
    async with UpstreamService("registration", settings) as upstream:
        yield upstream


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = WAIT_SECONDS) -> None:
    """Poll ``check`` until it holds (the consumer has caught up), or fail after ``within`` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not seen within {within:.0f} s: {what}")


def outcome(
    person_id: str, movement: str, track: str = "integration", **overrides: Any
) -> ScreeningOutcomeDecided:
    values: dict[str, Any] = {
        "person_id": person_id,
        "decision_id": str(uuid.uuid4()),
        "track": track,
        "reason_code": "eligible",
        "rule_version": "2022-1",
        "previous_track": None,
        "supersedes_decision_id": None,
        "by_appeal": False,
        "movement": movement,
        "category": "combatant",
        "sex": "M",
        "region": "Gao",
        "birth_year": 1990,
        "rank": "combattant",
        "armed": True,
    }
    values.update(overrides)
    return ScreeningOutcomeDecided(**values)


@dataclass
class Programme:
    """Drives candidates through the pipeline the way the commissions do, over the real API."""

    nic: Api
    screening: UpstreamService

    async def quota(self, quota_id: str, limit: int, movement: str | None = None, year: int = 2022) -> None:
        await self.nic.ok(
            "/quotas",
            {
                "quota_id": quota_id,
                "movement": movement,
                "period_start": f"{year}-01-01",
                "period_end": f"{year}-12-31",
                "limit": limit,
                "decision_ref": f"decision-{quota_id}",
                "reason": "offer to the signatory movements",
            },
            201,
        )

    async def rules(self) -> None:
        await self.nic.ok(
            "/rank-rules",
            {
                "rule_version": DECREE_2019.version,
                "decree_ref": DECREE_2019.decree_ref,
                "effective_from": DECREE_2019.effective_from.isoformat(),
                "rules": [
                    {
                        "movement_ranks": list(r.movement_ranks),
                        "min_years": r.min_years,
                        "qualifications": list(r.qualifications),
                        "rank": r.rank,
                        "command_function": r.command_function,
                    }
                    for r in DECREE_2019.rules
                ],
            },
            201,
        )

    async def candidates(
        self, movement: str, count: int, day: date = OUTCOME_DAY, **overrides: Any
    ) -> list[str]:
        """``count`` screening outcomes on the integration track, published to Kafka; waits until received."""
        ids = [f"{movement.lower()}-{uuid.uuid4().hex[:10]}" for _ in range(count)]
        for pid in ids:
            await self.screening.emit(
                pid, outcome(pid, movement, **overrides), occurred_at=at(day), publish=False
            )
        await self.screening.publish()

        async def received() -> bool:
            for pid in ids[-1:] + ids[:1]:
                if (await self.nic.get(f"/candidates/{pid}")).status_code != 200:
                    return False
            return True

        await eventually(received, f"{count} candidates of {movement}")
        await eventually(lambda: self._all_received(ids), f"all {count} candidates of {movement}")
        return ids

    async def _all_received(self, ids: list[str]) -> bool:
        for pid in ids:
            if (await self.nic.get(f"/candidates/{pid}")).status_code != 200:
                return False
        return True

    async def trained(self, ids: list[str], cohort_id: str, day: date = date(2022, 4, 1)) -> None:
        """Rank, enrol and complete training for already accepted candidates."""
        await self.nic.ok(
            "/rank-allocations",
            {
                "entries": [{"person_id": p, "years_of_service": 1, "qualification": "none"} for p in ids],
                "effective_on": day.isoformat(),
            },
        )
        await self.nic.ok(
            f"/cohorts/{cohort_id}/enrolments", {"person_ids": ids, "effective_on": day.isoformat()}
        )
        cohort = (await self.nic.get(f"/cohorts/{cohort_id}")).json()
        await self.nic.ok(
            f"/cohorts/{cohort_id}/outcomes",
            {
                "outcomes": [{"person_id": p, "outcome": "completed"} for p in ids],
                "effective_on": cohort["ends_on"],
            },
        )


@pytest.fixture
def programme(nic: Api, screening: UpstreamService) -> Programme:
    return Programme(nic, screening)


async def coalitions(registration: UpstreamService, nic: Api, pairs: dict[str, str], since: date) -> None:
    """Movements joining coalitions (registration's events), waited for through a unit's composition."""
    for movement, coalition in pairs.items():
        await registration.emit(
            movement,
            CoalitionJoined(movement=movement, coalition=coalition, since=since),
            occurred_at=at(since),
        )

    async def joined() -> bool:
        seen = (await nic.get("/coalitions", as_of=since.isoformat())).json()["movements"]
        return all(seen.get(m) == c for m, c in pairs.items())

    await eventually(joined, "coalition memberships")
