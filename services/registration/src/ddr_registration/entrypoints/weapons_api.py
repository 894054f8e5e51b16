"""``/weapons``: the register of weapons and ammunition handed over, with receipts and custody."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Body
from starlette.responses import Response

from ddr_registration.domain.persons import Person
from ddr_registration.domain.weapons import HandOver
from ddr_registration.entrypoints.dependencies import Desk, Reads
from ddr_registration.entrypoints.ledger import Ledger, read_person, shown
from ddr_registration.entrypoints.roles import WeaponReader, WeaponRecorder
from ddr_registration.entrypoints.schemas import CustodyTransfer, WeaponHandOver
from ddr_registration.service_layer import handlers
from ddr_runtime.eventstore.unit import ItemOutcome
from ddr_runtime.http.paging import Limit, Offset
from ddr_runtime.http.writes import Atomic, BulkAnswer, Command, ExpectedVersion, bulk_answer, json_response

router = APIRouter(prefix="/weapons", tags=["weapons"])


@router.post("", status_code=201)
async def hand_over(
    body: WeaponHandOver,
    principal: WeaponRecorder,
    command: Command,
    desk: Desk,
    reads: Reads,
    ledger: Ledger,
) -> Response:
    """Record a weapon or lot handed over; the answer carries the receipt (given to everyone, eligible
    or not) and whether the serial was already handed over."""
    await read_person(reads, ledger, principal, body.person_id)
    done = await handlers.hand_over_weapon(
        desk,
        body.person_id,
        _item(body),
        command.causation,
        command.recording,
        body.on,
        remit=lambda person: reads.may_act_on(principal, person),
    )
    return json_response(
        await reads.get_weapon(principal, done.weapon_id),
        201,
        version=done.version,
        location=f"/weapons/{done.weapon_id}",
    )


@router.post("/bulk", response_model=BulkAnswer)
async def hand_over_many(
    body: Annotated[list[WeaponHandOver], Body(min_length=1, max_length=1000)],
    principal: WeaponRecorder,
    command: Command,
    desk: Desk,
    reads: Reads,
    atomic: Atomic = False,
) -> BulkAnswer:
    """Many hand-overs at once (a collection point's day). Each is recorded or refused on its own, answered
    with its index, person and rule; sending the same batch again records nothing twice (each is known by
    its person and tag). ``atomic=true``: all or none. Each item's person is checked against the caller's
    scope in the item's own transaction, before anything is decided: one the caller may not see is refused as
    ``unknown-person``, exactly like an id that does not exist, and nothing of it is written."""

    def remit(person: Person) -> bool:
        return reads.may_act_on(principal, person)

    items = [(item.person_id, _item(item), item.on) for item in body]
    outcomes: list[ItemOutcome[Any]] = list(
        await handlers.hand_over_weapons(
            desk, items, command.causation, command.recording, remit=remit, atomic=atomic
        )
    )
    return bulk_answer(outcomes, key=lambda index: body[index].person_id, result=dataclasses.asdict)


def _item(body: WeaponHandOver) -> HandOver:
    return HandOver(**body.model_dump(exclude={"person_id", "on"}))


@router.get("")
async def list_weapons(
    principal: WeaponReader,
    reads: Reads,
    ledger: Ledger,
    serial: str | None = None,
    person_id: str | None = None,
    flagged: bool | None = None,
    needs_tracing: bool | None = None,
    offset: Offset = 0,
    limit: Limit = 100,
) -> list[dict[str, Any]]:
    """The register; ``flagged``: serials handed over before; ``needs_tracing``: weapons received without a
    readable serial, under the programme's mark."""
    found = await reads.list_weapons(
        principal,
        serial=serial,
        person_id=person_id,
        flagged=flagged,
        offset=offset,
        limit=limit,
        needs_tracing=needs_tracing,
    )
    return await shown(reads, ledger, found)


@router.get("/{weapon_id}")
async def get_weapon(weapon_id: str, principal: WeaponReader, reads: Reads, ledger: Ledger) -> Response:
    weapon = (await shown(reads, ledger, [await reads.get_weapon(principal, weapon_id)]))[0]
    return json_response(weapon, version=weapon["version"])


@router.post("/{weapon_id}/custody-transfers")
async def transfer_custody(
    weapon_id: str,
    body: CustodyTransfer,
    principal: WeaponRecorder,
    command: Command,
    version: ExpectedVersion,
    desk: Desk,
    reads: Reads,
) -> Response:
    """A custody transfer, signed by the side releasing the weapon and the side receiving it."""
    await reads.get_weapon(principal, weapon_id)
    new_version = await handlers.transfer_custody(
        desk,
        weapon_id,
        body.from_custodian,
        body.to_custodian,
        body.released_by,
        body.received_by,
        version,
        command.causation,
        command.recording,
        body.on,
    )
    return json_response(await reads.get_weapon(principal, weapon_id), version=new_version)
