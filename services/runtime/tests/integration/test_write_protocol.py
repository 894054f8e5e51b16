"""The one HTTP write protocol every service gets from the runtime, on a service over real Kafka and
PostgreSQL: Idempotency-Key on every POST, If-Match, domain refusals as problems, business time and
back-recording, and bulk commands answered item by item."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import pytest
from fastapi import APIRouter, Depends
from pydantic import BaseModel
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.topics import dead_letter_topic
from ddr_runtime.audit.reads import Reads
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.issuer import DevelopmentTokenIssuer
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings, to_async_url
from ddr_runtime.db import create_engine
from ddr_runtime.eventstore.rebuild import ReadModel
from ddr_runtime.eventstore.unit import Saved, Session, UnitOfWork
from ddr_runtime.http.idempotency import IdempotencyStore, StoredAnswer, idempotency_keys
from ddr_runtime.http.problems import NotFound
from ddr_runtime.http.writes import (
    Atomic,
    BulkAnswer,
    Command,
    ExpectedVersion,
    bulk_answer,
    json_response,
)
from ddr_runtime.kernel import Aggregate, RuleViolated
from ddr_runtime.messaging.topics import TopicSpec, ensure_topics
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app
from ddr_testkit.samples import SAMPLES, SampleNoteAdded, SamplePersonListed
from ddr_testkit.services import Api, caller_of

pytestmark = [pytest.mark.kafka, pytest.mark.postgres]

Officer = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER))]


class Person(Aggregate[SamplePersonListed | SampleNoteAdded]):
    def __init__(self) -> None:
        super().__init__()
        self.person_id = ""
        self.listed_at: datetime | None = None
        self.notes = 0

    def apply(self, event: SamplePersonListed | SampleNoteAdded) -> None:
        if isinstance(event, SamplePersonListed):
            self.person_id, self.listed_at = event.person_id, self.at
        else:
            self.notes += 1


class PersonCreate(BaseModel):
    person_id: str
    listed_on: date


class NoteCreate(BaseModel):
    person_id: str
    sequence: int
    on: date | None = None


def router_of(unit: UnitOfWork) -> APIRouter:
    router = APIRouter(dependencies=[Depends(require_roles(Role.CNDDR_OFFICER))])

    @router.post("/people", status_code=201)
    async def list_person(body: PersonCreate, command: Command) -> Any:
        at = command.recording.moment(body.listed_on)

        async def work(session: Session) -> int:
            person = Person()
            person.record(
                SamplePersonListed(person_id=body.person_id, movement="MNLA", full_name="X", birth_year=None),
                at=at,
            )
            return await session.save(
                person, f"person-{body.person_id}", body.person_id, command.causation, 0
            )

        version = await unit.run(work)
        return json_response(
            {"person_id": body.person_id, "id": str(uuid.uuid4())},
            201,
            version=version,
            location=f"/people/{body.person_id}",
        )

    async def note(session: Session, body: NoteCreate, command: Any, expected: int | None = None) -> int:
        person = await session.load_existing(f"person-{body.person_id}", Person, "person", body.person_id)
        if body.sequence <= 0:
            raise RuleViolated(
                "sequence-positive", "a note's sequence is positive", figures={"sequence": body.sequence}
            )
        at = command.recording.moment(body.on, after=person.listed_at, after_what="the listing")
        person.record(SampleNoteAdded(person_id=body.person_id, sequence=body.sequence), at=at)
        return await session.save(
            person, f"person-{body.person_id}", body.person_id, command.causation, expected
        )

    @router.post("/people/{person_id}/notes")
    async def add_note(person_id: str, body: NoteCreate, command: Command, version: ExpectedVersion) -> Any:
        new_version = await unit.run(lambda session: note(session, body, command, version))
        return json_response({"version": new_version}, version=new_version)

    async def person(person_id: str) -> dict[str, Any]:
        async with unit.store.engine.connect() as conn:
            row = (
                await conn.execute(select(notes_table).where(notes_table.c.person_id == person_id))
            ).first()
        if row is None:
            raise NotFound(f"no person {person_id}")
        return {"person_id": person_id, "notes": row.notes}

    @router.get("/people/{person_id}")
    async def read_person(person_id: str, reads: Reads) -> Any:
        try:
            found = await person(person_id)
        except NotFound:
            await reads.record([person_id], outcome="not_visible", children=[])
            raise
        await reads.record([person_id], children=[])
        return found

    @router.post("/people/{person_id}/noted")
    async def add_note_and_show(person_id: str, body: NoteCreate, command: Command) -> Any:
        new_version = await unit.run(lambda session: note(session, body, command))
        return json_response(
            await person(person_id), version=new_version, content_location=f"/people/{person_id}"
        )

    @router.post("/notes/bulk", response_model=BulkAnswer)
    async def add_notes(body: list[NoteCreate], command: Command, atomic: Atomic = False) -> BulkAnswer:
        outcomes = await unit.run_items(
            body, lambda session, item: note(session, item, command), atomic=atomic
        )
        return bulk_answer(outcomes, key=lambda index: body[index].person_id)

    return router


read_model = MetaData()
notes_table = Table(
    "sample_note_counts",
    read_model,
    Column("person_id", String(36), primary_key=True),
    Column("notes", Integer),
)


class NoteCount:
    async def project(self, conn: AsyncConnection, saved: Sequence[Saved]) -> None:
        for item in saved:
            if isinstance(item.event, SamplePersonListed):
                await conn.execute(insert(notes_table).values(person_id=item.event.person_id, notes=0))
            elif isinstance(item.event, SampleNoteAdded):
                await conn.execute(
                    update(notes_table)
                    .where(notes_table.c.person_id == item.event.person_id)
                    .values(notes=notes_table.c.notes + 1)
                )


def read_model_tables(runtime: ServiceRuntime) -> Any:
    @asynccontextmanager
    async def create(_app: Any) -> AsyncIterator[None]:
        async with runtime.engine.begin() as conn:
            await conn.run_sync(read_model.create_all)
        yield

    return create


@pytest.fixture
async def service(
    fresh_postgres_database: str, kafka_bootstrap_servers: str, tmp_path: Path, issuer: DevelopmentTokenIssuer
) -> AsyncIterator[tuple[httpx.AsyncClient, ServiceRuntime]]:
    name = f"svc{uuid.uuid4().hex[:6]}"
    settings = Settings(
        service_name=name,
        database_url=fresh_postgres_database,
        var_dir=tmp_path,
        kafka_bootstrap_servers=kafka_bootstrap_servers,
    )
    runtime = build_runtime(name, SAMPLES, settings)
    ensure_topics(
        kafka_bootstrap_servers,
        [TopicSpec(runtime.store.topic, 3, {}), TopicSpec(dead_letter_topic(runtime.store.topic), 1, {})],
    )
    unit = UnitOfWork(runtime.store, projections=[NoteCount()], notify=runtime.relay.notify)
    app = create_service_app(
        runtime,
        [router_of(unit)],
        token_verifier=TokenVerifier(issuer.public_key_pem, issuer="test", audience="test"),
        lifespan_hooks=[read_model_tables(runtime)],
        read_model=ReadModel(unit, [notes_table]),
    )
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://svc") as client,
    ):
        yield client, runtime


@pytest.fixture
def officer(service: tuple[httpx.AsyncClient, ServiceRuntime], issuer: DevelopmentTokenIssuer) -> Api:
    return caller_of(service[0], issuer)(Role.CNDDR_OFFICER, subject="officer-1")


@pytest.fixture
def records_officer(service: tuple[httpx.AsyncClient, ServiceRuntime], issuer: DevelopmentTokenIssuer) -> Api:
    return caller_of(service[0], issuer)(Role.CNDDR_OFFICER, Role.RECORDS_OFFICER, subject="records-1")


TODAY = datetime.now(UTC).date()
REASON = {"back_recording_reason": "migrated from the CNDDR's 2018 registers"}


async def test_a_retried_post_replays_its_answer_with_etag_and_location_and_records_once(
    officer: Api, service: tuple[httpx.AsyncClient, ServiceRuntime]
) -> None:
    body = {"person_id": "p1", "listed_on": TODAY.isoformat()}

    first = await officer.post("/people", body, idempotency_key="k-1")
    again = await officer.post("/people", body, idempotency_key="k-1")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["etag"] == first.headers["etag"] == '"1"'
    assert again.headers["location"] == first.headers["location"] == "/people/p1"
    assert again.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    assert [e.version for e in await service[1].store.read_stream("person-p1")] == [1]


async def test_an_answer_naming_its_record_is_not_stored_and_a_replay_reads_the_record_again(
    officer: Api, service: tuple[httpx.AsyncClient, ServiceRuntime]
) -> None:
    """Issue 14, finding 2: stored answers kept a person's decrypted data for ever."""
    await officer.ok("/people", {"person_id": "p1", "listed_on": TODAY.isoformat()}, status=201)
    first = await officer.post("/people/p1/noted", {"person_id": "p1", "sequence": 1}, idempotency_key="n-1")
    await officer.ok("/people/p1/noted", {"person_id": "p1", "sequence": 2})

    again = await officer.post("/people/p1/noted", {"person_id": "p1", "sequence": 1}, idempotency_key="n-1")

    async with service[1].engine.connect() as conn:
        stored = (
            await conn.execute(select(idempotency_keys.c.body).where(idempotency_keys.c.key == "n-1"))
        ).one()
    assert stored.body is None
    assert first.json() == {"person_id": "p1", "notes": 1}
    assert (again.status_code, again.json()) == (200, {"person_id": "p1", "notes": 2})
    assert again.headers["idempotent-replayed"] == "true"
    assert again.headers["content-location"] == "/people/p1"


async def test_a_replay_after_the_record_is_gone_answers_as_its_read_does(
    officer: Api, service: tuple[httpx.AsyncClient, ServiceRuntime]
) -> None:
    await officer.ok("/people", {"person_id": "p1", "listed_on": TODAY.isoformat()}, status=201)
    await officer.post("/people/p1/noted", {"person_id": "p1", "sequence": 1}, idempotency_key="n-1")
    async with service[1].engine.begin() as conn:
        await conn.execute(notes_table.delete())

    again = await officer.post("/people/p1/noted", {"person_id": "p1", "sequence": 1}, idempotency_key="n-1")

    assert again.status_code == 404
    assert "notes" not in again.text


async def test_every_read_of_a_person_is_in_the_ledger_an_auditor_queries_with_who_which_route_and_why(
    officer: Api, service: tuple[httpx.AsyncClient, ServiceRuntime], issuer: DevelopmentTokenIssuer
) -> None:
    """Issue 14, finding 15: reads were recorded only for pathway's paths."""
    auditor = caller_of(service[0], issuer)(Role.AUDITOR, subject="auditor-1")
    await officer.ok("/people", {"person_id": "p1", "listed_on": TODAY.isoformat()}, status=201)
    await service[0].get("/people/p1", headers={**officer.headers, "X-Purpose": "case review"})
    await officer.get("/people/p9")

    shown = (await auditor.get("/reads/p1")).json()
    refused = (await auditor.get("/reads/p9")).json()

    assert [(r["reader"], r["route"], r["purpose"], r["outcome"]) for r in shown] == [
        ("officer-1", "GET /people/{person_id}", "case review", "shown")
    ]
    assert shown[0]["reader_roles"] == ["cnddr_officer"]
    assert [(r["reader"], r["outcome"]) for r in refused] == [("officer-1", "not_visible")]


async def test_only_auditors_query_the_read_ledger(officer: Api) -> None:
    assert (await officer.get("/reads/p1")).status_code == 403


async def test_an_offset_past_the_bound_is_refused_with_the_field_named(
    service: tuple[httpx.AsyncClient, ServiceRuntime], issuer: DevelopmentTokenIssuer
) -> None:
    """Issue 14, finding 15: offset=1e20 gave a 500 on every list route."""
    auditor = caller_of(service[0], issuer)(Role.AUDITOR, subject="auditor-1")

    answer = await auditor.get("/reads/p1", offset="1e20")

    assert answer.status_code == 422
    assert "offset" in answer.text


async def test_the_same_key_with_another_request_is_refused(officer: Api) -> None:
    await officer.post("/people", {"person_id": "p1", "listed_on": TODAY.isoformat()}, idempotency_key="k-1")

    other = await officer.post(
        "/people", {"person_id": "p2", "listed_on": TODAY.isoformat()}, idempotency_key="k-1"
    )

    assert other.status_code == 422
    assert other.json()["detail"] == "this Idempotency-Key was used for a different request"


async def test_two_callers_keys_never_meet(
    officer: Api, service: tuple[httpx.AsyncClient, ServiceRuntime], issuer: DevelopmentTokenIssuer
) -> None:
    colleague = caller_of(service[0], issuer)(Role.CNDDR_OFFICER, subject="officer-2")
    await officer.post("/people", {"person_id": "p1", "listed_on": TODAY.isoformat()}, idempotency_key="k-1")

    theirs = await colleague.post(
        "/people", {"person_id": "p2", "listed_on": TODAY.isoformat()}, idempotency_key="k-1"
    )

    assert theirs.status_code == 201
    assert "idempotent-replayed" not in theirs.headers


async def test_a_refused_write_names_the_rule_and_its_figures(officer: Api) -> None:
    await officer.ok("/people", {"person_id": "p1", "listed_on": TODAY.isoformat()}, status=201)

    refused = await officer.post("/people/p1/notes", {"person_id": "p1", "sequence": 0}, if_match='"1"')

    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.json()["rule"] == "sequence-positive"
    assert refused.json()["figures"] == {"sequence": 0}


async def test_an_unknown_record_is_a_404(officer: Api) -> None:
    missing = await officer.post("/people/p9/notes", {"person_id": "p9", "sequence": 1}, if_match='"1"')

    assert missing.status_code == 404
    assert "rule" not in missing.json()


async def test_if_match_is_required_must_be_a_version_and_must_be_current(officer: Api) -> None:
    await officer.ok("/people", {"person_id": "p1", "listed_on": TODAY.isoformat()}, status=201)
    note = {"person_id": "p1", "sequence": 1}

    assert (await officer.post("/people/p1/notes", note)).status_code == 428
    assert (await officer.post("/people/p1/notes", note, if_match="yesterday")).status_code == 412
    assert (await officer.post("/people/p1/notes", note, if_match='"1"')).status_code == 200
    assert (await officer.post("/people/p1/notes", note, if_match='"1"')).status_code == 409


async def test_history_older_than_the_window_needs_the_records_officer_and_a_reason(
    officer: Api, records_officer: Api, service: tuple[httpx.AsyncClient, ServiceRuntime]
) -> None:
    old = {"person_id": "p1", "listed_on": "2018-11-06"}

    without_role = await officer.post("/people", old, **REASON)
    without_reason = await records_officer.post("/people", old)
    accepted = await records_officer.post("/people", old, **REASON)

    assert without_role.status_code == without_reason.status_code == 422
    assert without_role.json()["rule"] == "back-recording-not-authorised"
    assert without_role.json()["occurred_at"] == "2018-11-06T00:00:00Z"
    assert accepted.status_code == 201
    envelope = (await service[1].store.read_stream("person-p1"))[0].envelope
    assert envelope.occurredat == datetime(2018, 11, 6, tzinfo=UTC)
    assert (envelope.backrecordrole, envelope.backrecordreason) == (
        "records_officer",
        "migrated from the CNDDR's 2018 registers",
    )


async def test_a_fact_before_the_one_it_depends_on_is_refused_with_both_dates(records_officer: Api) -> None:
    await records_officer.ok("/people", {"person_id": "p1", "listed_on": "2018-11-06"}, status=201, **REASON)

    early = await records_officer.post(
        "/people/p1/notes", {"person_id": "p1", "sequence": 1, "on": "2018-11-05"}, if_match='"1"', **REASON
    )
    future = await records_officer.post(
        "/people/p1/notes", {"person_id": "p1", "sequence": 1, "on": "2099-01-01"}, if_match='"1"', **REASON
    )

    assert early.status_code == 422
    assert (early.json()["rule"], early.json()["not_before"], early.json()["depends_on"]) == (
        "occurred-before-dependency",
        "2018-11-06T00:00:00Z",
        "the listing",
    )
    assert future.status_code == 422
    assert future.json()["rule"] == "occurred-in-future"


async def test_a_bulk_command_records_valid_items_and_names_the_refused_ones(
    officer: Api, service: tuple[httpx.AsyncClient, ServiceRuntime]
) -> None:
    for person in ("p1", "p2"):
        await officer.ok("/people", {"person_id": person, "listed_on": TODAY.isoformat()}, status=201)

    answer = await officer.ok(
        "/notes/bulk",
        [
            {"person_id": "p1", "sequence": 1},
            {"person_id": "p2", "sequence": 0},
            {"person_id": "p3", "sequence": 1},
        ],
    )

    assert (answer["recorded"], answer["refused"]) == (1, 2)
    assert [(i["index"], i["key"], i["status"], i["rule"]) for i in answer["items"]] == [
        (0, "p1", "recorded", None),
        (1, "p2", "refused", "sequence-positive"),
        (2, "p3", "refused", "unknown-person"),
    ]
    assert [e.version for e in await service[1].store.read_stream("person-p1")] == [1, 2]


async def test_an_atomic_bulk_command_with_a_refusal_records_nothing_and_names_it(
    officer: Api, service: tuple[httpx.AsyncClient, ServiceRuntime]
) -> None:
    await officer.ok("/people", {"person_id": "p1", "listed_on": TODAY.isoformat()}, status=201)

    refused = await officer.client.post(
        "/notes/bulk",
        params={"atomic": "true"},
        json=[{"person_id": "p1", "sequence": 1}, {"person_id": "p1", "sequence": -4}],
        headers=officer.headers,
    )

    assert refused.status_code == 422
    assert refused.json()["errors"] == [
        {"field": "body.items[1]", "message": "sequence-positive: a note's sequence is positive"}
    ]
    assert [e.version for e in await service[1].store.read_stream("person-p1")] == [1]


async def test_every_post_documents_the_idempotency_key(
    service: tuple[httpx.AsyncClient, ServiceRuntime],
) -> None:
    document = (await service[0].get("/openapi.json")).json()

    posts = {path: item["post"] for path, item in document["paths"].items() if "post" in item}
    assert sorted(posts) == [
        "/audit/checkpoints",
        "/notes/bulk",
        "/people",
        "/people/{person_id}/noted",
        "/people/{person_id}/notes",
        "/read-model/rebuild",
    ]
    assert all(any(p["name"] == "Idempotency-Key" for p in post["parameters"]) for post in posts.values())


async def test_an_operator_rebuilds_the_read_model_while_it_serves_and_others_may_not(
    officer: Api, service: tuple[httpx.AsyncClient, ServiceRuntime], issuer: DevelopmentTokenIssuer
) -> None:
    operator = caller_of(service[0], issuer)(Role.OPERATOR, subject="operator-1")
    await officer.ok("/people", {"person_id": "p1", "listed_on": TODAY.isoformat()}, status=201)
    await officer.ok("/notes/bulk", [{"person_id": "p1", "sequence": 1}, {"person_id": "p1", "sequence": 2}])
    async with service[1].engine.begin() as conn:
        await conn.execute(update(notes_table).values(notes=0))

    refused = await officer.post("/read-model/rebuild")
    started = await operator.post("/read-model/rebuild")
    status = (await operator.get("/read-model/rebuild")).json()
    while status["status"] == "running":
        await asyncio.sleep(0.05)
        status = (await operator.get("/read-model/rebuild")).json()

    assert refused.status_code == 403
    assert started.status_code == 202
    assert (status["status"], status["projected"], status["swapped"]) == ("done", 3, True)
    async with service[1].engine.connect() as conn:
        assert (await conn.execute(select(notes_table.c.notes))).scalar_one() == 2


@pytest.mark.parametrize("backend", ["postgres", "sqlite"])
async def test_a_key_is_claimed_once_until_it_expires_then_claimed_anew(
    backend: str, fresh_postgres_database: str, tmp_path: Path
) -> None:
    url = (
        to_async_url(fresh_postgres_database)
        if backend == "postgres"
        else f"sqlite+aiosqlite:///{tmp_path}/k.db"
    )
    engine = create_engine(url)
    try:
        store = IdempotencyStore(engine, ttl=timedelta(hours=1))
        await store.create_schema()

        assert await store.claim("officer-1", "k1", "hash-1") is None
        in_flight = await store.claim("officer-1", "k1", "hash-1")
        assert in_flight == StoredAnswer("hash-1", None, None, {})
        assert await store.claim("officer-2", "k1", "hash-1") is None  # another caller's key

        await store.complete("officer-1", "k1", 201, {"id": "p1"}, {"etag": '"1"'})
        assert await store.claim("officer-1", "k1", "hash-2") == StoredAnswer(
            "hash-1", 201, {"id": "p1"}, {"etag": '"1"'}
        )

        expired = IdempotencyStore(engine, ttl=timedelta(0))  # every stored claim is now past its time
        assert await expired.claim("officer-1", "k1", "hash-2") is None
        assert await store.claim("officer-1", "k1", "hash-2") == StoredAnswer("hash-2", None, None, {})

        await store.release("officer-1", "k1")
        assert await store.claim("officer-1", "k1", "hash-3") is None
    finally:
        await engine.dispose()
