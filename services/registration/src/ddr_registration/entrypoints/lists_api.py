"""``/lists``: a movement's certified list, uploaded as a file, versioned, certified and endorsed."""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, UploadFile
from starlette.responses import Response

from ddr_registration.entrypoints.http_support import (
    ExpectedVersion,
    IdempotencyKey,
    idempotent,
    json_response,
)
from ddr_registration.entrypoints.schemas import Endorsement
from ddr_registration.service_layer import handlers, queries
from ddr_registration.service_layer.importing import import_list
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.http.idempotency import IdempotencyStore
from ddr_runtime.http.problems import BadRequest, DomainRuleViolated, Forbidden

UPLOAD_CHUNK = 1024 * 1024

Submitter = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER, Role.MOVEMENT_LIAISON))]
Liaison = Annotated[Principal, Depends(require_roles(Role.MOVEMENT_LIAISON))]
Endorser = Annotated[Principal, Depends(require_roles(Role.CTS_OFFICER, Role.CNDDR_OFFICER))]
Reader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.CNDDR_OFFICER, Role.CTS_OFFICER, Role.NIC_OFFICER, Role.AUDITOR, Role.MOVEMENT_LIAISON
        )
    ),
]
_ENDORSING_ROLE = {"CTS": Role.CTS_OFFICER, "CNDDR": Role.CNDDR_OFFICER}


def lists_router(reg: Registration, keys: IdempotencyStore) -> APIRouter:
    router = APIRouter(prefix="/lists", tags=["lists"])

    @router.post("", status_code=201)
    async def upload_list(
        file: UploadFile,
        movement: Annotated[str, Query(min_length=1, max_length=40)],
        principal: Submitter,
        request: Request,
        reject_whole: bool = False,
        key: IdempotencyKey = None,
    ) -> Response:
        """Import a CSV or XLSX list as the movement's next list version; each row gets its status.

        201 with the report; 200 if this file was already imported (nothing changes); 422 with the report
        when ``reject_whole`` and a row is bad (nothing is written)."""
        if not principal.covers_movement(movement):
            raise Forbidden("a movement liaison submits their own movement's list only")
        suffix = Path(file.filename or "").suffix.lower()
        if suffix not in (".csv", ".xlsx"):
            raise BadRequest("the list file must be .csv or .xlsx")
        with tempfile.TemporaryDirectory(prefix="ddr-list-") as folder:
            path = Path(folder) / f"upload{suffix}"
            digest = hashlib.sha256()
            with path.open("wb") as target:
                while chunk := await file.read(UPLOAD_CHUNK):
                    digest.update(chunk)
                    target.write(chunk)

            async def run() -> Any:
                report = await import_list(
                    reg, path, movement, Causation(actor=principal.subject), reject_whole=reject_whole
                )
                body = dataclasses.asdict(report)
                if report.status == "rejected":
                    raise DomainRuleViolated(
                        "list-file-has-bad-rows",
                        f"{report.rows_rejected} row(s) are bad: nothing was imported",
                        extensions={"report": body},
                    )
                return json_response(body, 201 if report.status == "accepted" else 200)

            fingerprint = f"{movement}\n{reject_whole}\n{digest.hexdigest()}"
            return await idempotent(keys, principal, key, request, fingerprint, run)

    @router.get("")
    async def list_lists(principal: Reader) -> list[dict[str, Any]]:
        return await queries.list_lists(reg, principal)

    @router.get("/{list_id}")
    async def get_list(list_id: str, principal: Reader) -> Response:
        found = await queries.get_list(reg, principal, list_id)
        return json_response(found, version=found["version"])

    @router.get("/{list_id}/history")
    async def list_history(list_id: str, principal: Reader) -> list[dict[str, Any]]:
        return await queries.list_history(reg, principal, list_id)

    @router.get("/{list_id}/versions/{number}/report")
    async def list_report(
        list_id: str,
        number: int,
        principal: Reader,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[dict[str, Any]]:
        return await queries.list_report(reg, principal, list_id, number, offset, limit)

    @router.post("/{list_id}/versions/{number}/certification")
    async def certify(list_id: str, number: int, principal: Liaison, version: ExpectedVersion) -> Response:
        await queries.get_list(reg, principal, list_id)  # 404 for another movement's list
        new_version = await handlers.certify_list(
            reg, list_id, number, version, Causation(actor=principal.subject)
        )
        return json_response(await queries.get_list(reg, principal, list_id), version=new_version)

    @router.post("/{list_id}/versions/{number}/endorsements")
    async def endorse(
        list_id: str, number: int, body: Endorsement, principal: Endorser, version: ExpectedVersion
    ) -> Response:
        if not principal.has_role(_ENDORSING_ROLE[body.body]):
            raise Forbidden(f"only a {body.body} officer endorses for the {body.body}")
        new_version = await handlers.endorse_list(
            reg, list_id, number, body.body, version, Causation(actor=principal.subject)
        )
        return json_response(await queries.get_list(reg, principal, list_id), version=new_version)

    return router
