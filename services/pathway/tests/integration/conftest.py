"""Fixtures of the pathway service's integration tests: the app on each backend, a topic namespace of its
own on the real broker, callers with tokens, builders of upstream contract events."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI

from ddr_contracts.integration import CandidateAccepted, ServiceStatusChanged
from ddr_contracts.registration import (
    CoalitionJoined,
    PersonDetailsCorrected,
    PersonMergedInto,
    PersonPreRegistered,
    PersonRegistered,
)
from ddr_contracts.reinsertion import BeneficiaryEnrolled, BeneficiaryExited
from ddr_contracts.screening import BenefitsHeld, ScreeningOutcomeDecided
from ddr_pathway.bootstrap import build_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_testkit.upstream import create_namespace_topics, new_namespace

DEADLINE = 45.0


@pytest.fixture(scope="module")
def issuer() -> DevelopmentTokenIssuer:
    return DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="test", audience="test")


@pytest.fixture(params=["postgres", "sqlite"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Pathway's store and read model on each backend it runs on."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'pathway.sqlite'}"
    url: str = request.getfixturevalue("fresh_postgres_database")
    return url


@pytest.fixture
def namespace(kafka_bootstrap_servers: str) -> str:
    ns = new_namespace()
    create_namespace_topics(kafka_bootstrap_servers, ns)
    return ns


@pytest.fixture
def settings(database_url: str, kafka_bootstrap_servers: str, tmp_path: Path, namespace: str) -> Settings:
    return Settings(
        service_name="pathway",
        database_url=database_url,
        var_dir=tmp_path,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
        topic_namespace=namespace,
    )


class Api:
    """An HTTP client of the app, acting as one caller."""

    def __init__(self, client: httpx.AsyncClient, token: str) -> None:
        self.client = client
        self.headers = {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.headers)

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.headers)


class Callers:
    """Tokens for every role the tests act as."""

    def __init__(self, client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> None:
        self.client = client
        self.issuer = issuer

    def as_(self, subject: str, *roles: Role, **claims: Any) -> Api:
        return Api(self.client, self.issuer.issue(subject=subject, roles=list(roles), **claims))

    @property
    def officer(self) -> Api:
        return self.as_("officer-1", Role.CNDDR_OFFICER)

    @property
    def auditor(self) -> Api:
        return self.as_("auditor-1", Role.AUDITOR)

    @property
    def operator(self) -> Api:
        return self.as_("operator-1", Role.OPERATOR)

    @property
    def donor(self) -> Api:
        return self.as_("donor-1", Role.DONOR)

    @property
    def child_protection(self) -> Api:
        return self.as_("cp-1", Role.CHILD_PROTECTION)

    def liaison(self, movement: str) -> Api:
        return self.as_(f"liaison-{movement}", Role.MOVEMENT_LIAISON, movement=movement)


@asynccontextmanager
async def running_pathway(
    settings: Settings, issuer: DevelopmentTokenIssuer
) -> AsyncIterator[tuple[FastAPI, Callers]]:
    app = build_app(
        settings, token_verifier=TokenVerifier(issuer.public_key_pem, issuer="test", audience="test")
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://pathway") as c,
    ):
        yield app, Callers(c, issuer)


@pytest.fixture
async def pathway(settings: Settings, issuer: DevelopmentTokenIssuer) -> AsyncIterator[Callers]:
    async with running_pathway(settings, issuer) as (_app, callers):
        yield callers


async def eventually(check: Callable[[], Awaitable[bool]], what: str, within: float = DEADLINE) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``within`` seconds."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {within:.0f} s: {what}")
        await asyncio.sleep(0.2)


@pytest.fixture
def wait() -> Callable[..., Awaitable[None]]:
    return eventually


def at(day: str, hour: int = 9) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), tzinfo=UTC).replace(hour=hour)


class Events:
    """Builders of the upstream contract events a person's path is made of."""

    at = staticmethod(at)

    @staticmethod
    def person() -> str:
        return str(uuid.uuid4())

    @staticmethod
    def pre_registered(
        person: str,
        *,
        movement: str = "MNLA",
        sex: str = "M",
        region: str = "Kidal",
        birth_year: int = 1988,
        category: str = "combatant",
    ) -> PersonPreRegistered:
        return PersonPreRegistered(
            person_id=person, list_id="list-1", list_version=1, movement=movement, movement_ref=f"R-{person[:6]}",
            category=category, sex=sex, birth_kind="year", region=region, cercle=region, rank="soldat",
            armed=True, birth_year=birth_year, full_name="Ibrahim Ag Assaleh", full_name_arabic=None,
            birth_date=None, commune="Anefis", father_name="Assaleh", mother_name=None, birth_place="Kidal",
        )  # fmt: skip

    @staticmethod
    def registered(person: str) -> PersonRegistered:
        return PersonRegistered(person_id=person, ddr_id=f"ML-{person[:8]}", biometric_hash="bio-secret-hash")

    @staticmethod
    def screened(
        person: str,
        track: str = "integration",
        *,
        movement: str = "MNLA",
        decision: str | None = None,
        reason: str = "integration_criteria_met",
        region: str = "Kidal",
        sex: str = "M",
    ) -> ScreeningOutcomeDecided:
        return ScreeningOutcomeDecided(
            person_id=person, decision_id=decision or str(uuid.uuid4()), track=track,
            reason_code=reason, rule_version="eligibility-2019.1", previous_track=None,
            supersedes_decision_id=None, by_appeal=False, movement=movement, category="combatant",
            sex=sex, region=region, birth_year=1988, rank="soldat", armed=True,
        )  # fmt: skip

    @staticmethod
    def held(person: str) -> BenefitsHeld:
        return BenefitsHeld(person_id=person, decision_id="d-hold", reason_code="vetting_pending")

    @staticmethod
    def accepted(person: str, on: str, movement: str = "MNLA") -> CandidateAccepted:
        return CandidateAccepted(
            person_id=person, movement=movement, path="reconstituted_forces", quota_id="q-2019",
            screening_decision_id="d-1", effective_on=date.fromisoformat(on),
        )  # fmt: skip

    @staticmethod
    def service(person: str, status: str, on: str) -> ServiceStatusChanged:
        return ServiceStatusChanged(
            person_id=person, unit="BATFAR-Gao", status=status,
            effective_on=date.fromisoformat(on),
        )  # fmt: skip

    @staticmethod
    def enrolled(person: str, on: str, region: str = "Gao") -> BeneficiaryEnrolled:
        return BeneficiaryEnrolled(
            person_id=person, source="screening", round_id="round-1", region=region, sex="M",
            category="combatant", movement="MNLA", effective_on=date.fromisoformat(on),
        )  # fmt: skip

    @staticmethod
    def exited(person: str, on: str, reason: str = "completed") -> BeneficiaryExited:
        return BeneficiaryExited(
            person_id=person,
            reason=reason,
            effective_on=date.fromisoformat(on),
        )

    @staticmethod
    def corrected(person: str, **fields: Any) -> PersonDetailsCorrected:
        return PersonDetailsCorrected(
            person_id=person, corrected_fields=tuple(sorted(fields)), full_name=None, full_name_arabic=None,
            birth_date=None, commune=None, reason="typo on the paper form", **fields,
        )  # fmt: skip

    @staticmethod
    def merged(absorbed: str, into: str) -> PersonMergedInto:
        return PersonMergedInto(person_id=absorbed, into_person_id=into, case_id="case-1")

    @staticmethod
    def joined(movement: str, coalition: str, since: str) -> CoalitionJoined:
        return CoalitionJoined(movement=movement, coalition=coalition, since=date.fromisoformat(since))


@pytest.fixture
def events() -> type[Events]:
    return Events
