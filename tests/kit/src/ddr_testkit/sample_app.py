"""A small service assembled from the runtime, on which the runtime proves its security harnesses.

People are listed by movement in a region, children among them; a movement liaison sees only their own
movement, a caller with a ``regions`` remit only those regions, a child's record answers like a missing one
to everyone but child protection; examiners alone write and read medical notes; a CVR partner sees only its
own projects; an auditor exports a pseudonymised list. Names, movement references and notes are sealed per
person in the events; the read model keeps none of them. Every rule answers the same 404 for missing and
forbidden objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, Response
from opentelemetry.sdk.trace import TracerProvider
from prometheus_client import Counter
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Boolean, Column, MetaData, String, Table, insert, select, update

from ddr_contracts.topics import dead_letter_topic
from ddr_runtime.audit.reads import Reads
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.tokens import TokenVerifier
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.store import Causation, NewEvent
from ddr_runtime.http.idempotency import READ_ONLY
from ddr_runtime.http.limits import body_limit
from ddr_runtime.http.problems import Conflict, Forbidden, NotFound, not_visible
from ddr_runtime.messaging.topics import TopicSpec, ensure_topics
from ddr_runtime.service import ServiceRuntime, build_runtime, create_service_app
from ddr_testkit.samples import (
    SAMPLES,
    SampleMedicalNoteAdded,
    SamplePersonErased,
    SamplePersonListed,
    SampleProjectOpened,
)
from ddr_testkit.services import service_settings

SERVICE = "sample"
MAX_DOCUMENT_BYTES = 256 * 1024
"""A scanned document's bound: over the app's bound on bodies in the tests that lower it."""
# A count of a category of person: never on the unauthenticated /metrics, only at /metrics/all.
CHILDREN_LISTED = Counter("ddr_sample_children_listed", "Children listed by the sample service")
metadata = MetaData()
people = Table(
    "sample_people",
    metadata,
    Column("person_id", String(64), primary_key=True),
    Column("movement", String(32), nullable=False),
    Column("region", String(64), nullable=False),
    Column("child", Boolean, nullable=False),
    Column("erased", Boolean, nullable=False, default=False),
)
projects = Table(
    "sample_projects",
    metadata,
    Column("project_id", String(64), primary_key=True),
    Column("partner", String(64), nullable=False),
    Column("title", String(200), nullable=False),
)

Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9-]+$")]
Code = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[A-Za-z0-9-]+$")]


class PersonIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    person_id: Identifier
    movement: Code
    region: Code
    full_name: str = Field(min_length=1, max_length=200)
    birth_year: int | None = Field(default=None, ge=1900, le=2030)
    movement_ref: str = Field(min_length=1, max_length=64)
    child: bool = False


class PersonOut(BaseModel):
    person_id: str
    movement: str
    region: str
    full_name: str | None
    birth_year: int | None
    movement_ref: str | None


class Created(BaseModel):
    id: str


class NoteIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str = Field(min_length=1, max_length=500)


class Notes(BaseModel):
    notes: list[str | None]


class Found(BaseModel):
    people: list[str]


class Search(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=2, max_length=100)


class Received(BaseModel):
    person_id: str
    size: int


class ProjectIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    project_id: Identifier
    title: str = Field(min_length=1, max_length=200)


class ProjectOut(BaseModel):
    project_id: str
    partner: str
    title: str


class ExportRow(BaseModel):
    pseudonym: str
    movement: str
    region: str


class Export(BaseModel):
    people: list[ExportRow]


def _runtime(request: Request) -> ServiceRuntime:
    runtime: ServiceRuntime = request.app.state.sample
    return runtime


Runtime = Annotated[ServiceRuntime, Depends(_runtime)]
Lister = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER, Role.MOVEMENT_LIAISON))]
Reader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.CNDDR_OFFICER, Role.MOVEMENT_LIAISON, Role.CHILD_PROTECTION, Role.SCREENING_OFFICER
        )
    ),
]
Officer = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER))]
Examiner = Annotated[Principal, Depends(require_roles(Role.EXAMINER))]
Partner = Annotated[Principal, Depends(require_roles(Role.CVR_PARTNER))]
ProjectReader = Annotated[Principal, Depends(require_roles(Role.CVR_PARTNER, Role.AUDITOR))]
Auditor = Annotated[Principal, Depends(require_roles(Role.AUDITOR))]

router = APIRouter(tags=["sample"])


@router.post("/people", status_code=201, response_model=Created)
async def list_person(body: PersonIn, principal: Lister, runtime: Runtime) -> Created:
    """List a person (a liaison only for their own movement, a remit only in its regions)."""
    if not principal.covers_movement(body.movement) or not principal.covers_region(body.region):
        raise Forbidden("outside the caller's movement or regions")
    event = SamplePersonListed(
        person_id=body.person_id,
        movement=body.movement,
        full_name=body.full_name,
        birth_year=body.birth_year,
        movement_ref=body.movement_ref,
        region=body.region,
        child=body.child,
    )
    async with runtime.store.transaction() as conn:
        known = (
            await conn.execute(select(people.c.person_id).where(people.c.person_id == body.person_id))
        ).first()
        if known is not None:
            raise Conflict("this person is listed already")
        await runtime.store.append(
            f"person-{body.person_id}",
            0,
            [NewEvent(event, body.person_id)],
            Causation(principal.subject),
            conn=conn,
        )
        await conn.execute(
            insert(people).values(
                person_id=body.person_id,
                movement=body.movement,
                region=body.region,
                child=body.child,
                erased=False,
            )
        )
    runtime.relay.notify()
    if body.child:
        CHILDREN_LISTED.inc()
    return Created(id=body.person_id)


async def _visible(runtime: ServiceRuntime, principal: Principal, person_id: str) -> bool:
    """404 unless the person exists, is not erased and lies within the caller's remit (one answer for all);
    whether the person is a child."""
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(select(people).where(people.c.person_id == person_id))).first()
    if (
        row is None
        or row.erased
        or not principal.covers_movement(row.movement)
        or not principal.covers_region(row.region)
        or row.child != principal.has_role(Role.CHILD_PROTECTION)
    ):
        raise not_visible("person")
    return bool(row.child)


@router.get("/people/{person_id}", response_model=PersonOut)
async def read_person(person_id: str, principal: Reader, runtime: Runtime, reads: Reads) -> PersonOut:
    """A person within the caller's remit; a child's record only to child protection. The read, shown or
    refused, is in the read ledger."""
    try:
        child = await _visible(runtime, principal, person_id)
    except NotFound:
        await reads.record([person_id], outcome="not_visible", children=None)  # refused: not told
        raise
    await reads.record([person_id], children=[person_id] if child else [])
    listed = (await runtime.store.read_stream(f"person-{person_id}"))[0].event
    assert isinstance(listed, SamplePersonListed)
    return PersonOut(
        person_id=listed.person_id,
        movement=listed.movement,
        region=listed.region,
        full_name=listed.full_name,
        birth_year=listed.birth_year,
        movement_ref=listed.movement_ref,
    )


@router.get("/people", response_model=Found)
async def search_people(
    principal: Officer, runtime: Runtime, name: Annotated[str, Query(min_length=2, max_length=100)]
) -> Found:
    """Adults within the officer's regions whose name contains ``name`` (a query string: scrubbed from spans
    and logs; services search by POST body)."""
    return Found(people=await _named(runtime, principal, name))


@router.post("/people/search", response_model=Found, dependencies=[READ_ONLY])
async def search_people_by_post(body: Search, principal: Officer, runtime: Runtime, reads: Reads) -> Found:
    """The same search with the name in the body: a read (its Idempotency-Key is ignored, nothing kept)."""
    found = await _named(runtime, principal, body.name)
    await reads.record(found, children=[])
    return Found(people=found)


async def _named(runtime: ServiceRuntime, principal: Principal, name: str) -> list[str]:
    async with runtime.engine.connect() as conn:
        rows = (
            await conn.execute(select(people).where(people.c.erased.is_(False), people.c.child.is_(False)))
        ).all()
    found: list[str] = []
    for row in rows:
        if not principal.covers_region(row.region):
            continue
        listed = (await runtime.store.read_stream(f"person-{row.person_id}"))[0].event
        if isinstance(listed, SamplePersonListed) and name.casefold() in (listed.full_name or "").casefold():
            found.append(row.person_id)
    return sorted(found)


@router.post(
    "/people/{person_id}/documents",
    status_code=201,
    response_model=Received,
    dependencies=[body_limit(MAX_DOCUMENT_BYTES)],
)
async def receive_document(
    person_id: str, request: Request, principal: Officer, runtime: Runtime
) -> Received:
    """A scanned document for a person (its size only is kept here): a body up to its own bound."""
    await _visible(runtime, principal, person_id)
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
    return Received(person_id=person_id, size=size)


@router.post("/people/{person_id}/medical-notes", status_code=201, response_model=Created)
async def add_medical_note(person_id: str, body: NoteIn, principal: Examiner, runtime: Runtime) -> Created:
    """An examiner's note, sealed under the person's key; checked before anything is written."""
    await _visible(runtime, principal, person_id)
    stream = f"medical-{person_id}"
    version = await runtime.store.stream_version(stream)
    event = SampleMedicalNoteAdded(person_id=person_id, note=body.note)
    await runtime.store.append(stream, version, [NewEvent(event, person_id)], Causation(principal.subject))
    runtime.relay.notify()
    return Created(id=f"{person_id}-{version + 1}")


@router.get("/people/{person_id}/medical-notes", response_model=Notes)
async def read_medical_notes(person_id: str, principal: Examiner, runtime: Runtime) -> Notes:
    await _visible(runtime, principal, person_id)
    recorded = await runtime.store.read_stream(f"medical-{person_id}")
    return Notes(notes=[e.event.note for e in recorded if isinstance(e.event, SampleMedicalNoteAdded)])


@router.post("/people/{person_id}/erasure", status_code=204, response_class=Response)
async def erase_person(person_id: str, principal: Officer, runtime: Runtime) -> Response:
    """Erase a person: the erasure is recorded and their key destroyed in one transaction (the key goes
    before the record commits, so both happen or, if destroying fails, neither)."""
    await _visible(runtime, principal, person_id)
    stream = f"person-{person_id}"
    async with runtime.store.transaction() as conn:
        version = await runtime.store.stream_version(stream, conn=conn)
        await runtime.store.append(
            stream,
            version,
            [NewEvent(SamplePersonErased(person_id=person_id), person_id)],
            Causation(principal.subject),
            conn=conn,
        )
        await conn.execute(update(people).where(people.c.person_id == person_id).values(erased=True))
        await runtime.keystore.erase(person_id)
    runtime.relay.notify()
    return Response(status_code=204)


@router.post("/projects", status_code=201, response_model=Created)
async def open_project(body: ProjectIn, principal: Partner, runtime: Runtime) -> Created:
    """A partner's project; a project id another partner holds answers as if it did not exist."""
    assert principal.partner is not None
    async with runtime.store.transaction() as conn:
        taken = (await conn.execute(select(projects).where(projects.c.project_id == body.project_id))).first()
        if taken is not None:
            raise not_visible("project") if taken.partner != principal.partner else Conflict("already open")
        event = SampleProjectOpened(project_id=body.project_id, partner=principal.partner, title=body.title)
        await runtime.store.append(
            f"project-{body.project_id}",
            0,
            [NewEvent(event, body.project_id)],
            Causation(principal.subject),
            conn=conn,
        )
        await conn.execute(
            insert(projects).values(project_id=body.project_id, partner=principal.partner, title=body.title)
        )
    runtime.relay.notify()
    return Created(id=body.project_id)


@router.get("/projects/{project_id}", response_model=ProjectOut)
async def read_project(project_id: str, principal: ProjectReader, runtime: Runtime) -> ProjectOut:
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(select(projects).where(projects.c.project_id == project_id))).first()
    if row is None or not principal.covers_partner(row.partner):
        raise not_visible("project")
    return ProjectOut(project_id=row.project_id, partner=row.partner, title=row.title)


@router.get("/export", response_model=Export)
async def export(principal: Auditor, runtime: Runtime) -> Export:
    """A pseudonymised handover list: no name, no movement reference, no person id."""
    async with runtime.engine.connect() as conn:
        rows = (
            await conn.execute(select(people).where(people.c.erased.is_(False)).order_by(people.c.person_id))
        ).all()
    return Export(
        people=[
            ExportRow(
                pseudonym=hashlib.sha256(f"sample-export:{row.person_id}".encode()).hexdigest()[:16],
                movement=row.movement,
                region=row.region,
            )
            for row in rows
            if principal.covers_region(row.region)
        ]
    )


def sample_settings(
    database_url: str, kafka_bootstrap_servers: str, namespace: str, var_dir: Path, **overrides: Any
) -> Settings:
    """Settings of the sample service for a test (``service_settings``), its events topic and its dead-letter
    topic created in the test's namespace."""
    settings = service_settings(
        SERVICE, database_url, kafka_bootstrap_servers, namespace, var_dir, **overrides
    )
    topic = settings.events_topic(SERVICE)
    ensure_topics(
        kafka_bootstrap_servers, [TopicSpec(topic, 3, {}), TopicSpec(dead_letter_topic(topic), 1, {})]
    )
    return settings


def build_sample_app(
    settings: Settings,
    *,
    token_verifier: TokenVerifier | None = None,
    tracer_provider: TracerProvider | None = None,
) -> FastAPI:
    """The sample service: its events on ``<namespace>ddr.sample.events`` (create that topic and its .dlq)."""
    runtime = build_runtime(SERVICE, SAMPLES, settings, tracer_provider=tracer_provider)

    @asynccontextmanager
    async def tables(_app: FastAPI) -> AsyncIterator[None]:
        async with runtime.engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield

    app = create_service_app(runtime, [router], token_verifier=token_verifier, lifespan_hooks=[tables])
    app.state.sample = runtime
    return app
