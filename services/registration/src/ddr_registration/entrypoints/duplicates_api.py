"""``/duplicates``: the queue of suspected duplicate identities, and their resolution."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from ddr_registration.entrypoints.http_support import (
    ExpectedVersion,
    IdempotencyKey,
    idempotent,
    json_response,
)
from ddr_registration.entrypoints.schemas import DuplicateResolution
from ddr_registration.service_layer import handlers, queries
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.http.idempotency import IdempotencyStore

Officer = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER))]
Reader = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER, Role.AUDITOR, Role.MOVEMENT_LIAISON))]


def duplicates_router(reg: Registration, keys: IdempotencyStore) -> APIRouter:
    router = APIRouter(prefix="/duplicates", tags=["duplicates"])

    @router.get("")
    async def duplicate_queue(
        principal: Reader,
        status: Literal["open", "merged", "distinct"] | None = "open",
        certain: bool | None = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> list[dict[str, Any]]:
        """The queue, with each case's reasons as codes and, for the caller who may see both people, as
        sentences quoting their names. ``certain=true``: only cases proved by a shared biometric."""
        return await queries.list_duplicates(reg, principal, status, offset, limit, certain=certain)

    @router.get("/{case_id}")
    async def get_duplicate(case_id: str, principal: Reader) -> Response:
        case = await queries.get_duplicate(reg, principal, case_id)
        return json_response(case, version=case["version"])

    @router.post("/{case_id}/resolution")
    async def resolve(
        case_id: str,
        body: DuplicateResolution,
        principal: Officer,
        version: ExpectedVersion,
        request: Request,
        key: IdempotencyKey = None,
    ) -> Response:
        """Merge (the other record points to the survivor, whose history holds both) or distinct."""

        async def run() -> Any:
            new_version = await handlers.resolve_duplicate(
                reg,
                case_id,
                body.outcome,
                body.surviving_person_id,
                version,
                Causation(actor=principal.subject),
            )
            # Stored as the idempotent answer: the case without its explanation, which quotes names.
            case = await queries.get_duplicate(reg, principal, case_id, explain=False)
            return json_response(case, version=new_version)

        return await idempotent(keys, principal, key, request, f"{version}\n{body.model_dump_json()}", run)

    return router
