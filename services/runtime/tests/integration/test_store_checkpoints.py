"""Each service signs its own store's checkpoint and publishes it on the checkpoints topic, over real Kafka and
each database backend: on demand through its API, periodically, incrementally (no re-read of what an earlier
checkpoint covered), and chained one checkpoint to the next."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, select, update
from typer.testing import CliRunner

from ddr_contracts.audit import StoreCheckpointSigned, checkpoint_subject
from ddr_contracts.envelope import EventEnvelope, chain_hash
from ddr_contracts.wire import HASH_HEADER
from ddr_runtime.audit.checkpoints import checkpoints
from ddr_runtime.audit.commitment import event_leaf
from ddr_runtime.audit.merkle import root_of
from ddr_runtime.audit.signing import CheckpointBody, SignedCheckpoint, TreeHead
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.cli.audit import audit_app
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.schema import events
from ddr_runtime.eventstore.store import Causation, NewEvent
from ddr_runtime.messaging.topics import TopicSpec, ensure_topics
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app
from ddr_runtime.stack.native import free_ports
from ddr_testkit.samples import SAMPLES, SampleNoteAdded
from ddr_testkit.topics import whole_topic
from ddr_testkit.upstream import create_namespace_topics, new_namespace

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]


@pytest.fixture
def issuer() -> DevelopmentTokenIssuer:
    return DevelopmentTokenIssuer(Ed25519PrivateKey.generate(), issuer="test", audience="test")


def runtime_of(store_url: str, bootstrap: str, tmp_path: Path, every: float) -> ServiceRuntime:
    namespace = new_namespace()
    create_namespace_topics(bootstrap, namespace)
    settings = Settings(
        service_name="sample",
        database_url=store_url,
        var_dir=tmp_path,
        kafka_bootstrap_servers=bootstrap,
        topic_namespace=namespace,
        audit_checkpoint_seconds=every,
    )
    runtime = build_runtime("sample", SAMPLES, settings)
    ensure_topics(bootstrap, [TopicSpec(runtime.store.topic, 3, {})])
    return runtime


@pytest.fixture
async def client(
    store_url: str, kafka_bootstrap_servers: str, tmp_path: Path, issuer: DevelopmentTokenIssuer
) -> AsyncIterator[tuple[ServiceRuntime, httpx.AsyncClient]]:
    runtime = runtime_of(store_url, kafka_bootstrap_servers, tmp_path, every=0)
    app = create_service_app(
        runtime, token_verifier=TokenVerifier(issuer.public_key_pem, issuer="test", audience="test")
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://sample") as c,
    ):
        yield runtime, c


async def append_notes(runtime: ServiceRuntime, count: int) -> None:
    """Append ``count`` events, and return once the store's global order reads them all: on PostgreSQL it
    reads below the oldest transaction running on the server, which another session may hold back a while."""
    for n in range(count):
        person = f"p{uuid.uuid4().hex[:6]}"
        await runtime.store.append(
            person, 0, [NewEvent(SampleNoteAdded(person_id=person, sequence=n), person)], Causation("t")
        )
    total = len(await payloads(runtime))
    for _ in range(600):
        if len(await runtime.store.read_all(limit=total + 1)) == total:
            return
        await asyncio.sleep(0.1)
    raise AssertionError("the appended events never became final in the global order")


async def store_root(runtime: ServiceRuntime) -> tuple[int, str]:
    stored = await payloads(runtime)
    return len(stored), root_of([event_leaf(p) for p in stored]).hex()


def checkpoints_on_topic(runtime: ServiceRuntime) -> list[tuple[EventEnvelope, Any]]:
    settings = runtime.settings
    found = []
    for record in whole_topic(settings.kafka_bootstrap_servers, settings.checkpoints_topic()):
        envelope = EventEnvelope.from_bytes(record.value)
        found.append((envelope, record))
    return sorted(found, key=lambda item: item[0].streamversion)


def signed(envelope: EventEnvelope) -> SignedCheckpoint:
    event = StoreCheckpointSigned.model_validate(envelope.data)
    body = CheckpointBody(
        event.issued_at.isoformat(timespec="microseconds"), (TreeHead(event.service, event.size, event.root),)
    )
    return SignedCheckpoint(body, event.key_id, event.public_key, event.signature)


async def test_an_operator_has_the_service_sign_its_store_and_the_checkpoint_is_published(
    client: tuple[ServiceRuntime, httpx.AsyncClient], issuer: DevelopmentTokenIssuer
) -> None:
    runtime, http = client
    await append_notes(runtime, 7)
    operator = {"Authorization": f"Bearer {issuer.issue(subject='op', roles=[Role.OPERATOR])}"}

    answer = await http.post("/audit/checkpoints", headers=operator)

    assert answer.status_code == 201, answer.text
    size, root = await store_root(runtime)
    assert answer.json()["checkpoint"]["trees"] == [{"service": "sample", "size": size, "root": root}]
    ((envelope, record),) = checkpoints_on_topic(runtime)
    assert envelope.type == StoreCheckpointSigned.type_name()
    assert record.key == checkpoint_subject("sample").encode()
    assert dict(record.headers)[HASH_HEADER].decode() == chain_hash(record.value)
    assert signed(envelope).verify()
    assert envelope.data["size"] == size == 7


async def test_a_donor_cannot_have_a_checkpoint_taken(
    client: tuple[ServiceRuntime, httpx.AsyncClient], issuer: DevelopmentTokenIssuer
) -> None:
    _runtime, http = client
    donor = {"Authorization": f"Bearer {issuer.issue(subject='d', roles=[Role.DONOR])}"}

    assert (await http.post("/audit/checkpoints", headers=donor)).status_code == 403


async def test_the_next_checkpoint_reads_only_what_was_appended_since_and_chains_to_the_last(
    client: tuple[ServiceRuntime, httpx.AsyncClient],
) -> None:
    runtime, _http = client
    await append_notes(runtime, 5)
    first = await runtime.checkpointer.take()
    covered = [event_leaf(p) for p in await payloads(runtime)]
    await append_notes(runtime, 3)
    # Edit an event the first checkpoint covered: an incremental checkpoint never reads it again, so the next
    # root still commits to the bytes as they were (``ddr audit verify`` is what names the edit).
    async with runtime.engine.begin() as conn:
        await conn.execute(update(events).where(events.c.position == 1).values(payload=b'{"edited":true}'))

    second = await runtime.checkpointer.take()

    appended = [event_leaf(p) for p in (await payloads(runtime))[5:]]
    assert (first.head.size, second.head.size) == (5, 8)
    assert second.head.root == root_of([*covered, *appended]).hex()
    (one, _), (two, _) = checkpoints_on_topic(runtime)
    assert (one.streamversion, two.streamversion) == (1, 2)
    assert two.prevhash == chain_hash(one.canonical_bytes())


async def payloads(runtime: ServiceRuntime) -> list[bytes]:
    async with runtime.engine.connect() as conn:
        return [r.payload for r in await conn.execute(select(events.c.payload).order_by(events.c.position))]


async def test_a_service_signs_its_store_periodically_from_its_start(
    store_url: str, kafka_bootstrap_servers: str, tmp_path: Path
) -> None:
    runtime = runtime_of(store_url, kafka_bootstrap_servers, tmp_path, every=0.3)
    app = create_service_app(runtime)
    async with app.router.lifespan_context(app):
        for _ in range(600):
            if await published(runtime) >= 2:
                break
            await asyncio.sleep(0.1)

    assert len(checkpoints_on_topic(runtime)) >= 2


async def published(runtime: ServiceRuntime) -> int:
    async with runtime.engine.connect() as conn:
        query = select(func.count()).select_from(checkpoints).where(checkpoints.c.published.is_(True))
        return int((await conn.execute(query)).scalar_one())


async def test_the_checkpoint_command_has_each_running_service_sign_and_keeps_what_they_signed(
    store_url: str, kafka_bootstrap_servers: str, tmp_path: Path, issuer: DevelopmentTokenIssuer
) -> None:
    runtime = runtime_of(store_url, kafka_bootstrap_servers, tmp_path, every=0)
    app = create_service_app(
        runtime, token_verifier=TokenVerifier(issuer.public_key_pem, issuer="test", audience="test")
    )
    (port,) = free_ports(1)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    try:
        for _ in range(1200):  # the server starts within a minute
            if server.started:
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError("the service never started serving")
        await append_notes(runtime, 3)
        operator = issuer.issue(subject="op", roles=[Role.OPERATOR])
        args = [
            "checkpoint",
            f"--url=sample=http://127.0.0.1:{port}",
            f"--token={operator}",
            f"--out={tmp_path / 'kept'}",
        ]
        result = await asyncio.to_thread(CliRunner().invoke, audit_app, args)
    finally:
        server.should_exit = True
        await serving

    assert result.exit_code == 0, result.output
    (kept,) = (tmp_path / "kept").glob("sample-*.json")
    signed = SignedCheckpoint.load(kept)
    assert signed.verify()
    assert f"sample: 3 events, checkpoint {signed.body.digest}" in result.output
    assert signed.body.trees[0].size == 3
