"""Issue 14's canary leak sweep for registration: people with canary names, fathers, movement references and
declared serials are listed by two movements, merged, corrected and erased; then every table of the store
(the read model, the events, the outbox, the idempotency rows), the service's Kafka topic (records and log
segments), the logs and the spans hold none of the erased person's values in clear, and the events and
Kafka hold nobody's name, reference or serial in clear."""

from __future__ import annotations

import io
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from ddr_registration.adapters.tables import READ_MODEL
from ddr_registration.bootstrap import build_app
from ddr_registration.domain.members import BirthDate, Category, Sex, WeaponHandedOver
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.leaks import CanarySweep, captured_logs, kafka_log_dirs
from ddr_testkit.services import Api, caller_of, running

from .support import list_file, member, movement, upload

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

ERASED = {
    "name": "Intalla Moussa Ag Canarý",
    "corrected": "Moussa Intalla Ag Canarine",
    "father": "Attaher Ag Canarillo",
    "mnla_ref": "MNLA-CANARY-00042",
    "gatia_ref": "GATIA-CANARY-00007",
    "serial": "SN-CANARY-4242",
}
KEPT = {"name": "Fatoumata Canarette Maïga", "ref": "MNLA-CANARY-00043", "serial": "SN-CANARY-4343"}


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    with captured_logs("registration") as stream:
        yield stream


@pytest.fixture
async def traced(
    settings: Settings, token_verifier: TokenVerifier, exporter: InMemorySpanExporter
) -> AsyncIterator[FastAPI]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    built = build_app(
        settings, token_verifier=token_verifier, biometric_key=os.urandom(32), tracer_provider=provider
    )
    async with running(built):
        yield built


def weapon(serial: str) -> tuple[WeaponHandedOver, ...]:
    return (WeaponHandedOver(kind="AK-47", calibre="7.62x39", serial=serial, condition="bon"),)


async def scenario(officer: Api, tmp_path: Path) -> None:
    """The same man listed by the MNLA and the GATIA (one serial declared on both lists), merged, corrected
    under an idempotency key, then erased; a woman listed beside him stays."""
    await movement(officer, "MNLA")
    await movement(officer, "GATIA")
    same = {"birth": BirthDate.year_only(1981), "commune": "Anefis", "father_name": ERASED["father"]}
    mnla = [
        member(ERASED["mnla_ref"], ERASED["name"], weapons=weapon(ERASED["serial"]), **same),
        member(
            KEPT["ref"], KEPT["name"], sex=Sex.F, category=Category.COMBATANT, weapons=weapon(KEPT["serial"])
        ),
    ]
    assert (await upload(officer, list_file(tmp_path, mnla), "MNLA")).status_code == 201
    gatia = [member(ERASED["gatia_ref"], ERASED["name"], weapons=weapon(ERASED["serial"]), **same)]
    listed = await upload(officer, list_file(tmp_path, gatia), "GATIA")
    assert listed.json()["duplicates_suspected"] == 1, listed.text
    (case,) = (await officer.get("/duplicates")).json()
    survivor = case["person_id"] if case["movement"] == "MNLA" else case["other_person_id"]
    merged = await officer.post(
        f"/duplicates/{case['case_id']}/resolution",
        {"outcome": "merged", "surviving_person_id": survivor},
        **{"If-Match": f'"{case["version"]}"', "Idempotency-Key": "merge-1"},
    )
    assert merged.status_code == 200, merged.text
    person = (await officer.get(f"/persons/{survivor}")).json()
    corrected = await officer.post(
        f"/persons/{survivor}/corrections",
        {"full_name": ERASED["corrected"], "reason": "ID card"},
        **{"If-Match": f'"{person["version"]}"', "Idempotency-Key": "correct-1"},
    )
    assert corrected.status_code == 200, corrected.text
    assert (await officer.get(f"/persons/{survivor}/history")).status_code == 200
    erased = await officer.post(
        f"/persons/{survivor}/erasure",
        {"reason_code": "protection_risk", "authority": "CNDDR-2025-7"},
        **{"If-Match": corrected.headers["ETag"], "Idempotency-Key": "erase-1"},
    )
    assert erased.status_code == 200, erased.text


async def test_no_erased_persons_value_and_nobodys_name_reference_or_serial_is_left_in_clear(
    traced: FastAPI,
    issuer: DevelopmentTokenIssuer,
    kafka_bootstrap_servers: str,
    exporter: InMemorySpanExporter,
    log_output: io.StringIO,
    tmp_path: Path,
) -> None:
    """Issue 14, findings 1, 2 and 7: names in duplicate reasons, decrypted answers kept for replay, movement
    references and declared serials in clear in PersonPreRegistered and ListRowsChecked (on Kafka for ever),
    reg_list_rows.movement_ref never cleared, merged records left out of an erasure."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=traced), base_url="http://registration"
    ) as client:
        officer = caller_of(client, issuer)(Role.CNDDR_OFFICER, subject="cnddr-officer-1")
        await scenario(officer, tmp_path)
    runtime: ServiceRuntime = traced.state.runtime
    await runtime.relay.drain()
    topics = [runtime.store.topic]

    erased = CanarySweep(ERASED.values())
    await erased.database(runtime.engine, "registration store")
    erased.kafka_topics(kafka_bootstrap_servers, topics)
    erased.kafka_log_segments(kafka_log_dirs(kafka_bootstrap_servers, topics), topics)
    erased.text(log_output.getvalue(), "logs")
    erased.spans(exporter.get_finished_spans())
    kept = CanarySweep(KEPT.values())
    # Issue 14, items 3 and 4: the read model holds nobody's reference or serial in clear either.
    read_model = [table.name for table in READ_MODEL]
    await kept.database(
        runtime.engine, "registration store", ["events", "outbox", "idempotency_keys", *read_model]
    )
    kept.kafka_topics(kafka_bootstrap_servers, topics)

    assert erased.hits == [], erased.report()
    assert kept.hits == [], kept.report()
    assert {
        f"registration store: table {table}"
        for table in ("events", "idempotency_keys", "reg_persons", "reg_list_rows", "reg_declared_serials")
    } <= set(erased.searched), erased.searched
    assert any(where.startswith("Kafka segment") for where in erased.searched)
