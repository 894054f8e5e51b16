"""Issue 14's canary leak sweep for CVR: registration publishes two ex-combatants with canary names, fathers
and movement references; a partner enrols them and a community member in a project with canary names and
telephones, and withdraws the community member for a canary reason; the CNDDR reads the list; registration
merges a third record into one ex-combatant and erases him. Then every table of CVR's store (the idempotency
rows included), its topic (records and log segments), the logs, the spans and the list read again hold none
of the erased man's values in clear, and nobody's name, telephone, reference or reason is in clear anywhere."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from fastapi import FastAPI

from ddr_contracts.registration import PersonalDataErased, PersonMergedInto
from ddr_cvr.bootstrap import build_app
from ddr_cvr.domain.participants import participant_stream
from ddr_cvr.domain.persons import registered_person_stream
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.unit import UnitOfWork
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.leaks import CanarySweep, Witness, witness_fixture
from ddr_testkit.services import Api, Caller, running
from ddr_testkit.upstream import UpstreamService

from .support import eventually, ngo, pre_registered, proposal

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ERASED, ABSORBED, KEPT = (f"p-{uuid.uuid4().hex[:12]}" for _ in range(3))
IDENTITY = {
    person: {
        "full_name": f"Intalla Ag Canary{tag}",
        "father_name": f"Attaher Ag Canarillo{tag}",
        "movement_ref": f"CMA-CANARY-{tag}",
    }
    for person, tag in ((ERASED, "Erased"), (ABSORBED, "Absorbed"), (KEPT, "Kept"))
}
LINKED = {"x-erased": ERASED, "x-absorbed": ABSORBED, "x-kept": KEPT, "x-community": None}
CONTACT = {
    "x-erased": {"full_name": "Moussa Canaryerased", "telephone": "+22376111111"},
    "x-absorbed": {"full_name": "Moussa Canaryabsorbed", "telephone": "+22376222222"},
    "x-kept": {"full_name": "Ibrahim Canarykept", "telephone": "+22376333333"},
    "x-community": {"full_name": "Aminata Canarycommunity", "telephone": "+22376444444"},
}
WITHDRAWAL = "menacée par CANARY-THREAT"


def canaries(people: tuple[str, ...], participants: tuple[str, ...]) -> list[str]:
    return [v for p in people for v in IDENTITY[p].values()] + [
        v for p in participants for v in CONTACT[p].values()
    ]


ERASED_CANARIES = canaries((ERASED, ABSORBED), ("x-erased", "x-absorbed"))
KEPT_CANARIES = [*canaries((KEPT,), ("x-kept", "x-community")), WITHDRAWAL]


witness = witness_fixture("cvr")


@pytest.fixture
async def app(
    settings: Settings,
    token_verifier: TokenVerifier,
    witness: Witness,
) -> AsyncIterator[FastAPI]:
    """The CVR app of this module: its spans recorded, its logs captured from the start."""
    async with running(
        build_app(settings, token_verifier=token_verifier, tracer_provider=witness.tracer_provider)
    ) as served:
        yield served


def enrolment(participant_id: str) -> dict[str, Any]:
    person = LINKED[participant_id]
    linked = (
        {"category": "community"} if person is None else {"category": "ex_combatant", "person_id": person}
    )
    common = {"sex": "M", "enrolled_on": "2022-01-15", "participant_id": participant_id}
    return common | linked | CONTACT[participant_id]


async def noted(unit: UnitOfWork, people: list[str], event_type: str) -> bool:
    streams = await unit.store.read_streams([registered_person_stream(p) for p in people])
    return all(any(e.envelope.type.startswith(event_type) for e in s) for s in streams.values())


async def scenario(officer: Api, historian: Caller, settings: Settings, unit: UnitOfWork) -> dict[str, str]:
    await ngo(officer, "ong-c")
    partner = historian(Role.CVR_PARTNER, partner="ong-c")
    project = (await partner.ok("/projects", proposal(), 201, Idempotency_Key="project-1"))["project_id"]
    async with UpstreamService("registration", settings) as registration:
        for person in (ERASED, ABSORBED, KEPT):
            pre = pre_registered(person).model_copy(update=IDENTITY[person])
            await registration.emit(person, pre)
        assert await eventually(lambda: noted(unit, [ERASED, ABSORBED, KEPT], "ddr.cvr.PersonRegistration"))
        batch = {"participants": [enrolment(p) for p in LINKED]}
        enrolled = await partner.ok(f"/projects/{project}/participants", batch, Idempotency_Key="enrol-1")
        assert enrolled["recorded"] == 4, enrolled
        withdrawal = {"withdrawn_on": "2022-03-01", "reason": WITHDRAWAL}
        await partner.ok("/participants/x-community/withdrawal", withdrawal, Idempotency_Key="withdraw-1")
        answers = {"before": (await officer.get(f"/projects/{project}/participants")).text}
        merged = PersonMergedInto(person_id=ABSORBED, into_person_id=ERASED, case_id="case-1")
        await registration.emit(ABSORBED, merged)
        assert await eventually(lambda: noted(unit, [ABSORBED], "ddr.cvr.PersonMergeNoted"))
        erasure = PersonalDataErased(
            person_id=ERASED, reason_code="protection_risk", authority="CNDDR-2026-007"
        )
        await registration.emit(ERASED, erasure)  # as registration erases: recorded, then the key shredded
        await unit.store.cipher.keystore.erase(ERASED)

    async def erased() -> bool:
        streams = await unit.store.read_streams(
            [participant_stream("x-erased"), participant_stream("x-absorbed")]
        )
        return all(
            any(e.envelope.type.startswith("ddr.cvr.ParticipantDataErased") for e in s)
            for s in streams.values()
        )

    assert await eventually(erased), "the erasure never reached CVR's participants"
    answers["after"] = (await officer.get(f"/projects/{project}/participants")).text
    answers["partner after"] = (await partner.get(f"/projects/{project}/participants")).text
    return answers


async def test_no_erased_persons_value_and_nobodys_name_telephone_or_reason_is_left_in_clear(
    app: FastAPI,
    officer: Api,
    historian: Caller,
    settings: Settings,
    unit: UnitOfWork,
    kafka_bootstrap_servers: str,
    witness: Witness,
) -> None:
    """Issue 14, findings 2, 7 and 8 for CVR: participants sealed under their own key and left after an
    erasure, the withdrawal reason in clear, answers kept for replay, personal values in logs or spans."""
    answers = await scenario(officer, historian, settings, unit)
    runtime: ServiceRuntime = app.state.runtime
    await runtime.relay.drain()
    topics = [settings.events_topic("cvr")]

    erased = CanarySweep(ERASED_CANARIES)
    await erased.service(runtime.engine, "cvr store", kafka_bootstrap_servers, topics, witness)
    for about in ("after", "partner after"):
        erased.text(answers[about], f"the list {about} the erasure")
    kept = CanarySweep(KEPT_CANARIES)
    await kept.service(runtime.engine, "cvr store", kafka_bootstrap_servers, topics, witness)

    assert erased.hits == [], erased.report()
    assert kept.hits == [], kept.report()
    assert "Ibrahim Canarykept" in answers["after"]  # the sweep looks where the names were shown
    assert {f"cvr store: table {table}" for table in ("events", "outbox", "idempotency_keys")} <= set(
        erased.searched
    ), erased.searched
    assert any(where.startswith("Kafka segment") for where in erased.searched)
