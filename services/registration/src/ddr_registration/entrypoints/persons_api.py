"""``/persons``: read, search, correct and register the people of the caseload."""

from __future__ import annotations

import dataclasses
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request
from starlette.responses import Response

from ddr_registration.domain.persons import Correction, Person
from ddr_registration.entrypoints.dependencies import Desk, Reads
from ddr_registration.entrypoints.ledger import Ledger, read_person, record_read, shown
from ddr_registration.entrypoints.roles import Officer, PersonReader, WeaponReader
from ddr_registration.entrypoints.schemas import (
    Erasure,
    PersonCorrection,
    PersonRegistration,
    PersonSearch,
    PersonToRegister,
)
from ddr_registration.service_layer import handlers
from ddr_registration.service_layer.handlers import Enrolment
from ddr_registration.service_layer.ports import Views
from ddr_runtime.auth.roles import Principal
from ddr_runtime.eventstore.unit import ItemOutcome
from ddr_runtime.http.idempotency import READ_ONLY
from ddr_runtime.http.paging import Limit, Offset
from ddr_runtime.http.problems import Conflict, FieldError, Unprocessable
from ddr_runtime.http.writes import (
    Atomic,
    BulkAnswer,
    Command,
    ExpectedVersion,
    bulk_answer,
    expected_version,
    json_response,
)
from ddr_runtime.kernel import RuleViolated, UnknownRecord

router = APIRouter(prefix="/persons", tags=["persons"])
registrations = APIRouter(prefix="/registrations", tags=["persons"])


@router.get("")
async def list_persons(
    request: Request,
    principal: PersonReader,
    reads: Reads,
    ledger: Ledger,
    movement: str | None = None,
    region: str | None = None,
    category: str | None = None,
    status: str | None = None,
    ddr_id: str | None = None,
    offset: Offset = 0,
    limit: Limit = 50,
) -> list[dict[str, Any]]:
    """The people the caller may see, filtered; to search by name, ``POST /persons/search`` (a name never
    travels in a URL, which proxies, logs and traces keep)."""
    if "name" in request.query_params:
        raise Unprocessable(
            "search by name with POST /persons/search: a name is never sent in a URL",
            errors=[FieldError("query.name", "not accepted here")],
        )
    found = await reads.search_persons(
        principal,
        movement=movement,
        region=region,
        category=category,
        status=status,
        ddr_id=ddr_id,
        offset=offset,
        limit=limit,
    )
    return await shown(reads, ledger, found)


@router.post("/search", dependencies=[READ_ONLY])
async def search_persons(
    body: PersonSearch, principal: PersonReader, reads: Reads, ledger: Ledger
) -> list[dict[str, Any]]:
    """People the caller may see whose names hold every word of ``name`` (any spelling or script of it),
    and every other filter given. A read: nothing is recorded but the read itself."""
    found = await reads.search_persons(principal, **body.model_dump())
    return await shown(reads, ledger, found)


@router.get("/{person_id}")
async def get_person(person_id: str, principal: PersonReader, reads: Reads, ledger: Ledger) -> Response:
    person = await read_person(reads, ledger, principal, person_id)
    return json_response(person, version=person["version"])


@router.get("/{person_id}/history")
async def person_history(
    person_id: str, principal: PersonReader, reads: Reads, ledger: Ledger
) -> list[dict[str, Any]]:
    await read_person(reads, ledger, principal, person_id)
    return await reads.person_history(principal, person_id)


@router.get("/{person_id}/weapons/reconciliation")
async def weapons_reconciliation(
    person_id: str, principal: WeaponReader, reads: Reads, ledger: Ledger
) -> dict[str, Any]:
    """The weapons the person's lists declared against those they handed over: declared but not handed over,
    handed over but not declared (by serial), and those received without a serial under the programme's mark."""
    await read_person(reads, ledger, principal, person_id)
    return await reads.reconciliation(principal, person_id)


@router.post("/{person_id}/corrections")
async def correct_person(
    person_id: str,
    body: PersonCorrection,
    principal: Officer,
    command: Command,
    version: ExpectedVersion,
    desk: Desk,
    reads: Reads,
    ledger: Ledger,
) -> Response:
    await read_person(reads, ledger, principal, person_id)
    correction = Correction(**body.model_dump(exclude={"reason", "on"}))
    if correction.region is not None and not principal.covers_region(correction.region):
        raise RuleViolated("region", "a person can be moved only to a region within the caller's regions")
    new_version = await handlers.correct_person(
        desk, person_id, correction, body.reason, version, command.causation, command.recording, body.on
    )
    return _written(person_id, new_version)


def _written(person_id: str, version: int) -> Response:
    """A write's answer that is the same for every person, adult or child: the person id and the record's
    new version, nothing read from the record (a correction of a birth date may make it a child's, which the
    caller then no longer reads: ``GET /persons/{id}`` applies the child rule). It holds no personal data, so
    the runtime keeps it as the idempotent answer and a replay answers it again as it was; naming the record
    with ``Content-Location`` would make a replay read it, and answer a child's with 404 where an adult's
    shows."""
    return json_response({"person_id": person_id, "version": version}, version=version)


def _person_answer(person: dict[str, Any], version: int) -> Response:
    """A write's answer showing the person's record: with ``Content-Location``, so the runtime keeps no copy of
    it as the idempotent answer (a replay reads the record again: after an erasure, without her names)."""
    return json_response(person, version=version, content_location=f"/persons/{person['person_id']}")


@router.post("/{person_id}/erasure")
async def erase_person(
    person_id: str,
    body: Erasure,
    principal: Officer,
    command: Command,
    version: ExpectedVersion,
    desk: Desk,
    reads: Reads,
    ledger: Ledger,
) -> Response:
    """Crypto-shred the person's personal data everywhere (their key is destroyed); irreversible.

    The record stays, closed, with what the figures need; its names, date of birth, commune, parents,
    biometric hash, movement reference and declared serials are gone from every event, topic, backup and
    read model. Every record a merge made one with it is erased with it."""
    await read_person(reads, ledger, principal, person_id)
    new_version = await handlers.erase_person(
        desk, person_id, body.reason_code, body.authority, version, command.causation
    )
    return _person_answer(await read_person(reads, ledger, principal, person_id), new_version)


def registration_precondition(if_match: Annotated[str | None, Header()] = None) -> int | None:
    """``If-Match`` as on every write, or ``*`` (any version) for a record the caller may register but not read
    (a child's): a registration overwrites nothing, and the record's own rules (registered once, not merged,
    not erased) are checked on it as it stands."""
    if if_match is not None and if_match.strip() == "*":
        return None
    return expected_version(if_match)


RegistrationVersion = Annotated[int | None, Depends(registration_precondition)]


@router.post("/{person_id}/registration")
async def register_person(
    person_id: str,
    body: PersonRegistration,
    principal: Officer,
    command: Command,
    version: RegistrationVersion,
    desk: Desk,
    reads: Reads,
    ledger: Ledger,
) -> Response:
    """Biometric registration at a site, on a day: the person gets a DDR ID (never before they were listed).
    A biometric already registered to another record gets 409 and issues none: the pair's duplicate case is
    made certain for the CNDDR, and the answer names the existing registration only to a caller allowed to
    see it.

    A registration officer registers a child in their movement and regions too (``If-Match: *``: they never
    read the record); the child is separated now and handed to child protection within 48 hours, whose clock
    this starts. The answer is the same for every person, adult or child: the person id and the record's new
    version (the record is read through ``GET``, which applies the child rule); it says nothing of whether
    the platform classed the person as a child, and a replay with its ``Idempotency-Key`` answers it again
    as it was."""
    enrolment = Enrolment(body.biometric_reference, body.site, body.on)
    try:
        done = await handlers.register_person(
            desk,
            person_id,
            enrolment,
            version,
            command.causation,
            command.recording,
            remit=lambda person: reads.may_register(principal, person),
        )
    except handlers.AlreadyRegistered as found:
        raise await already_registered(principal, reads, found) from None
    except UnknownRecord:
        await record_read(reads, ledger, [person_id], "not_visible")
        raise
    return _written(person_id, done.version)


@registrations.post("/bulk", response_model=BulkAnswer)
async def register_many(
    body: Annotated[list[PersonToRegister], Body(min_length=1, max_length=1000)],
    principal: Officer,
    command: Command,
    desk: Desk,
    reads: Reads,
    atomic: Atomic = False,
) -> BulkAnswer:
    """Many registrations at once (a site's day). Each is recorded or refused on its own, answered with its
    index, person and rule; sending the same batch again registers nobody twice (``registered-once``).
    ``atomic=true``: all or none.

    Each item's person is checked against the caller's scope in the item's own transaction, before anything
    is decided: one outside it is refused as ``unknown-person``, exactly like an id that does not exist, and
    nothing of it is written. A child in the caller's scope is registered (theirs to hand over to child
    protection, never to read); every recorded item answers alike, adult or child: the person and the
    record's new version (the record is read through ``GET /persons/{id}``)."""

    def remit(person: Person) -> bool:
        return reads.may_register(principal, person)

    items = [
        (item.person_id, Enrolment(item.biometric_reference, item.site, item.on), item.version)
        for item in body
    ]
    outcomes: list[ItemOutcome[Any]] = list(
        await handlers.register_people(
            desk, items, command.causation, command.recording, remit=remit, atomic=atomic
        )
    )
    return bulk_answer(
        [
            dataclasses.replace(outcome, result=_registered(outcome.result, body[outcome.index].person_id))
            if outcome.status == "recorded"
            else outcome
            for outcome in outcomes
        ],
        key=lambda index: body[index].person_id,
    )


def _registered(done: Any, person_id: str) -> dict[str, Any]:
    """A recorded registration as answered, the same keys for everyone: nothing in it depends on whether the
    person is a child (no DDR ID, no duplicate case: the record, read through GET, shows them to whoever may
    see it)."""
    assert isinstance(done, handlers.Registered)  # a recorded item has its result
    return {"person_id": person_id, "version": done.version}


async def already_registered(
    principal: Principal, reads: Views, found: handlers.AlreadyRegistered
) -> Conflict:
    """409 for a biometric registered to another record: its person id, DDR ID and the duplicate case for a
    caller who may see that record (the row-level access of reading it, and its region), nothing that
    identifies it for others."""
    extensions: dict[str, str] = {"rule": found.rule}
    if await _may_see(principal, reads, found.holder.person_id) and principal.covers_region(
        found.holder.region
    ):
        extensions |= {
            "existing_person_id": found.holder.person_id,
            "existing_ddr_id": found.holder.ddr_id,
            "duplicate_case_id": found.case_id,
        }
    detail = (
        "this biometric reference is already registered: no second DDR ID; the CNDDR resolves the duplicate"
    )
    return Conflict(detail, extensions=extensions)


async def _may_see(principal: Principal, reads: Views, person_id: str) -> bool:
    try:
        await reads.get_person(principal, person_id)
    except UnknownRecord:
        return False
    return True
