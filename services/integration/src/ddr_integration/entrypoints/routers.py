"""The integration API. Every route declares its roles:

- ``nic_officer`` operates the track (quotas, ranks, cohorts, assignments, service records);
- ``mod_liaison`` records units and the armed forces' own contingent, and reads units;
- ``cts_officer`` reads aggregate figures and unit composition only, never a person;
- ``movement_liaison`` reads the status of their own movement's members only (another's reads as 404);
- ``auditor`` reads everything, changes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse

from ddr_integration.domain.cohorts import add_months
from ddr_integration.domain.errors import UnknownRecord
from ddr_integration.domain.ranks import Rule
from ddr_integration.entrypoints import schemas as s
from ddr_integration.service_layer import candidacy, cohorts, queries, quotas, ranks, units
from ddr_integration.service_layer.placements import place_outside_units
from ddr_integration.service_layer.queries import coalitions_on
from ddr_integration.service_layer.service_record import ServiceEntry, record_entries
from ddr_integration.service_layer.unit import Integration
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import Causation

Nic = Annotated[Principal, Depends(require_roles(Role.NIC_OFFICER))]
NicOrMod = Annotated[Principal, Depends(require_roles(Role.NIC_OFFICER, Role.MOD_LIAISON))]
Mod = Annotated[Principal, Depends(require_roles(Role.MOD_LIAISON))]
PersonReader = Annotated[
    Principal, Depends(require_roles(Role.NIC_OFFICER, Role.MOVEMENT_LIAISON, Role.AUDITOR))
]
DisputeRaiser = Annotated[Principal, Depends(require_roles(Role.NIC_OFFICER, Role.MOVEMENT_LIAISON))]
ProgrammeReader = Annotated[Principal, Depends(require_roles(Role.NIC_OFFICER, Role.AUDITOR))]
UnitReader = Annotated[
    Principal, Depends(require_roles(Role.NIC_OFFICER, Role.MOD_LIAISON, Role.CTS_OFFICER, Role.AUDITOR))
]
AsOf = Annotated[date | None, Query(description="business date of the figures (default: today)")]


def _ok(body: Any, status_code: int = 200) -> JSONResponse:
    return JSONResponse(jsonable_encoder(body), status_code=status_code)


def _cause(principal: Principal) -> Causation:
    return Causation(principal.subject)


def integration_routers(integ: Integration) -> list[APIRouter]:
    router = APIRouter(tags=["integration"])

    async def own_or_unknown(principal: Principal, person_id: str) -> dict[str, Any]:
        async with integ.engine.connect() as conn:
            view = await queries.person(conn, person_id)
        if not principal.covers_movement(view["movement"]):
            raise UnknownRecord("candidate", person_id)  # another movement's member does not exist for them
        return view

    # -- candidates -------------------------------------------------------------------------------------

    @router.get("/candidates")
    async def list_candidates(
        principal: PersonReader,
        movement: str | None = None,
        status: str | None = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
    ) -> JSONResponse:
        if Role.MOVEMENT_LIAISON in principal.roles:
            movement = principal.movement
        async with integ.engine.connect() as conn:
            rows = await queries.candidates(
                conn, movement=movement, status=status, limit=limit, offset=offset
            )
        return _ok({"items": rows, "limit": limit, "offset": offset})

    @router.get("/candidates/{person_id}")
    async def get_candidate(person_id: str, principal: PersonReader) -> JSONResponse:
        return _ok(await own_or_unknown(principal, person_id))

    @router.post("/candidates/{person_id}/acceptance")
    async def accept(person_id: str, body: s.AcceptBody, principal: Nic) -> JSONResponse:
        await candidacy.accept_candidate(integ, person_id, body.effective_on, _cause(principal))
        return await _person(person_id)

    @router.post("/candidates/{person_id}/rank")
    async def allocate_rank(person_id: str, body: s.RankBody, principal: Nic) -> JSONResponse:
        request = ranks.RankRequest(person_id, body.years_of_service, body.qualification, body.effective_on)
        await ranks.allocate_ranks(integ, [request], _cause(principal))
        return await _person(person_id)

    @router.post("/rank-allocations")
    async def allocate_many(body: s.RankAllocationsBody, principal: Nic) -> JSONResponse:
        requests = [
            ranks.RankRequest(e.person_id, e.years_of_service, e.qualification, body.effective_on)
            for e in body.entries
        ]
        allocated = await ranks.allocate_ranks(integ, requests, _cause(principal))
        return _ok(
            {"items": [{"person_id": p, "rank": r, "command_function": c} for p, (r, c) in allocated.items()]}
        )

    @router.post("/candidates/{person_id}/rank-disputes", status_code=201)
    async def dispute(person_id: str, body: s.DisputeBody, principal: DisputeRaiser) -> JSONResponse:
        await own_or_unknown(principal, person_id)
        dispute_id = await ranks.dispute_rank(
            integ,
            person_id,
            body.claimed_rank,
            body.claimed_command_function,
            body.grounds_code,
            body.effective_on,
            _cause(principal),
        )
        return _ok({"dispute_id": dispute_id}, 201)

    @router.post("/rank-disputes/{dispute_id}/decision")
    async def decide(dispute_id: str, body: s.DisputeDecisionBody, principal: Nic) -> JSONResponse:
        await ranks.decide_dispute(
            integ, dispute_id, body.outcome, body.decision_ref, body.effective_on, _cause(principal)
        )
        return _ok({"dispute_id": dispute_id, "outcome": body.outcome})

    @router.post("/candidates/{person_id}/recall")
    async def recall(person_id: str, body: s.PlacementBody, principal: Nic) -> JSONResponse:
        await place_outside_units(
            integ, person_id, "armed_forces_recall", body.destination, body.effective_on, _cause(principal)
        )
        return await _person(person_id)

    @router.post("/candidates/{person_id}/civil-service")
    async def civil_service(person_id: str, body: s.PlacementBody, principal: Nic) -> JSONResponse:
        await place_outside_units(
            integ, person_id, "civil_service", body.destination, body.effective_on, _cause(principal)
        )
        return await _person(person_id)

    @router.post("/service-records")
    async def service_records(body: s.ServiceEntriesBody, principal: Nic) -> JSONResponse:
        entries = [
            ServiceEntry(
                e.person_id, e.status, body.effective_on, e.discharge_kind, e.referred_to_reinsertion
            )
            for e in body.entries
        ]

        async def work(conn: Any) -> None:
            await record_entries(integ, conn, entries, _cause(principal))

        await integ.run(work)
        return _ok({"recorded": len(entries)})

    async def _person(person_id: str) -> JSONResponse:
        async with integ.engine.connect() as conn:
            return _ok(await queries.person(conn, person_id))

    # -- quotas -----------------------------------------------------------------------------------------

    @router.post("/quotas", status_code=201)
    async def create_quota(body: s.QuotaCreate, principal: Nic) -> JSONResponse:
        await quotas.set_quota(integ, quotas.QuotaDecision(**body.model_dump()), _cause(principal))
        return _ok({"quota_id": body.quota_id}, 201)

    @router.post("/quotas/{quota_id}/decisions")
    async def change_quota(quota_id: str, body: s.QuotaDecisionBody, principal: Nic) -> JSONResponse:
        await quotas.change_quota(
            integ, quota_id, body.limit, body.decision_ref, body.reason, body.effective_on, _cause(principal)
        )
        return await list_quotas_body()

    @router.get("/quotas")
    async def list_quotas(_: UnitReader) -> JSONResponse:
        return await list_quotas_body()

    async def list_quotas_body() -> JSONResponse:
        async with integ.engine.connect() as conn:
            return _ok({"items": await queries.quota_list(conn)})

    # -- rank rules -------------------------------------------------------------------------------------

    @router.post("/rank-rules", status_code=201)
    async def publish_rules(body: s.RankRulesBody, principal: Nic) -> JSONResponse:
        rules = [
            Rule(
                tuple(r.strip().lower() for r in x.movement_ranks),
                x.min_years,
                tuple(x.qualifications),
                x.rank,
                x.command_function,
            )
            for x in body.rules
        ]
        rule_set = ranks.rule_set_from(body.rule_version, body.decree_ref, body.effective_from, rules)
        await ranks.publish_rules(integ, rule_set, _cause(principal))
        return _ok({"rule_version": body.rule_version}, 201)

    @router.get("/rank-rules")
    async def list_rules(_: ProgrammeReader) -> JSONResponse:
        async with integ.engine.connect() as conn:
            return _ok({"items": await queries.rule_sets(conn)})

    # -- cohorts ----------------------------------------------------------------------------------------

    @router.post("/cohorts", status_code=201)
    async def open_cohort(body: s.CohortCreate, principal: Nic) -> JSONResponse:
        data = cohorts.CohortData(
            body.cohort_id,
            body.camp,
            body.capacity,
            body.starts_on,
            add_months(body.starts_on, body.length_months),
        )
        await cohorts.open_cohort(integ, data, _cause(principal))
        return await cohort_body(body.cohort_id, 201)

    @router.post("/cohorts/{cohort_id}/enrolments")
    async def enrol(cohort_id: str, body: s.EnrolBody, principal: Nic) -> JSONResponse:
        await cohorts.enrol(integ, cohort_id, body.person_ids, body.effective_on, _cause(principal))
        return await cohort_body(cohort_id)

    @router.post("/cohorts/{cohort_id}/outcomes")
    async def outcomes(cohort_id: str, body: s.TrainingOutcomesBody, principal: Nic) -> JSONResponse:
        pairs = [(o.person_id, o.outcome) for o in body.outcomes]
        await cohorts.record_outcomes(integ, cohort_id, pairs, body.effective_on, _cause(principal))
        return await cohort_body(cohort_id)

    @router.get("/cohorts/{cohort_id}")
    async def get_cohort(cohort_id: str, _: ProgrammeReader) -> JSONResponse:
        return await cohort_body(cohort_id)

    async def cohort_body(cohort_id: str, status_code: int = 200) -> JSONResponse:
        async with integ.engine.connect() as conn:
            return _ok(await queries.cohort(conn, cohort_id), status_code)

    # -- units ------------------------------------------------------------------------------------------

    @router.post("/units", status_code=201)
    async def establish(body: s.UnitCreate, principal: NicOrMod) -> JSONResponse:
        await units.establish_unit(integ, units.UnitData(**body.model_dump()), _cause(principal))
        return _ok({"unit_id": body.unit_id}, 201)

    @router.get("/units")
    async def list_units(_: UnitReader) -> JSONResponse:
        async with integ.engine.connect() as conn:
            return _ok({"items": await queries.unit_list(conn)})

    @router.post("/units/{unit_id}/armed-forces-contingent")
    async def contingent(unit_id: str, body: s.ContingentBody, principal: Mod) -> JSONResponse:
        await units.record_contingent(
            integ, unit_id, body.strength, body.command_posts, body.effective_on, _cause(principal)
        )
        return await composition_body(unit_id, body.effective_on)

    @router.post("/units/{unit_id}/assignments")
    async def assign(unit_id: str, body: s.AssignmentsBody, principal: Nic) -> JSONResponse:
        entries = [units.Assignment(a.person_id, a.command_post) for a in body.assignments]
        await units.assign(integ, unit_id, entries, body.effective_on, _cause(principal))
        return await composition_body(unit_id, body.effective_on)

    @router.get("/units/{unit_id}/composition")
    async def composition(unit_id: str, _: UnitReader, as_of: AsOf = None) -> JSONResponse:
        return await composition_body(unit_id, as_of or date.today())

    async def composition_body(unit_id: str, on: date) -> JSONResponse:
        async with integ.engine.connect() as conn:
            return _ok(await queries.unit_composition(integ, conn, unit_id, on))

    @router.get("/coalitions")
    async def coalitions(_: UnitReader, as_of: AsOf = None) -> JSONResponse:
        """Which coalition each movement belonged to on the date (registration's time-bound data)."""
        async with integ.engine.connect() as conn:
            return _ok(
                {
                    "as_of": as_of or date.today(),
                    "movements": await coalitions_on(conn, as_of or date.today()),
                }
            )

    # -- aggregates -------------------------------------------------------------------------------------

    @router.get("/figures")
    async def figures(_: UnitReader, as_of: AsOf = None) -> JSONResponse:
        async with integ.engine.connect() as conn:
            return _ok(await queries.figures(conn, as_of or date.today()))

    return [router]
