"""Issue 14's canary leak sweep for reinsertion: screening publishes two people's outcomes beside canary
medical and vetting detail; both are enrolled (one alone, one in a batch) with canary areas of return, trained,
visited and paid, their profiles read; one is erased. Then every table of reinsertion's store (the idempotency
rows included), its topic (records and log segments), the logs, the spans and the profile read again hold
none of the erased person's values in clear, and nobody's area of return or screening detail is in clear."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from ddr_contracts.registration import PersonalDataErased
from ddr_reinsertion.bootstrap import build_app
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.leaks import CanarySweep, Witness, screening_detail, witness_fixture
from ddr_testkit.services import service_client
from ddr_testkit.upstream import UpstreamService

from .conftest import (
    SCREENED_AT,
    Caller,
    Service,
    enrolment,
    outcome,
    payment,
    setup_catalogue_and_line,
    wait_for_stage,
)

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ERASED, KEPT = (f"P-{uuid.uuid4().hex[:10]}" for _ in range(2))
VALUES = {
    person: {
        "area_of_return": f"Gao, quartier Canary{tag}",
        "medical": f"tuberculose CANARY-TB-{tag}",
        "vetting": f"temoin CANARY-WITNESS-{tag}",
    }
    for person, tag in ((ERASED, "Erased"), (KEPT, "Kept"))
}


witness = witness_fixture("reinsertion")


@pytest.fixture
async def traced(
    settings: Settings,
    token_verifier: TokenVerifier,
    issuer: DevelopmentTokenIssuer,
    witness: Witness,
) -> AsyncIterator[Service]:
    app = build_app(settings, token_verifier=token_verifier, tracer_provider=witness.tracer_provider)
    async with service_client(app, "http://reinsertion") as client:

        def caller(*roles: Role) -> Caller:
            return Caller(client, issuer.issue(subject=f"{roles[0]}-1", roles=list(roles)))

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


async def scenario(service: Service) -> dict[str, str]:
    await setup_catalogue_and_line(service)
    async with UpstreamService("screening", service.settings) as screening:
        for person, v in VALUES.items():
            detail = [*screening_detail(person, medical=v["medical"], vetting=v["vetting"]), outcome(person)]
            await screening.emit(person, *detail, occurred_at=SCREENED_AT)
        for person in VALUES:
            await wait_for_stage(service, person, "waiting")
        officer, finance = service.officer, service.finance
        await officer.ok(
            f"/beneficiaries/{ERASED}/enrolment",
            enrolment(area_of_return=VALUES[ERASED]["area_of_return"]),
            201,
            Idempotency_Key="enrol-1",
        )
        batch = [{"person_id": KEPT, **enrolment(area_of_return=VALUES[KEPT]["area_of_return"])}]
        await officer.ok("/enrolments", {"enrolments": batch}, Idempotency_Key="enrol-2")
        for person in VALUES:
            await finance.ok("/disbursements", payment(person), 201, Idempotency_Key=f"pay-{person}")
            training = {"provider": "Centre de formation de Gao", "attended_on": "2020-03-10"}
            await officer.ok(f"/beneficiaries/{person}/training", training, 204)
        answers = {"before": (await officer.get(f"/beneficiaries/{ERASED}/profile")).text}
        assert VALUES[ERASED]["area_of_return"] in answers["before"]  # the sweep looks where it was shown
        async with UpstreamService("registration", service.settings) as registration:
            erasure = PersonalDataErased(
                person_id=ERASED, reason_code="protection_risk", authority="CNDDR-2026-007"
            )
            await registration.emit(
                ERASED, erasure
            )  # as registration erases: recorded, then the key shredded
            await service.app.state.runtime.keystore.erase(ERASED)
    for who, reader in (("officer", officer), ("auditor", service.auditor)):
        for path in (f"/beneficiaries/{ERASED}/profile", f"/beneficiaries/{ERASED}", "/beneficiaries"):
            answers[f"{who} {path}"] = (await reader.get(path)).text
    return answers


async def test_no_erased_persons_value_and_nobodys_area_of_return_or_screening_detail_is_left_in_clear(
    traced: Service,
    kafka_bootstrap_servers: str,
    witness: Witness,
) -> None:
    """Issue 14, findings 2, 7 and 8 for reinsertion: the area of return sealed per person and gone with
    them, answers kept for replay, screening's detail copied, personal values in logs or spans."""
    answers = await scenario(traced)
    runtime: ServiceRuntime = traced.app.state.runtime
    await runtime.relay.drain()
    topics = [traced.settings.events_topic("reinsertion")]

    erased = CanarySweep(VALUES[ERASED].values())
    await erased.service(runtime.engine, "reinsertion store", kafka_bootstrap_servers, topics, witness)
    for about, answer in answers.items():
        if about != "before":
            erased.text(answer, f"answer to the {about} after the erasure")
    kept = CanarySweep(VALUES[KEPT].values())
    await kept.service(runtime.engine, "reinsertion store", kafka_bootstrap_servers, topics, witness)

    assert erased.hits == [], erased.report()
    assert kept.hits == [], kept.report()
    assert {f"reinsertion store: table {t}" for t in ("events", "outbox", "idempotency_keys")} <= set(
        erased.searched
    ), erased.searched
    assert any(where.startswith("Kafka segment") for where in erased.searched)
