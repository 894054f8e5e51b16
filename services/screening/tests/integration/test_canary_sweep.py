"""Issue 14's canary leak sweep for screening: three people come in from registration over Kafka with canary
names, fathers, mothers, birth places, movement references and biometric hashes; examiners, vetting officers,
screening officers and child protection record canary medical detail, vetting, membership and appeal reasons,
a re-examination reason and a child's handover and age notes; two people are erased. Then every table of
the store (the idempotency rows included), screening's Kafka topic (records and log segments), the logs, the
spans and what the API answers about the erased hold none of the erased people's values in clear, and nothing
of anybody's personal values is in clear anywhere."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from ddr_contracts.registration import PersonalDataErased
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.service import ServiceRuntime
from ddr_screening.bootstrap import ScreeningConfig, build_app
from ddr_testkit.leaks import CanarySweep, Witness, witness_fixture
from ddr_testkit.services import service_client
from ddr_testkit.upstream import UpstreamService

from .conftest import Env
from .support import case_of, register

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ADULT, KEPT, CHILD = (str(uuid.uuid4()) for _ in range(3))


def person_canaries(tag: str) -> dict[str, str]:
    """What registration's events say of a person in their personal fields, each value a canary."""
    return {
        "full_name": f"Intalla Ag Canary{tag}",
        "full_name_arabic": f"إنتالا كناري{tag}",
        "father_name": f"Attaher Ag Canarillo{tag}",
        "mother_name": f"Fadimata Walet Canarina{tag}",
        "birth_place": f"Canaryville-{tag}",
        "commune": f"Canarycommune-{tag}",
        "movement_ref": f"MNLA-CANARY-{tag}",
    }


IDENTITY = {ADULT: person_canaries("Adult"), KEPT: person_canaries("Kept"), CHILD: person_canaries("Child")}
DETAIL = {
    ADULT: {
        "exam": "tuberculose CANARY-TB-ADULT",
        "re_exam": "radio CANARY-XRAY-ADULT",
        "vetting": "temoin CANARY-WITNESS-ADULT",
        "membership": "carte CANARY-CARD-ADULT",
        "appeal": "recours CANARY-APPEAL-ADULT",
        "appeal_decision": "revu CANARY-REVIEW-ADULT",
    },
    KEPT: {
        "exam": "diabete CANARY-DIAB-KEPT",
        "vetting": "temoin CANARY-WITNESS-KEPT",
    },
    CHILD: {"handover": "tante CANARY-AUNT-CHILD", "age": "dentition CANARY-TEETH-CHILD"},
}
ERASED = (ADULT, CHILD)
ALLEGATIONS = {ADULT: "HR-CANARY-ADULT", KEPT: "HR-CANARY-KEPT"}


def canaries_of(*people: str) -> list[str]:
    return [v for p in people for v in (*IDENTITY[p].values(), *DETAIL[p].values())]


witness = witness_fixture("screening")


@pytest.fixture
async def traced(
    settings: Settings,
    issuer: DevelopmentTokenIssuer,
    token_verifier: TokenVerifier,
    witness: Witness,
) -> AsyncIterator[Env]:
    app = build_app(
        settings,
        token_verifier=token_verifier,
        tracer_provider=witness.tracer_provider,
        config=ScreeningConfig(overdue_check_seconds=1.0),
    )
    async with (
        service_client(app, "http://screening") as client,
        UpstreamService("registration", settings) as registration,
    ):
        yield Env(app, settings, registration, client, issuer)


async def arrive(env: Env, person: str, **facts: Any) -> None:
    identity: dict[str, Any] = dict(IDENTITY[person])
    await register(env.registration, person, **identity, **facts)


async def scenario(env: Env) -> dict[str, Any]:
    """Two adults and a child arrive; each role records its detail under an Idempotency-Key; the adult's
    medical result is appealed; then the adult and the child are erased. What the API answers afterwards."""
    examiner = env.as_role(Role.EXAMINER)
    officer = env.as_role(Role.SCREENING_OFFICER)
    vetting = env.as_role(Role.VETTING_OFFICER)
    protection = env.as_role(Role.CHILD_PROTECTION)
    auditor = env.as_role(Role.AUDITOR)
    listed = await vetting.post(
        "/vetting-lists",
        {
            "source_ref": "HRDDP-2024-7",
            "entries": [
                {"person_id": person, "allegation_ref": reference, "status": "alleged"}
                for person, reference in ALLEGATIONS.items()
            ],
        },
    )
    assert listed.status_code == 201, listed.text
    await arrive(env, ADULT, birth_kind="exact", birth_year=1985, birth_date=date(1985, 3, 14))
    await arrive(env, KEPT)
    born = datetime.now(UTC).date() - timedelta(days=16 * 365)
    await arrive(env, CHILD, birth_kind="exact", birth_year=born.year, birth_date=born, category="child")
    for person in (ADULT, KEPT):
        await case_of(officer, person)
    await case_of(protection, CHILD)

    def key(name: str) -> dict[str, str]:
        return {"Idempotency-Key": name}

    exam = await examiner.ok(
        f"/cases/{ADULT}/examinations",
        {"result": "unfit", "details": DETAIL[ADULT]["exam"]},
        201,
        **key("x1"),
    )
    await examiner.ok(
        f"/cases/{KEPT}/examinations", {"result": "fit", "details": DETAIL[KEPT]["exam"]}, 201, **key("x2")
    )
    await officer.ok(
        f"/cases/{ADULT}/re-examination-requests", {"reason": DETAIL[ADULT]["re_exam"]}, 201, **key("r1")
    )
    for person in (ADULT, KEPT):
        decision = {"status": "cleared", "reason_code": "no_record", "reason": DETAIL[person]["vetting"]}
        await vetting.ok(f"/cases/{person}/vetting-decisions", decision, 201, **key(f"v-{person}"))
    membership = {"verified": True, "reason_code": "card_seen", "reason": DETAIL[ADULT]["membership"]}
    await officer.ok(f"/cases/{ADULT}/membership-decisions", membership, 201, **key("m1"))
    appeal = await officer.ok(
        f"/cases/{ADULT}/appeals",
        {"decision_id": exam["decision_id"], "reason": DETAIL[ADULT]["appeal"]},
        201,
        **key("a1"),
    )
    await officer.ok(
        f"/cases/{ADULT}/appeals/{appeal['appeal_id']}/decision",
        {"overturned": False, "reason": DETAIL[ADULT]["appeal_decision"]},
        201,
        **key("a2"),
    )
    await protection.ok(
        f"/cases/{CHILD}/age-assessments",
        {"method": "interview", "youngest_age": 15, "note": DETAIL[CHILD]["age"]},
        201,
        **key("g1"),
    )
    await protection.ok(
        f"/cases/{CHILD}/handover",
        {"receiving_actor": "UNICEF Kidal", "note": DETAIL[CHILD]["handover"]},
        201,
        **key("h1"),
    )
    answers: dict[str, Any] = {}
    for person in ERASED:
        # As registration erases: the erasure recorded, the key shredded in the platform's one key store.
        erased = PersonalDataErased(
            person_id=person, reason_code="protection_risk", authority="CNDDR-2026-007"
        )
        await env.registration.emit(person, erased)
        await env.app.state.runtime.keystore.erase(person)
        answers[person] = (await auditor.get(f"/cases/{person}")).text
    answers["replay"] = (
        await examiner.post(
            f"/cases/{ADULT}/examinations",
            {"result": "unfit", "details": DETAIL[ADULT]["exam"]},
            **key("x1"),
        )
    ).text
    return answers


async def test_no_erased_persons_value_and_nobodys_personal_value_is_left_in_clear(
    traced: Env,
    kafka_bootstrap_servers: str,
    witness: Witness,
) -> None:
    """Issue 14, findings 2, 7 and 8 for screening: medical, vetting and child protection detail sealed per
    person and gone with them, idempotent answers keeping none of it, and nothing of it in logs or spans."""
    answers = await scenario(traced)
    runtime: ServiceRuntime = traced.app.state.runtime
    await runtime.relay.drain()
    topics = [traced.topic]

    erased = CanarySweep(canaries_of(*ERASED))
    await erased.service(runtime.engine, "screening store", kafka_bootstrap_servers, topics, witness)
    for about, text in answers.items():
        erased.text(text, f"answer about {about} after the erasure")
    kept = CanarySweep(canaries_of(KEPT))
    await kept.service(runtime.engine, "screening store", kafka_bootstrap_servers, topics, witness)
    allegations = CanarySweep(ALLEGATIONS.values())
    await allegations.service(runtime.engine, "screening store", kafka_bootstrap_servers, topics, witness)
    allegations.text(answers[ADULT], "answer about the erased adult")

    assert erased.hits == [], erased.report()
    assert kept.hits == [], kept.report()
    assert {
        f"screening store: table {table}" for table in ("events", "outbox", "idempotency_keys", "scr_cases")
    } <= set(erased.searched), erased.searched
    assert any(where.startswith("Kafka segment") for where in erased.searched)
    # Issue 14: VettingDecided v1 kept allegation_ref in clear and scr_vetting_entries kept the list's
    # person -> allegation rows in clear (the list itself sealed); v2 seals it under the person's key and the
    # entries keep only their place in the sealed list.
    assert allegations.hits == [], allegations.report()
    assert "screening store: table scr_vetting_entries" in allegations.searched, allegations.searched
