"""Issue 14's canary leak sweep for integration: registration publishes two MNLA members with canary names,
fathers, movement references and biometric hashes, and screening their canary medical and vetting detail with
their outcomes; the NIC takes both in, ranks them and trains them; one is erased and their records read again.
Integration needs nothing personal: every table of its store (the idempotency rows included), its topic
(records and log segments), the logs, the spans and its answers hold none of these values in clear."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from ddr_contracts.registration import PersonalDataErased, PersonPreRegistered, PersonRegistered
from ddr_integration.bootstrap import build_app
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.leaks import CanarySweep, Witness, screening_detail, witness_fixture
from ddr_testkit.services import Api, running
from ddr_testkit.upstream import UpstreamService

from .conftest import OUTCOME_DAY, Programme, at, eventually, outcome

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ERASED, KEPT = (f"mnla-{uuid.uuid4().hex[:10]}" for _ in range(2))
VALUES = {
    person: {
        "full_name": f"Intalla Ag Canary{tag}",
        "father_name": f"Attaher Ag Canarillo{tag}",
        "birth_place": f"Canaryville-{tag}",
        "movement_ref": f"MNLA-CANARY-{tag}",
        "biometric_hash": f"bio-canary-{tag}",
        "medical": f"tuberculose CANARY-TB-{tag}",
        "vetting": f"temoin CANARY-WITNESS-{tag}",
    }
    for person, tag in ((ERASED, "Erased"), (KEPT, "Kept"))
}


witness = witness_fixture("integration")


@pytest.fixture
async def app(
    settings: Settings,
    token_verifier: TokenVerifier,
    witness: Witness,
) -> AsyncIterator[FastAPI]:
    """The integration app of this module: its spans recorded, its logs captured from the start."""
    built = build_app(settings, token_verifier=token_verifier, tracer_provider=witness.tracer_provider)
    async with running(built) as served:
        yield served


def registered(person: str) -> list[Any]:
    v = VALUES[person]
    pre = PersonPreRegistered(
        person_id=person, list_id="list-1", list_version=1, movement="MNLA", movement_ref=v["movement_ref"],
        category="combatant", sex="M", birth_kind="year", region="Gao", cercle="Gao", rank="combattant",
        armed=True, birth_year=1990, full_name=v["full_name"], full_name_arabic=None, birth_date=None,
        commune=None, father_name=v["father_name"], mother_name=None, birth_place=v["birth_place"],
    )  # fmt: skip
    return [
        pre,
        PersonRegistered(person_id=person, ddr_id=f"ML-{person[-8:]}", biometric_hash=v["biometric_hash"]),
    ]


def screened(person: str) -> list[Any]:
    v = VALUES[person]
    return [*screening_detail(person, medical=v["medical"], vetting=v["vetting"]), outcome(person, "MNLA")]


async def scenario(
    programme: Programme, nic: Api, registration: UpstreamService, screening: UpstreamService, app: FastAPI
) -> dict[str, str]:
    await programme.quota("2022-MNLA", 10, movement="MNLA")
    await programme.rules()
    body = {"cohort_id": "kati-c", "camp": "Kati", "capacity": 10, "starts_on": "2022-04-01"}
    await nic.ok("/cohorts", body, 201, Idempotency_Key="cohort-1")
    for person in VALUES:
        await registration.emit(person, *registered(person), occurred_at=at(OUTCOME_DAY))
        await screening.emit(person, *screened(person), occurred_at=at(OUTCOME_DAY))

    async def received() -> bool:
        answers = [await nic.get(f"/candidates/{p}") for p in VALUES]
        return all(a.status_code == 200 and a.json()["status"] == "accepted" for a in answers)

    await eventually(received, "both candidates accepted")
    await programme.trained(list(VALUES), "kati-c")
    erasure = PersonalDataErased(person_id=ERASED, reason_code="protection_risk", authority="CNDDR-2026-007")
    await registration.emit(ERASED, erasure)  # as registration erases: recorded, then the key shredded
    await app.state.runtime.keystore.erase(ERASED)
    return {
        "candidate": (await nic.get(f"/candidates/{ERASED}")).text,
        "candidates": (await nic.get("/candidates")).text,
        "cohort": (await nic.get("/cohorts/kati-c")).text,
    }


async def test_integration_holds_nothing_personal_of_anyone_it_takes_in(
    app: FastAPI,
    programme: Programme,
    nic: Api,
    registration: UpstreamService,
    screening: UpstreamService,
    settings: Settings,
    kafka_bootstrap_servers: str,
    witness: Witness,
) -> None:
    """Issue 14, findings 2, 7 and 8 for integration: what registration and screening said of a person
    copied into its store, its events or its answers kept for replay, or written to logs or spans."""
    answers = await scenario(programme, nic, registration, screening, app)
    runtime: ServiceRuntime = app.state.runtime
    await runtime.relay.drain()
    topics = [settings.events_topic("integration")]

    sweep = CanarySweep([v for values in VALUES.values() for v in values.values()])
    await sweep.service(
        runtime.engine, "integration store", kafka_bootstrap_servers, topics, witness)  # fmt: skip
    for about, answer in answers.items():
        sweep.text(answer, f"answer of {about}")

    assert sweep.hits == [], sweep.report()
    assert ERASED in answers["candidates"]  # the sweep looks where the candidates were shown
    assert {f"integration store: table {t}" for t in ("events", "outbox", "idempotency_keys")} <= set(
        sweep.searched
    ), sweep.searched
    assert any(where.startswith("Kafka segment") for where in sweep.searched)
