"""``/persons``: read, search, correct and register the people of the caseload."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from ddr_registration.domain.errors import AlreadyRegistered
from ddr_registration.domain.persons import Correction
from ddr_registration.entrypoints.http_support import (
    ExpectedVersion,
    IdempotencyKey,
    idempotent,
    json_response,
)
from ddr_registration.entrypoints.schemas import Erasure, PersonCorrection, PersonRegistration
from ddr_registration.service_layer import handlers, queries
from ddr_registration.service_layer.access import may_see_person
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.auth.dependencies import require_roles
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import Causation
from ddr_runtime.http.idempotency import IdempotencyStore
from ddr_runtime.http.problems import Conflict

Officer = Annotated[Principal, Depends(require_roles(Role.CNDDR_OFFICER))]
Reader = Annotated[
    Principal,
    Depends(
        require_roles(
            Role.CNDDR_OFFICER, Role.NIC_OFFICER, Role.AUDITOR, Role.MOVEMENT_LIAISON, Role.CHILD_PROTECTION
        )
    ),
]


def persons_router(reg: Registration, keys: IdempotencyStore) -> APIRouter:
    router = APIRouter(prefix="/persons", tags=["persons"])

    @router.get("")
    async def search_persons(
        principal: Reader,
        movement: str | None = None,
        region: str | None = None,
        category: str | None = None,
        status: str | None = None,
        ddr_id: str | None = None,
        name: Annotated[str | None, Query(min_length=2, max_length=200)] = None,
        offset: Annotated[int, Query(ge=0)] = 0,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> list[dict[str, Any]]:
        return await queries.search_persons(
            reg,
            principal,
            movement=movement,
            region=region,
            category=category,
            status=status,
            ddr_id=ddr_id,
            name=name,
            offset=offset,
            limit=limit,
        )

    @router.get("/{person_id}")
    async def get_person(person_id: str, principal: Reader) -> Response:
        person = await queries.get_person(reg, principal, person_id)
        return json_response(person, version=person["version"])

    @router.get("/{person_id}/history")
    async def person_history(person_id: str, principal: Reader) -> list[dict[str, Any]]:
        return await queries.person_history(reg, principal, person_id)

    @router.post("/{person_id}/corrections")
    async def correct_person(
        person_id: str,
        body: PersonCorrection,
        principal: Officer,
        version: ExpectedVersion,
        request: Request,
        key: IdempotencyKey = None,
    ) -> Response:
        async def run() -> Any:
            await queries.get_person(reg, principal, person_id)
            correction = Correction(**body.model_dump(exclude={"reason"}))
            new_version = await handlers.correct_person(
                reg, person_id, correction, body.reason, version, Causation(actor=principal.subject)
            )
            return json_response(await queries.get_person(reg, principal, person_id), version=new_version)

        return await idempotent(keys, principal, key, request, f"{version}\n{body.model_dump_json()}", run)

    @router.post("/{person_id}/erasure")
    async def erase_person(
        person_id: str, body: Erasure, principal: Officer, version: ExpectedVersion
    ) -> Response:
        """Crypto-shred the person's personal data everywhere (their key is destroyed); irreversible.

        The record stays, closed, with what the figures need; its names, date of birth, commune, parents,
        biometric hash and movement reference are gone from every event, topic, backup and read model."""
        await queries.get_person(reg, principal, person_id)
        new_version = await handlers.erase_person(
            reg, person_id, body.reason_code, body.authority, version, Causation(actor=principal.subject)
        )
        return json_response(await queries.get_person(reg, principal, person_id), version=new_version)

    @router.post("/{person_id}/registration")
    async def register_person(
        person_id: str,
        body: PersonRegistration,
        principal: Officer,
        version: ExpectedVersion,
        request: Request,
        key: IdempotencyKey = None,
    ) -> Response:
        """Issue a DDR ID. A biometric already registered to another record gets 409 and issues none: the
        pair's duplicate case is made certain for the CNDDR, and the answer names the existing registration
        only to a caller allowed to see it."""

        async def run() -> Any:
            await queries.get_person(reg, principal, person_id)
            try:
                done = await handlers.register_person(
                    reg, person_id, body.biometric_reference, version, Causation(actor=principal.subject)
                )
            except AlreadyRegistered as found:
                raise already_registered(principal, found) from None
            answer = {"person_id": person_id, "ddr_id": done.ddr_id, "duplicate_cases": done.duplicate_cases}
            return json_response(answer, version=done.version)

        return await idempotent(keys, principal, key, request, f"{version}\n{body.model_dump_json()}", run)

    return router


def already_registered(principal: Principal, found: AlreadyRegistered) -> Conflict:
    """409 for a biometric registered to another record: its person id, DDR ID and the duplicate case for a
    caller who may see that record (movement, children, region), nothing that identifies it for others."""
    extensions: dict[str, str] = {"rule": found.rule}
    if may_see_person(principal, found.movement, found.category) and principal.covers_region(found.region):
        extensions |= {
            "existing_person_id": found.person_id,
            "existing_ddr_id": found.ddr_id,
            "duplicate_case_id": found.case_id,
        }
    detail = (
        "this biometric reference is already registered: no second DDR ID; the CNDDR resolves the duplicate"
    )
    return Conflict(detail, extensions=extensions)
