"""Issue 14's canary leak sweep for pathway: the services it follows publish, about two people, canary names,
fathers, movement references and biometric hashes (registration), medical, vetting and age detail
(screening), a CVR participant's name and telephone, and a reinsertion area of return; officers, auditors and
child protection read both paths; one person is erased and the paths are read again. Then every table of
pathway's store (the facts, the generations, the events, the outbox, the idempotency rows), its topic (the
recorded reads: records and log segments), the logs, the spans and the answers hold none of these values in
clear: pathway keeps the steps, never what they said of the person."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import httpx
import pytest
from fastapi import FastAPI

from ddr_contracts.cvr import ParticipantEnrolled
from ddr_contracts.registration import PersonalDataErased, PersonPreRegistered, PersonRegistered
from ddr_contracts.reinsertion import CounsellingProfileRecorded
from ddr_contracts.screening import AgeAssessed
from ddr_pathway.bootstrap import build_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.leaks import CanarySweep, Witness, screening_detail, witness_fixture
from ddr_testkit.upstream import UpstreamService

from .conftest import Callers, Events

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ERASED, KEPT = str(uuid.uuid4()), str(uuid.uuid4())


def canaries(tag: str) -> dict[str, str]:
    return {
        "full_name": f"Intalla Ag Canary{tag}",
        "father_name": f"Attaher Ag Canarillo{tag}",
        "mother_name": f"Fadimata Walet Canarina{tag}",
        "birth_place": f"Canaryville-{tag}",
        "commune": f"Canarycommune-{tag}",
        "movement_ref": f"MNLA-CANARY-{tag}",
        "biometric_hash": f"bio-canary-{tag}",
        "medical": f"tuberculose CANARY-TB-{tag}",
        "vetting": f"temoin CANARY-WITNESS-{tag}",
        "age": f"dentition CANARY-TEETH-{tag}",
        "participant": f"Aminata Canarette{tag}",
        "telephone": f"+223760{len(tag):02d}4242",
        "area_of_return": f"Canaryquartier-{tag}",
    }


VALUES = {ERASED: canaries("Erased"), KEPT: canaries("Kept")}


witness = witness_fixture("pathway")


@pytest.fixture
async def traced(
    settings: Settings,
    issuer: DevelopmentTokenIssuer,
    token_verifier: TokenVerifier,
    witness: Witness,
) -> AsyncIterator[tuple[FastAPI, Callers]]:
    app = build_app(settings, token_verifier=token_verifier, tracer_provider=witness.tracer_provider)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://pathway") as client,
    ):
        yield app, Callers(client, issuer)


async def publish(settings: Settings, person: str) -> None:
    """What registration, screening, CVR and reinsertion publish about ``person``."""
    v = VALUES[person]
    pre = Events.pre_registered(person).model_copy(
        update={k: v[k] for k in ("full_name", "father_name", "mother_name", "birth_place", "commune")}
        | {"movement_ref": v["movement_ref"]}
    )
    registered = PersonRegistered(
        person_id=person, ddr_id=f"ML-{person[:8]}", biometric_hash=v["biometric_hash"]
    )
    screened = [
        *screening_detail(person, medical=v["medical"], vetting=v["vetting"], result="unfit"),
        AgeAssessed(
            person_id=person, decision_id=str(uuid.uuid4()), method="interview", youngest_age=24,
            document_issued_on=None, document_suspect=False, conclusion="adult", effect="adult_confirmed",
            note=v["age"],
        ),
        Events.screened(person),
    ]  # fmt: skip
    participant = f"x-{person[:8]}"
    enrolled = ParticipantEnrolled(
        participant_id=participant, project_id="cvr-p1", partner_id="ong-1", category="ex_combatant",
        sex="M", person_id=person, enrolled_on=date(2024, 2, 1), full_name=v["participant"],
        telephone=v["telephone"],
    )  # fmt: skip
    profile = CounsellingProfileRecorded(
        person_id=person, caseload="ex_combatant", skills=["maçonnerie"], literacy="basic",
        area_of_return=v["area_of_return"], dependants=3, counselled_on=date(2024, 3, 1),
    )  # fmt: skip
    assert isinstance(pre, PersonPreRegistered)
    for service, stream, events in (
        ("registration", person, [pre, registered]),
        ("screening", person, screened),
        ("cvr", participant, [enrolled]),
        ("reinsertion", person, [Events.enrolled(person, "2024-02-15"), profile]),
    ):
        async with UpstreamService(service, settings) as upstream:
            await upstream.emit(stream, *events)


async def scenario(
    app: FastAPI, callers: Callers, settings: Settings, wait: Callable[..., Awaitable[None]]
) -> dict[str, str]:
    """Both people's steps arrive; three roles read both paths; one person is erased, the paths read again."""
    for person in (ERASED, KEPT):
        await publish(settings, person)

    async def arrived() -> bool:
        paths = [await callers.auditor.get(f"/paths/{p}") for p in (ERASED, KEPT)]
        services = [
            {step["service"] for step in r.json()["steps"]} if r.status_code == 200 else set() for r in paths
        ]
        return all(s >= {"registration", "screening", "cvr", "reinsertion"} for s in services)

    await wait(arrived, "every step of both paths")
    answers: dict[str, str] = {}
    readers = {"officer": callers.officer, "auditor": callers.auditor, "protection": callers.child_protection}
    for name, reader in readers.items():
        for person in (ERASED, KEPT):
            answers[f"{name} on {person}"] = (await reader.get(f"/paths/{person}")).text
    async with UpstreamService("registration", settings) as registration:
        # As registration erases: the erasure recorded, the key shredded in the platform's key store.
        erasure = PersonalDataErased(
            person_id=ERASED, reason_code="protection_risk", authority="CNDDR-2026-007"
        )
        await registration.emit(ERASED, erasure)
        await app.state.runtime.keystore.erase(ERASED)

    async def erasure_noted() -> bool:
        steps = (await callers.auditor.get(f"/paths/{ERASED}")).json()["steps"]
        return any(step["type"].startswith("ddr.registration.PersonalDataErased") for step in steps)

    await wait(erasure_noted, "the erasure on the path")
    for name, reader in readers.items():
        answers[f"{name} on {ERASED} after the erasure"] = (await reader.get(f"/paths/{ERASED}")).text
    answers["reads"] = (await callers.auditor.get(f"/paths/{ERASED}/reads")).text
    return answers


async def test_pathway_keeps_the_steps_and_nothing_they_said_of_anyone(
    traced: tuple[FastAPI, Callers],
    settings: Settings,
    kafka_bootstrap_servers: str,
    witness: Witness,
    wait: Callable[..., Awaitable[None]],
) -> None:
    """Issue 14, findings 7, 8 and 11 for pathway: movement references and personal detail reached its steps;
    paths put in logs or spans."""
    app, callers = traced
    answers = await scenario(app, callers, settings, wait)
    runtime: ServiceRuntime = app.state.runtime
    await runtime.relay.drain()
    topics = [settings.events_topic("pathway")]

    sweep = CanarySweep([*VALUES[ERASED].values(), *VALUES[KEPT].values()])
    await sweep.service(
        runtime.engine, "pathway store", kafka_bootstrap_servers, topics, witness)  # fmt: skip
    for about, answer in answers.items():
        sweep.text(answer, f"answer of {about}")

    assert sweep.hits == [], sweep.report()
    assert {
        f"pathway store: table {table}" for table in ("events", "outbox", "idempotency_keys", "pw_g1_facts")
    } <= set(sweep.searched), sweep.searched
    assert any(where.startswith("Kafka segment") for where in sweep.searched)
