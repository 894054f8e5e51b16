"""Reference data over HTTP: eligibility rule sets (and the what-if of a proposed one), vetting list versions."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from sqlalchemy import select
from starlette.responses import Response

from ddr_contracts.screening import VettingListEntry
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.http.idempotency import IdempotencyStore
from ddr_screening.adapters.tables import rule_sets, vetting_lists
from ddr_screening.domain.rules import RuleSet
from ddr_screening.entrypoints.decisions_api import cause
from ddr_screening.entrypoints.http_support import IdempotencyKey, idempotent, json_response
from ddr_screening.entrypoints.schemas import RuleSetIn, VettingListIn
from ddr_screening.service_layer import reference
from ddr_screening.service_layer.unit import Screening

Officer = Annotated[Principal, Depends(require_roles(Role.SCREENING_OFFICER))]
RuleReader = Annotated[
    Principal, Depends(require_roles(Role.SCREENING_OFFICER, Role.AUDITOR, Role.VETTING_OFFICER))
]
VettingOfficer = Annotated[Principal, Depends(require_roles(Role.VETTING_OFFICER))]
VettingReader = Annotated[Principal, Depends(require_roles(Role.VETTING_OFFICER, Role.AUDITOR))]


def reference_router(scr: Screening, keys: IdempotencyStore) -> APIRouter:
    router = APIRouter(tags=["reference"])

    @router.get("/rule-sets")
    async def list_rule_sets(_principal: RuleReader) -> list[dict[str, Any]]:
        async with scr.engine.connect() as conn:
            rows = (
                await conn.execute(select(rule_sets.c.body).order_by(rule_sets.c.effective_from))
            ).scalars()
            return [dict(body) for body in rows]

    @router.post("/rule-sets")
    async def publish_rule_set(
        body: RuleSetIn, principal: Officer, request: Request, key: IdempotencyKey = None
    ) -> Response:
        async def run() -> Any:
            rules = RuleSet(**body.model_dump())
            await reference.publish_rule_set(scr, rules, cause(principal, request))
            return json_response(reference.rule_set_body(rules), status_code=201)

        return await idempotent(keys, principal, key, request, body.model_dump_json(), run)

    @router.post("/rule-sets/what-if")
    async def what_if(body: RuleSetIn, _principal: RuleReader) -> Any:
        """Evaluate a proposed rule set over every existing case: what would change. Records nothing."""
        result = await reference.what_if(scr, RuleSet(**body.model_dump()))
        return json_response(dataclasses.asdict(result))

    @router.get("/vetting-lists")
    async def list_vetting_lists(_principal: VettingReader) -> list[dict[str, Any]]:
        async with scr.engine.connect() as conn:
            rows = (await conn.execute(select(vetting_lists).order_by(vetting_lists.c.list_version))).all()
        return [dict(row._mapping) for row in rows]

    @router.post("/vetting-lists")
    async def publish_vetting_list(
        body: VettingListIn, principal: VettingOfficer, request: Request, key: IdempotencyKey = None
    ) -> Response:
        async def run() -> Any:
            entries = [VettingListEntry(**e.model_dump()) for e in body.entries]
            version = await reference.publish_vetting_list(
                scr, entries, body.source_ref, cause(principal, request)
            )
            return json_response({"list_version": version, "entries": len(entries)}, status_code=201)

        return await idempotent(keys, principal, key, request, body.model_dump_json(), run)

    return router
