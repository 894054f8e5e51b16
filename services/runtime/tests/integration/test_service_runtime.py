"""A service assembled from the runtime, end to end over real Kafka and PostgreSQL: one trace from the
HTTP request through the relay's publish into the consumer's handling; a stale write is a 409; erased
subjects stay unreadable on Kafka while the store still verifies."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, Header
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.envelope import EventEnvelope
from ddr_contracts.topics import dead_letter_topic
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.store import Causation, NewEvent
from ddr_runtime.eventstore.verify import verify_store
from ddr_runtime.messaging.consumer import ReceivedEvent
from ddr_runtime.messaging.topics import TopicSpec, ensure_topics
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app
from ddr_testkit.samples import SAMPLES, SampleNoteAdded, SamplePersonListed
from ddr_testkit.topics import whole_topic

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))


@pytest.fixture
def issuer() -> DevelopmentTokenIssuer:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="test", audience="test")


@pytest.fixture
async def runtime(
    fresh_postgres_database: str, kafka_bootstrap_servers: str, tmp_path: Path
) -> ServiceRuntime:
    service = f"svc{uuid.uuid4().hex[:6]}"
    settings = Settings(
        service_name=service,
        database_url=fresh_postgres_database,
        var_dir=tmp_path,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
    )
    built = build_runtime(service, SAMPLES, settings, tracer_provider=provider)
    ensure_topics(
        kafka_bootstrap_servers,
        [TopicSpec(built.store.topic, 3, {}), TopicSpec(dead_letter_topic(built.store.topic), 1, {})],
    )
    return built


def sample_router(runtime: ServiceRuntime) -> APIRouter:
    router = APIRouter()

    @router.post("/people/{person_id}/notes", status_code=201)
    async def add_note(
        person_id: str,
        principal: Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER))],
        if_match: Annotated[int, Header()],
    ) -> dict[str, int]:
        stored = await runtime.store.append(
            f"person-{person_id}",
            if_match,
            [NewEvent(SampleNoteAdded(person_id=person_id, sequence=if_match + 1), person_id)],
            Causation(actor=principal.subject),
        )
        runtime.relay.notify()
        return {"version": stored[-1].envelope.streamversion}

    return router


async def test_one_trace_spans_request_relay_publish_and_consumer_handling(
    runtime: ServiceRuntime, issuer: DevelopmentTokenIssuer
) -> None:
    handled = asyncio.Event()

    async def on_note(_conn: AsyncConnection, _received: ReceivedEvent) -> None:
        handled.set()

    runtime.consume(runtime.store.topic, name=f"trace-{uuid.uuid4().hex[:6]}", handler=on_note)
    app = create_service_app(
        runtime,
        [sample_router(runtime)],
        token_verifier=TokenVerifier(issuer.public_key_pem, issuer="test", audience="test"),
    )
    token = issuer.issue(subject="officer-7", roles=[Role.CNDDR_OFFICER])
    exporter.clear()
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client,
    ):
        response = await client.post(
            "/people/p1/notes", headers={"Authorization": f"Bearer {token}", "If-Match": "0"}
        )
        assert response.status_code == 201, response.text
        await asyncio.wait_for(handled.wait(), timeout=60)

    spans = exporter.get_finished_spans()
    server = [s for s in spans if s.name.startswith("POST /people")]
    publish = [s for s in spans if s.name.startswith("publish ")]
    handle = [s for s in spans if s.name.startswith("handle ")]
    assert server, [s.name for s in spans]
    assert publish, [s.name for s in spans]
    assert handle, [s.name for s in spans]
    trace_ids = {s.context.trace_id for s in (server[0], publish[0], handle[0])}
    assert len(trace_ids) == 1
    assert handle[0].parent is not None
    assert handle[0].parent.span_id == publish[0].context.span_id


async def test_a_stale_if_match_gets_409_problem(
    runtime: ServiceRuntime, issuer: DevelopmentTokenIssuer
) -> None:
    app = create_service_app(
        runtime,
        [sample_router(runtime)],
        token_verifier=TokenVerifier(issuer.public_key_pem, issuer="test", audience="test"),
    )
    token = issuer.issue(subject="officer-7", roles=[Role.CNDDR_OFFICER])
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client,
    ):
        first = await client.post("/people/p1/notes", headers={**headers, "If-Match": "0"})
        stale = await client.post("/people/p1/notes", headers={**headers, "If-Match": "0"})
        wrong_role = await client.post(
            "/people/p1/notes",
            headers={
                "Authorization": f"Bearer {issuer.issue(subject='d', roles=[Role.DONOR])}",
                "If-Match": "1",
            },
        )
        anonymous = await client.post("/people/p1/notes", headers={"If-Match": "1"})

    assert first.status_code == 201
    assert stale.status_code == 409
    assert stale.headers["content-type"].startswith("application/problem+json")
    assert wrong_role.status_code == 403
    assert anonymous.status_code == 401


async def test_after_erasure_no_personal_field_can_be_read_from_kafka_and_verify_passes(
    runtime: ServiceRuntime, kafka_bootstrap_servers: str
) -> None:
    app = create_service_app(runtime, [])
    async with app.router.lifespan_context(app):
        for person, name in (("p1", "Mohamed Ag Intalla"), ("p2", "Fatoumata Maïga")):
            await runtime.store.append(
                f"person-{person}",
                0,
                [
                    NewEvent(
                        SamplePersonListed(
                            person_id=person, movement="MNLA", full_name=name, birth_year=1991
                        ),
                        person,
                    )
                ],
                Causation(actor="officer-1"),
            )
        await runtime.relay.drain()
        await runtime.keystore.erase("p1")

        records = whole_topic(kafka_bootstrap_servers, runtime.store.topic)
        assert len(records) == 2  # published once each: the running relay and the drain never both send
        assert all(b"Intalla" not in r.value and b"Ma\xc3\xafga" not in r.value for r in records)
        decoded = {
            e.envelope.subject: e.event
            for e in await runtime.store.decode([EventEnvelope.from_bytes(r.value) for r in records])
        }
        report = await verify_store(runtime.engine)

    erased, kept = decoded["p1"], decoded["p2"]
    assert isinstance(erased, SamplePersonListed)
    assert isinstance(kept, SamplePersonListed)
    assert (erased.full_name, erased.birth_year, erased.movement) == (None, None, "MNLA")
    assert kept.full_name == "Fatoumata Maïga"
    assert report.ok
    assert json.loads(records[0].value)["type"] == "ddr.sample.PersonListed.v1"
