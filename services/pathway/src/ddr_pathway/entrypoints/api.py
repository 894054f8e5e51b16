"""HTTP API of the pathway service: paths, figures, read records and the replay of the read models."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, Query, Request, status
from pydantic import AwareDatetime

from ddr_contracts.pathway import PathRead
from ddr_pathway.adapters.tables import facts_table
from ddr_pathway.domain.figures import ProgrammeFigures, UnknownFilter, exact
from ddr_pathway.domain.path import PersonPath, StageOnlyPath, disclosed, stage_only
from ddr_pathway.service_layer import access
from ddr_pathway.service_layer.figures import Disclosure, NoReadModel, programme_figures
from ddr_pathway.service_layer.paths import read_person
from ddr_pathway.service_layer.reads import reads_of, record_read
from ddr_pathway.service_layer.replay import ReadModels, RebuildInProgress
from ddr_runtime.audit.reads import Reads
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.auth.visibility import disclose_count, sees_children, sees_vetting_detail
from ddr_runtime.eventstore.store import EventStore
from ddr_runtime.http.paging import Limit, Offset
from ddr_runtime.http.problems import (
    BadRequest,
    Conflict,
    FieldError,
    Forbidden,
    ServiceUnavailable,
    not_visible,
)

# Every role may ask for a path, so that a refused read is recorded too; access says what they get.
AnyCaller = Annotated[Principal, Depends(require_roles(*Role))]
FigureReader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.CNDDR_OFFICER,
            Role.NIC_OFFICER,
            Role.CTS_OFFICER,
            Role.DONOR,
            Role.AUDITOR,
            Role.MOD_LIAISON,
            Role.CHILD_PROTECTION,  # sees its own count of children exactly, every other count as anyone does
        )
    ),
]
Auditor = Annotated[Principal, Depends(require_roles(Role.AUDITOR))]
ReplayReader = Annotated[Principal, Depends(require_roles(Role.OPERATOR, Role.AUDITOR, Role.CNDDR_OFFICER))]
Operator = Annotated[Principal, Depends(require_roles(Role.OPERATOR))]
AsOf = Annotated[date | None, Query(description="Business date (default: today)")]
KnownOn = Annotated[AwareDatetime | None, Query(description="Count only what was recorded by then")]


def _read_models(request: Request) -> ReadModels:
    return cast(ReadModels, request.app.state.read_models)


def _store(request: Request) -> EventStore:
    """Pathway's own store: where each read of a path is recorded."""
    return cast(EventStore, request.app.state.runtime.store)


Models = Annotated[ReadModels, Depends(_read_models)]
Store = Annotated[EventStore, Depends(_store)]

router = APIRouter(tags=["pathway"])


@router.get("/paths/{person_id}", response_model=PersonPath | StageOnlyPath)
async def get_path(
    person_id: str,
    principal: AnyCaller,
    read_models: Models,
    store: Store,
    reads: Reads,
    as_of: AsOf = None,
    known_on: KnownOn = None,
) -> PersonPath | StageOnlyPath:
    """A person's path. Missing, a child's record (outside child protection), another movement's member or
    outside the caller's regions: the same 404. Every read is recorded, with its reason (``/reads``)."""
    if not access.may_read_paths(principal):
        await record_read(
            store, reads, principal, person_id, access.ROLE_NOT_ALLOWED, generation=None, child=None
        )
        raise Forbidden("your role reads no path")
    generation = await read_models.serving()
    if generation is None:
        raise ServiceUnavailable("the read model is being created")
    table = facts_table(read_models.prefix, generation)
    async with read_models.engine.connect() as conn:
        paths = await read_person(
            conn, table, person_id, now=datetime.now(UTC), as_of=as_of, known_on=known_on
        )
    decision = access.decide(principal, paths.current, child=paths.child)
    if decision.outcome == "granted" and paths.asked is None:
        decision = access.NOTHING_BY_THEN
    await record_read(store, reads, principal, person_id, decision, generation=generation, child=paths.child)
    if decision.outcome != "granted" or paths.asked is None:
        raise not_visible("path")
    if decision.view == "full":
        return disclosed(paths.asked, access.sights(principal))
    return stage_only(paths.asked)


class PathReadRecord(PathRead):
    """A recorded read of a path: the ``PathRead`` event, when it was recorded, by whom, its id (an answer,
    not an event: never registered nor appended)."""

    read_at: datetime
    actor: str
    event_id: str


@router.get("/paths/{person_id}/reads")
async def get_reads(
    person_id: str, principal: Auditor, store: Store, offset: Offset = 0, limit: Limit = 100
) -> list[PathReadRecord]:
    """Every read of this path, granted or refused, with its reason, oldest first."""
    recorded = await reads_of(store, person_id, after=offset)
    return [
        PathReadRecord(
            **r.event.model_dump(),
            read_at=r.envelope.recordedat,
            actor=r.envelope.actor,
            event_id=r.envelope.id,
        )
        for r in recorded[:limit]
    ]


@router.get("/figures")
async def get_figures(
    principal: FigureReader,
    read_models: Models,
    as_of: AsOf = None,
    known_on: KnownOn = None,
    movement: str | None = None,
    coalition: str | None = None,
    region: str | None = None,
    sex: str | None = None,
    age_group: str | None = None,
    category: str | None = None,
    track: str | None = None,
) -> ProgrammeFigures:
    if principal.regions:
        if region is None and len(principal.regions) == 1:
            region = next(iter(principal.regions))
        if region is None or not principal.covers_region(region):
            raise Forbidden("your remit covers some regions only: name one of them in `region`")
    async with read_models.engine.connect() as conn:
        try:
            return await programme_figures(
                conn,
                as_of=as_of or datetime.now(UTC).date(),
                known_on=known_on,
                prefix=read_models.prefix,
                movement=movement,
                coalition=coalition,
                region=region,
                sex=sex,
                age_group=age_group,
                category=category,
                track=track,
                disclosure=Disclosure(
                    children=disclose_count if not sees_children(principal) else exact,
                    vetting=disclose_count if not sees_vetting_detail(principal) else exact,
                ),
            )
        except NoReadModel:
            raise ServiceUnavailable("the read model is being created") from None
        except UnknownFilter as error:
            raise BadRequest(str(error), errors=[FieldError(f"query.{error.name}", str(error))]) from None


@router.get("/replay")
async def replay_status(principal: ReplayReader, read_models: Models) -> dict[str, Any]:
    return await read_models.status()


@router.post("/replay", status_code=status.HTTP_202_ACCEPTED)
async def start_replay(principal: Operator, read_models: Models) -> dict[str, Any]:
    try:
        generation = await read_models.rebuild()
    except RebuildInProgress as error:
        raise Conflict(str(error)) from None
    return {"generation": generation, "status": await read_models.status()}
