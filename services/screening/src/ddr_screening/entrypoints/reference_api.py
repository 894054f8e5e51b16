"""Reference data over HTTP: eligibility rule sets (and the what-if of a proposed one), vetting list versions."""

from __future__ import annotations

import dataclasses
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from ddr_runtime.audit.reads import Reads
from ddr_runtime.http.writes import Command, json_response
from ddr_screening.domain.rules import RuleSet
from ddr_screening.domain.values import VettingListEntry
from ddr_screening.entrypoints.dependencies import Service
from ddr_screening.entrypoints.roles import NationalOfficer, NationalVettingOfficer, RuleReader, VettingReader
from ddr_screening.entrypoints.schemas import RuleSetIn, VettingListIn
from ddr_screening.service_layer import queries, reference

router = APIRouter(tags=["reference"])


@router.get("/rule-sets")
async def list_rule_sets(_reader: RuleReader, scr: Service) -> list[dict[str, Any]]:
    return await queries.rule_sets(scr)


@router.post("/rule-sets", status_code=201)
async def publish_rule_set(
    body: RuleSetIn, _officer: NationalOfficer, command: Command, scr: Service
) -> JSONResponse:
    """A new version of the eligibility criteria, in force from ``effective_from``; a version is published once.
    Programme-wide: a nationally scoped screening officer's (a regional token is refused)."""
    version = await reference.publish_rule_set(scr, RuleSet(**body.model_dump()), command)
    return json_response(body.model_dump(mode="json"), 201, version=version)


@router.post("/rule-sets/what-if")
async def what_if(body: RuleSetIn, reader: RuleReader, scr: Service, reads: Reads) -> dict[str, Any]:
    """Evaluate a proposed rule set over the adults' cases within the caller's regions (its token's claim):
    what would change. Records nothing but the read of the cases it names."""
    answer = await reference.what_if(scr, reader, RuleSet(**body.model_dump()))
    changed = [case["person_id"] for case in answer.changed_cases]
    await reads.record(changed, children=await queries.children_among(scr, changed))
    return dataclasses.asdict(answer)


@router.get("/vetting-lists")
async def list_vetting_lists(reader: VettingReader, scr: Service) -> list[dict[str, Any]]:
    """The list's versions and their entries, counted within the caller's regions (every region: all)."""
    return await queries.vetting_lists(scr, reader)


@router.post("/vetting-lists", status_code=201)
async def publish_vetting_list(
    body: VettingListIn, _vetting: NationalVettingOfficer, command: Command, scr: Service
) -> JSONResponse:
    """The next version of the list (it replaces the previous one whole); the cases it concerns are re-checked.
    Programme-wide: a nationally scoped vetting officer's (a regional token is refused)."""
    entries = [VettingListEntry(e.person_id, e.allegation_ref, e.status) for e in body.entries]
    version = await reference.publish_vetting_list(scr, entries, body.source_ref, command)
    return json_response({"list_version": version, "entries": len(entries)}, 201)
