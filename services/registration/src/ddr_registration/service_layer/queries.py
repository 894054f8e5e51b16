"""Reads for the commissions' API, with row-level access applied in every query that returns people.

A record the caller may not see is answered exactly as one that does not exist (UnknownRecord: 404), so a
liaison cannot even learn that another movement's person is on file.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, Select, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_registration.adapters.tables import (
    coalition_memberships,
    duplicates,
    list_rows,
    list_versions,
    lists,
    movements,
    persons,
    weapons,
)
from ddr_registration.domain import identity
from ddr_registration.domain.errors import UnknownRecord
from ddr_registration.domain.lists import list_stream
from ddr_registration.domain.persons import person_stream
from ddr_registration.service_layer.access import may_see_movement, may_see_person, visible_persons
from ddr_registration.service_layer.unit import Registration
from ddr_runtime.auth.roles import Principal, Role
from ddr_runtime.eventstore.store import RecordedEvent

NAME_SCAN_LIMIT = 5000
REASON_READERS = (Role.CNDDR_OFFICER, Role.MOVEMENT_LIAISON, Role.AUDITOR)


def _plain(row: Row[Any], *skip: str) -> dict[str, Any]:
    return {key: value for key, value in row._mapping.items() if key not in skip}


# -- movements -------------------------------------------------------------------------------------------


async def list_movements(reg: Registration) -> list[dict[str, Any]]:
    async with reg.engine.connect() as conn:
        rows = (await conn.execute(select(movements).order_by(movements.c.code))).all()
        return [await _movement(conn, row) for row in rows]


async def get_movement(reg: Registration, code: str) -> dict[str, Any]:
    async with reg.engine.connect() as conn:
        row = (await conn.execute(select(movements).where(movements.c.code == code))).first()
        if row is None:
            raise UnknownRecord("movement", code)
        return await _movement(conn, row)


async def _movement(conn: AsyncConnection, row: Row[Any]) -> dict[str, Any]:
    memberships = (
        await conn.execute(
            select(coalition_memberships)
            .where(
                or_(
                    coalition_memberships.c.movement == row.code,
                    coalition_memberships.c.coalition == row.code,
                )
            )
            .order_by(coalition_memberships.c.since)
        )
    ).all()
    return {
        **_plain(row),
        "memberships": [
            {"movement": m.movement, "coalition": m.coalition, "since": m.since, "until": m.until}
            for m in memberships
        ],
    }


# -- lists -----------------------------------------------------------------------------------------------


async def list_lists(reg: Registration, principal: Principal) -> list[dict[str, Any]]:
    async with reg.engine.connect() as conn:
        rows = (await conn.execute(select(lists).order_by(lists.c.movement))).all()
    return [_plain(row) for row in rows if may_see_movement(principal, row.movement)]


async def get_list(reg: Registration, principal: Principal, list_id: str) -> dict[str, Any]:
    async with reg.engine.connect() as conn:
        row = (await conn.execute(select(lists).where(lists.c.list_id == list_id))).first()
        if row is None or not may_see_movement(principal, row.movement):
            raise UnknownRecord("list", list_id)
        versions = (
            await conn.execute(
                select(list_versions)
                .where(list_versions.c.list_id == list_id)
                .order_by(list_versions.c.list_version)
            )
        ).all()
    return {
        **_plain(row),
        "versions": [
            {**_plain(v, "list_id", "movement"), "superseded": v.list_version != row.latest_version}
            for v in versions
        ],
    }


async def list_history(reg: Registration, principal: Principal, list_id: str) -> list[dict[str, Any]]:
    """Each step of the list (versions submitted, certified, endorsed) with its author and time."""
    await get_list(reg, principal, list_id)
    return [_entry(list_id, recorded) for recorded in await reg.repository.history(list_stream(list_id))]


def _entry(key: str, recorded: RecordedEvent) -> dict[str, Any]:
    return {
        "person_id" if recorded.envelope.streamid.startswith("person-") else "record_id": key,
        "type": recorded.envelope.type,
        "stream_version": recorded.version,
        "actor": recorded.envelope.actor,
        "recorded_at": recorded.envelope.recordedat,
        "occurred_at": recorded.envelope.occurredat,
        "data": recorded.event.model_dump(mode="json"),
    }


async def list_report(
    reg: Registration, principal: Principal, list_id: str, number: int, offset: int, limit: int
) -> list[dict[str, Any]]:
    """Each row of one imported version with its status; the reason of a refused row is opened here."""
    await get_list(reg, principal, list_id)
    async with reg.engine.connect() as conn:
        query = (
            select(list_rows, persons.c.category, persons.c.movement.label("person_movement"))
            .outerjoin(persons, persons.c.person_id == list_rows.c.person_id)
            .where(list_rows.c.list_id == list_id, list_rows.c.list_version == number)
            .order_by(list_rows.c.line, list_rows.c.id)
            .offset(offset)
            .limit(limit)
        )
        rows = (await conn.execute(query)).all()
    # A refused row's reason quotes the faulty value: for those who submit or run the lists, not the CTS or NIC.
    may_read_reasons = principal.has_any(*REASON_READERS)
    sealed = [(list_id, (row.sealed_reason or {}) if may_read_reasons else {}) for row in rows]
    opened = await reg.store.cipher.decrypt_many(sealed)
    report = []
    for row, reason in zip(rows, opened, strict=True):
        hidden = row.person_id is not None and not may_see_person(
            principal, row.person_movement or "", row.category or ""
        )
        report.append(
            {
                "line": row.line,
                "status": row.status,
                "movement_ref": row.movement_ref,
                "person_id": None if hidden else row.person_id,
                "column": row.column_name,
                "reason": reason.get("reason"),
            }
        )
    return report


# -- persons ---------------------------------------------------------------------------------------------


async def get_person(reg: Registration, principal: Principal, person_id: str) -> dict[str, Any]:
    async with reg.engine.connect() as conn:
        row = (await conn.execute(select(persons).where(persons.c.person_id == person_id))).first()
    if row is None or not may_see_person(principal, row.movement, row.category):
        raise UnknownRecord("person", person_id)
    identity = await reg.projector.open_identity(person_id, row.sealed_identity)
    return {**_plain(row, "seq", "sealed_identity", "biometric_hash"), **identity}


async def search_persons(
    reg: Registration,
    principal: Principal,
    *,
    movement: str | None = None,
    region: str | None = None,
    category: str | None = None,
    status: str | None = None,
    ddr_id: str | None = None,
    name: str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> list[dict[str, Any]]:
    """People matching every filter given, among those the caller may see.

    Names are stored encrypted, so a name filter opens the names of the (bounded) filtered set here.
    """
    conditions = [visible_persons(principal)]
    for column, value in (
        (persons.c.movement, movement),
        (persons.c.region, region),
        (persons.c.category, category),
        (persons.c.status, status),
        (persons.c.ddr_id, ddr_id),
    ):
        if value is not None:
            conditions.append(column == value)
    query = select(persons).where(and_(*conditions)).order_by(persons.c.seq)
    query = query.limit(NAME_SCAN_LIMIT) if name else query.offset(offset).limit(limit)
    async with reg.engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    opened = await reg.store.cipher.decrypt_many([(row.person_id, row.sealed_identity) for row in rows])
    found = [
        {**_plain(row, "seq", "sealed_identity", "biometric_hash"), **identity}
        for row, identity in zip(rows, opened, strict=True)
    ]
    if name:
        wanted = name.casefold()
        found = [
            p
            for p in found
            if any(wanted in (p.get(k) or "").casefold() for k in ("full_name", "full_name_arabic"))
        ][offset : offset + limit]
    return found


async def person_history(reg: Registration, principal: Principal, person_id: str) -> list[dict[str, Any]]:
    """The person's events, and those of every record merged into theirs, in recorded order."""
    await get_person(reg, principal, person_id)
    streams = [person_id]
    seen: set[str] = set()
    history: list[dict[str, Any]] = []
    while streams:
        current = streams.pop()
        if current in seen:
            continue
        seen.add(current)
        for recorded in await reg.repository.history(person_stream(current)):
            absorbed = getattr(recorded.event, "absorbed_person_id", None)
            if isinstance(absorbed, str):
                streams.append(absorbed)
            history.append(_entry(current, recorded))
    history.sort(key=lambda entry: (entry["recorded_at"], entry["person_id"], entry["stream_version"]))
    return history


# -- duplicates ------------------------------------------------------------------------------------------


def _visible_duplicates(principal: Principal) -> Select[Any]:
    """Cases where the caller may see both people (a liaison: both of their movement, neither a child), with
    both people's sealed identities, from which the reasons' text is built."""
    one, other = persons.alias("one"), persons.alias("other")
    return (
        select(
            duplicates,
            one.c.sealed_identity.label("identity"),
            other.c.sealed_identity.label("other_identity"),
        )
        .join(one, one.c.person_id == duplicates.c.person_id)
        .join(other, other.c.person_id == duplicates.c.other_person_id)
        .where(visible_persons(principal, one), visible_persons(principal, other))
    )


async def list_duplicates(
    reg: Registration,
    principal: Principal,
    status: str | None,
    offset: int,
    limit: int,
    *,
    certain: bool | None = None,
) -> list[dict[str, Any]]:
    query = _visible_duplicates(principal).order_by(duplicates.c.case_id)
    if status is not None:
        query = query.where(duplicates.c.status == status)
    if certain is not None:
        query = query.where(duplicates.c.certain == certain)
    async with reg.engine.connect() as conn:
        rows = (await conn.execute(query.offset(offset).limit(limit))).all()
    return await _duplicate_cases(reg, rows, explain=True)


async def get_duplicate(
    reg: Registration, principal: Principal, case_id: str, *, explain: bool = True
) -> dict[str, Any]:
    """One case the caller may see; ``explain``: with its reasons as sentences quoting both people's names
    (leave it out of anything that is stored, such as an idempotent answer)."""
    query = _visible_duplicates(principal).where(duplicates.c.case_id == case_id)
    async with reg.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise UnknownRecord("duplicate", case_id)
    (case,) = await _duplicate_cases(reg, [row], explain=explain)
    return case


async def _duplicate_cases(
    reg: Registration, rows: Sequence[Row[Any]], *, explain: bool
) -> list[dict[str, Any]]:
    """Cases as the API shows them: the stored reason codes and, with ``explain``, the same reasons as
    sentences, names quoted from both people's records (opened here, for this answer only)."""
    cases = []
    opened: list[dict[str, Any]] = []
    if explain:
        opened = await reg.store.cipher.decrypt_many(
            [(row.person_id, row.identity) for row in rows]
            + [(row.other_person_id, row.other_identity) for row in rows]
        )
    for k, row in enumerate(rows):
        case = _plain(row, "identity", "other_identity")
        reasons = reason_codes(row.reasons)
        case["reasons"] = [{"kind": r.kind, "score": r.score} for r in reasons]
        if explain:
            first, second = opened[k], opened[len(rows) + k]
            case["explanation"] = identity.explain(reasons, _name(first), _name(second))
        cases.append(case)
    return cases


def reason_codes(stored: Any) -> list[identity.Reason]:
    """The reasons of a read-model row as codes; anything else (a sentence stored by an older version) is
    left out, never shown."""
    found = []
    for item in stored or ():
        if isinstance(item, dict) and item.get("kind") in identity.REASON_KINDS:
            score = item.get("score")
            found.append(identity.Reason(item["kind"], float(score) if score is not None else None))
    return found


def _name(opened: dict[str, Any]) -> str | None:
    name = opened.get("full_name") or opened.get("full_name_arabic")
    return str(name) if name else None


# -- weapons ---------------------------------------------------------------------------------------------


async def list_weapons(
    reg: Registration,
    principal: Principal,
    *,
    serial_key: str | None,
    person_id: str | None,
    flagged: bool | None,
    offset: int,
    limit: int,
) -> list[dict[str, Any]]:
    query = (
        select(weapons)
        .join(persons, persons.c.person_id == weapons.c.person_id)
        .where(visible_persons(principal))
        .order_by(weapons.c.weapon_id)
    )
    if serial_key is not None:
        query = query.where(weapons.c.serial_key == serial_key)
    if person_id is not None:
        query = query.where(weapons.c.person_id == person_id)
    if flagged is not None:
        query = query.where(weapons.c.flagged == flagged)
    async with reg.engine.connect() as conn:
        rows = (await conn.execute(query.offset(offset).limit(limit))).all()
    return [_plain(row, "serial_key") for row in rows]


async def get_weapon(reg: Registration, principal: Principal, weapon_id: str) -> dict[str, Any]:
    query = (
        select(weapons, persons.c.category)
        .join(persons, persons.c.person_id == weapons.c.person_id)
        .where(weapons.c.weapon_id == weapon_id)
    )
    async with reg.engine.connect() as conn:
        row = (await conn.execute(query)).first()
    if row is None or not may_see_person(principal, row.movement, row.category):
        raise UnknownRecord("weapon", weapon_id)
    return _plain(row, "serial_key", "category")
