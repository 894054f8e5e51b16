"""The integration service on a real Kafka broker and each database backend (the test kit's fixtures), with
upstream services publishing their contract events through their own store and relay (``UpstreamService``).

The programme's history is from 2022: the NIC officer here also holds ``records_officer`` and states why
such old facts are recorded now, as a commission migrating its registers does.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from datetime import time as clock
from typing import Any

import httpx
import pytest

from ddr_contracts.registration import CoalitionJoined
from ddr_contracts.screening import ScreeningOutcomeDecided
from ddr_integration.bootstrap import build_app
from ddr_integration.domain.ranks import DECREE_2019
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.config import Settings
from ddr_testkit.services import Api, caller_of, service_fixtures
from ddr_testkit.upstream import UpstreamService

WAIT_SECONDS = 30.0
OUTCOME_DAY = date(2022, 3, 1)
REASON = "migrated from the NIC's 2022 registers"


def at(day: date) -> datetime:
    return datetime.combine(day, clock(9), tzinfo=UTC)


class RecordsOfficer(Api):
    """A caller who may record facts older than the back-recording window, and says why on every POST."""

    async def post(self, path: str, body: Any = None, **headers: str) -> httpx.Response:
        headers.setdefault("back_recording_reason", REASON)
        return await super().post(path, body, **headers)


settings, app, client = service_fixtures("integration", build_app)


@pytest.fixture
def nic(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> Api:
    token = issuer.issue(subject="nic-1", roles=[Role.NIC_OFFICER, Role.RECORDS_OFFICER])
    return RecordsOfficer(client, token)


@pytest.fixture
def mod(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> Api:
    token = issuer.issue(subject="mod-1", roles=[Role.MOD_LIAISON, Role.RECORDS_OFFICER])
    return RecordsOfficer(client, token)


def caller(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer, role: Role, **claims: Any) -> Api:
    return caller_of(client, issuer)(role, subject=f"{role}-{uuid.uuid4().hex[:6]}", **claims)


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


def items_of(answer: dict[str, Any]) -> list[tuple[str | None, str, str | None]]:
    """A bulk answer's items as (key, status, rule)."""
    return [(item["key"], item["status"], item["rule"]) for item in answer["items"]]


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
                "decided_on": f"{year - 1}-12-15",
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
                "published_on": DECREE_2019.effective_from.isoformat(),
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
            for pid in ids:
                if (await self.nic.get(f"/candidates/{pid}")).status_code != 200:
                    return False
            return True

        await eventually(received, f"{count} candidates of {movement}")
        return ids

    async def trained(self, ids: list[str], cohort_id: str, day: date = date(2022, 4, 1)) -> None:
        """Rank, enrol and complete training for already accepted candidates."""
        ranked = await self.nic.ok(
            "/rank-allocations",
            {
                "entries": [{"person_id": p, "years_of_service": 1, "qualification": "none"} for p in ids],
                "effective_on": day.isoformat(),
            },
        )
        enrolled = await self.nic.ok(
            f"/cohorts/{cohort_id}/enrolments", {"person_ids": ids, "effective_on": day.isoformat()}
        )
        done = await self.nic.ok(
            f"/cohorts/{cohort_id}/outcomes",
            {
                "outcomes": [{"person_id": p, "outcome": "completed"} for p in ids],
                "effective_on": enrolled["cohort"]["ends_on"],
            },
        )
        assert ranked["recorded"] == enrolled["recorded"] == done["recorded"] == len(ids), (ranked, done)


@pytest.fixture
def programme(nic: Api, screening: UpstreamService) -> Programme:
    return Programme(nic, screening)


async def coalitions(registration: UpstreamService, nic: Api, pairs: dict[str, str], since: date) -> None:
    """Movements joining coalitions (registration's events), waited for through the coalitions view."""
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


async def cohort(nic: Api, cohort_id: str, capacity: int, starts_on: str = "2022-04-01", **more: Any) -> Any:
    body = {"cohort_id": cohort_id, "camp": "Kati", "capacity": capacity, "starts_on": starts_on, **more}
    return await nic.ok("/cohorts", body, 201)


async def unit(nic: Api, unit_id: str, establishment: int, tolerance: float = 0.02) -> None:
    body = {
        "unit_id": unit_id,
        "display_name": unit_id,
        "kind": "battalion",
        "location": unit_id.split("-")[-1],
        "establishment": establishment,
        "tolerance": tolerance,
        "established_on": "2022-06-01",
    }
    await nic.ok("/units", body, 201)


async def assign(nic: Api, unit_id: str, ids: list[str], day: str, command_posts: int = 0) -> httpx.Response:
    body = {
        "assignments": [{"person_id": p, "command_post": i < command_posts} for i, p in enumerate(ids)],
        "effective_on": day,
    }
    return await nic.post(f"/units/{unit_id}/assignments", body)


async def status_of(nic: Api, person_id: str) -> dict[str, Any]:
    response = await nic.get(f"/candidates/{person_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body
