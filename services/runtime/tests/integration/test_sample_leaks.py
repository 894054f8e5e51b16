"""The canary leak sweep of the test kit, proven on the runtime's sample app over real PostgreSQL and Kafka:
after a scenario with canary names and movement references (one person erased), no canary is in clear in
any table of the store or the key store, Kafka's log segments or records, the logs, the spans, the
idempotency rows or the exported bundle; and the sweep does find a canary wherever one is planted."""

from __future__ import annotations

import io
import tarfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from kafka import KafkaProducer
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy import Column, MetaData, String, Table, insert

from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.crypto.keystore import KeyStore
from ddr_runtime.db import create_engine
from ddr_runtime.messaging.topics import TopicSpec, ensure_topics
from ddr_runtime.service import ServiceRuntime
from ddr_testkit.leaks import CanarySweep, captured_logs, kafka_log_dirs
from ddr_testkit.sample_app import build_sample_app, sample_settings
from ddr_testkit.services import running

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

NAMES = ("Intalla Moussa Ag Canarý", "Fatoumata Canarine Maïga")
REFERENCES = ("MNLA-CANARY-00042", "GATIA-CANARY-00007")
NOTE = "canary tuberculosis positive"
CANARIES = (*NAMES, *REFERENCES, NOTE)


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def log_output() -> Iterator[io.StringIO]:
    with captured_logs("sample") as stream:
        yield stream


@pytest.fixture
async def sample(
    fresh_postgres_database: str,
    make_postgres_database: object,
    kafka_bootstrap_servers: str,
    namespace: str,
    tmp_path: Path,
    token_verifier: TokenVerifier,
    exporter: InMemorySpanExporter,
) -> AsyncIterator[tuple[httpx.AsyncClient, ServiceRuntime]]:
    keys_url = await make_postgres_database()  # type: ignore[operator]
    settings = sample_settings(
        fresh_postgres_database, kafka_bootstrap_servers, namespace, tmp_path, keystore_url=keys_url
    )
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = build_sample_app(settings, token_verifier=token_verifier, tracer_provider=provider)
    async with (
        running(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sample") as client,
    ):
        yield client, app.state.sample


def bearer(issuer: DevelopmentTokenIssuer, role: Role, **claims: object) -> dict[str, str]:
    return {"Authorization": "Bearer " + issuer.issue(subject=f"{role}-1", roles=[role], **claims)}  # type: ignore[arg-type]


async def scenario(client: httpx.AsyncClient, issuer: DevelopmentTokenIssuer) -> bytes:
    """List two people, search one by name in a query string, add a medical note, erase the first, export."""
    officer = bearer(issuer, Role.CNDDR_OFFICER)
    for number, (name, reference) in enumerate(zip(NAMES, REFERENCES, strict=True)):
        body = {
            "person_id": f"p{number}",
            "movement": reference.split("-")[0],
            "region": "Gao",
            "full_name": name,
            "birth_year": 1990,
            "movement_ref": reference,
        }
        listed = await client.post(
            "/people", json=body, headers={**officer, "Idempotency-Key": f"list-{number}"}
        )
        replayed = await client.post(
            "/people", json=body, headers={**officer, "Idempotency-Key": f"list-{number}"}
        )
        assert (listed.status_code, replayed.headers.get("Idempotent-Replayed")) == (201, "true"), listed.text
    found = await client.get("/people", params={"name": NAMES[1]}, headers=officer)
    assert found.json() == {"people": ["p1"]}
    examiner = bearer(issuer, Role.EXAMINER)
    noted = await client.post(
        "/people/p1/medical-notes", json={"note": NOTE}, headers={**examiner, "Idempotency-Key": "note-1"}
    )
    assert noted.status_code == 201, noted.text
    assert (await client.post("/people/p0/erasure", headers=officer)).status_code == 204
    exported = await client.get("/export", headers=bearer(issuer, Role.AUDITOR))
    assert exported.status_code == 200
    return exported.content


async def test_no_canary_is_left_in_clear_anywhere_after_the_scenario(
    sample: tuple[httpx.AsyncClient, ServiceRuntime],
    issuer: DevelopmentTokenIssuer,
    kafka_bootstrap_servers: str,
    exporter: InMemorySpanExporter,
    log_output: io.StringIO,
) -> None:
    client, runtime = sample
    bundle = await scenario(client, issuer)
    await runtime.relay.drain()
    topics = [runtime.store.topic]
    sweep = CanarySweep(CANARIES)

    await sweep.database(runtime.engine, "sample store")
    assert isinstance(runtime.keystore, KeyStore)
    await sweep.database(runtime.keystore.engine, "key store")
    sweep.kafka_log_segments(kafka_log_dirs(kafka_bootstrap_servers, topics), topics)
    sweep.kafka_topics(kafka_bootstrap_servers, topics)
    sweep.text(log_output.getvalue(), "logs")
    sweep.spans(exporter.get_finished_spans())
    sweep.blob(bundle, "exported bundle")

    assert sweep.hits == [], sweep.report()
    assert {
        "sample store: table idempotency_keys",
        "sample store: table events",
        "sample store: table sample_people",
    } <= set(sweep.searched), sweep.searched
    assert any(where.startswith("Kafka segment") for where in sweep.searched)
    assert any(span.name.startswith("GET /people") for span in exporter.get_finished_spans())


async def test_the_sweep_finds_a_canary_wherever_it_is_planted(
    fresh_postgres_database: str, kafka_bootstrap_servers: str, namespace: str, tmp_path: Path
) -> None:
    engine = create_engine(fresh_postgres_database)
    notes = Table(
        "notes", MetaData(), Column("id", String(10), primary_key=True), Column("text", String(200))
    )
    async with engine.begin() as conn:
        await conn.run_sync(notes.metadata.create_all)
        await conn.execute(insert(notes).values(id="n1", text=f"seen {NAMES[0].upper()}"))
    topic = f"{namespace}planted"
    ensure_topics(kafka_bootstrap_servers, [TopicSpec(topic, 1, {})])
    producer = KafkaProducer(bootstrap_servers=kafka_bootstrap_servers)
    producer.send(topic, value=f'{{"ref": "{REFERENCES[0]}"}}'.encode())
    producer.flush()
    producer.close()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        data = NAMES[1].encode("utf-8")
        member = tarfile.TarInfo("people.jsonl")
        member.size = len(data)
        tar.addfile(member, io.BytesIO(data))
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    with provider.get_tracer("t").start_as_current_span("GET /persons") as span:
        span.set_attribute("http.target", "/persons?name=Fatoumata%20Canarine%20Ma%C3%AFga")
        span.set_attribute("note", NOTE)
    sweep = CanarySweep(CANARIES)

    await sweep.database(engine, "store")
    sweep.kafka_log_segments(kafka_log_dirs(kafka_bootstrap_servers, [topic]), [topic])
    sweep.kafka_topics(kafka_bootstrap_servers, [topic])
    sweep.text('{"message": "matched Intalla Moussa Ag Canarý"}', "logs")
    sweep.spans(exporter.get_finished_spans())
    sweep.blob(archive.getvalue(), "bundle.tar.gz")
    await engine.dispose()

    assert sorted(map(str, sweep.hits)) == sorted(
        [
            f"{NAMES[0]!r} in store: table notes, row 0, column text",
            f"{REFERENCES[0]!r} in Kafka segment {topic}-0/00000000000000000000.log",
            f"{REFERENCES[0]!r} in Kafka {topic}[0]@0",
            f"{NAMES[0]!r} in logs",
            f"{NOTE!r} in span 'GET /persons'",
            f"{NAMES[1]!r} in span 'GET /persons'",
            f"{NAMES[1]!r} in bundle.tar.gz: people.jsonl",
        ]
    )
