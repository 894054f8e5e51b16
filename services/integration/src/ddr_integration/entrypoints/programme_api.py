"""The programme's decisions: quotas of places and the rank-harmonisation rules."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ddr_integration.domain.events import QuotaSet
from ddr_integration.domain.ranks import Rule, RuleSet
from ddr_integration.entrypoints import schemas as s
from ddr_integration.entrypoints.deps import Integ
from ddr_integration.entrypoints.roles import Nic, ProgrammeReader, UnitReader
from ddr_integration.service_layer import quotas, ranks
from ddr_runtime.http.writes import Command, json_response
from ddr_runtime.kernel import UnknownRecord

router = APIRouter(tags=["programme"])


@router.post("/quotas", status_code=201)
async def create_quota(body: s.QuotaCreate, integ: Integ, _: Nic, command: Command) -> JSONResponse:
    decision = QuotaSet(**body.model_dump(exclude={"decided_on"}))
    await quotas.set_quota(integ, decision, body.decided_on, command)
    return json_response(await _quota(integ, body.quota_id), 201, location=f"/quotas/{body.quota_id}")


@router.post("/quotas/{quota_id}/decisions")
async def change_quota(
    quota_id: str, body: s.QuotaDecisionBody, integ: Integ, _: Nic, command: Command
) -> dict[str, Any]:
    await quotas.change_quota(
        integ, quota_id, body.limit, body.decision_ref, body.reason, body.effective_on, command
    )
    return {"items": await integ.views.quotas()}


@router.get("/quotas")
async def list_quotas(integ: Integ, _: UnitReader) -> dict[str, Any]:
    return {"items": await integ.views.quotas()}


@router.get("/quotas/{quota_id}")
async def get_quota(quota_id: str, integ: Integ, _: UnitReader) -> dict[str, Any]:
    return await _quota(integ, quota_id)


async def _quota(integ: Integ, quota_id: str) -> dict[str, Any]:
    found = next((q for q in await integ.views.quotas() if q["quota_id"] == quota_id), None)
    if found is None:
        raise UnknownRecord("quota", quota_id)
    return found


@router.post("/rank-rules", status_code=201)
async def publish_rules(body: s.RankRulesBody, integ: Integ, _: Nic, command: Command) -> JSONResponse:
    rules = tuple(
        Rule(
            tuple(r.strip().lower() for r in x.movement_ranks),
            x.min_years,
            tuple(x.qualifications),
            x.rank,
            x.command_function,
        )
        for x in body.rules
    )
    rule_set = RuleSet(body.rule_version, body.decree_ref, body.effective_from, rules)
    await ranks.publish_rules(integ, rule_set, body.published_on, command)
    return json_response({"rule_version": body.rule_version}, 201, location="/rank-rules")


@router.get("/rank-rules")
async def list_rules(integ: Integ, _: ProgrammeReader) -> dict[str, Any]:
    return {"items": await integ.views.rule_sets()}
