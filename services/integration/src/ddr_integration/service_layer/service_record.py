"""The service record after placement: serving, absent, deserted, returned, discharged, each dated.

A unit member's entries go on the unit's stream (they change its composition); others on the person's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.integration import ServiceStatusChanged
from ddr_integration.adapters import readmodel as rm
from ddr_integration.adapters.tables import people, postings, service_records, units
from ddr_integration.domain.candidates import Person, ensure_service_transition
from ddr_integration.domain.errors import RuleViolated, UnknownRecord
from ddr_integration.service_layer.unit import Integration, person_stream, unit_stream
from ddr_runtime.eventstore.store import Causation

DISCHARGE_KINDS = ("medical", "voluntary", "disciplinary", "other")


@dataclass(frozen=True)
class ServiceEntry:
    person_id: str
    status: str
    effective_on: date
    discharge_kind: str | None = None
    referred_to_reinsertion: bool = False


def _validate(entry: ServiceEntry) -> None:
    if entry.status == "discharged":
        if entry.discharge_kind not in DISCHARGE_KINDS:
            raise RuleViolated(
                "discharge_kind", f"a discharge names its kind: one of {', '.join(DISCHARGE_KINDS)}"
            )
    elif entry.discharge_kind is not None or entry.referred_to_reinsertion:
        raise RuleViolated("discharge_kind", "only a discharge has a kind or refers to reinsertion")


def _event(person: Person, entry: ServiceEntry) -> ServiceStatusChanged:
    return ServiceStatusChanged(
        person_id=person.person_id,
        unit=person.unit_id,
        status=entry.status,
        effective_on=entry.effective_on,
        discharge_kind=entry.discharge_kind,
        referred_to_reinsertion=entry.referred_to_reinsertion,
    )


async def _apply(conn: AsyncConnection, person: Person, entry: ServiceEntry) -> None:
    """The read model of one entry: the posting closes on desertion or discharge, reopens on return."""
    pid, on = person.person_id, entry.effective_on
    if person.unit_id is not None:
        if entry.status in ("deserted", "discharged"):
            await conn.execute(
                update(postings)
                .where(postings.c.person_id == pid, postings.c.end_on.is_(None))
                .values(end_on=on)
            )
        elif entry.status == "returned" and await rm.open_posting(conn, pid) is None:
            await conn.execute(
                insert(postings).values(
                    unit_id=person.unit_id,
                    person_id=pid,
                    movement=person.movement,
                    command_post=await _had_command(conn, pid),
                    start_on=on,
                    end_on=None,
                )
            )
    await conn.execute(
        insert(service_records).values(
            person_id=pid,
            unit_id=person.unit_id,
            status=entry.status,
            effective_on=on,
            discharge_kind=entry.discharge_kind,
            referred_to_reinsertion=entry.referred_to_reinsertion,
        )
    )
    ended = {"ended_on": on} if entry.status == "discharged" else {}
    await rm.update_person(conn, pid, service_status=entry.status, service_since=on, **ended)


async def _had_command(conn: AsyncConnection, person_id: str) -> bool:
    row = (await conn.execute(people.select().where(people.c.person_id == person_id))).first()
    return bool(row is not None and row.command_post)


async def record_entries(
    integ: Integration,
    conn: AsyncConnection,
    entries: Sequence[ServiceEntry],
    cause: Causation,
    *,
    enforce_transition: bool = True,
) -> None:
    """Record entries, all or nothing: unit members' entries in one append per unit, others per person."""
    known = await rm.load_people(conn, [e.person_id for e in entries])
    by_unit: dict[str, list[tuple[Person, ServiceEntry]]] = {}
    for entry in entries:
        _validate(entry)
        if entry.person_id not in known:
            raise UnknownRecord("person", entry.person_id)
        person, version = known[entry.person_id]
        if enforce_transition:
            ensure_service_transition(person, entry.status, entry.effective_on)
        if person.unit_id is None:
            version = await integ.append(
                conn,
                person_stream(person.person_id),
                version,
                [(_event(person, entry), person.person_id, entry.effective_on)],
                cause,
            )
            await rm.update_person(conn, person.person_id, version=version)
            await _apply(conn, person, entry)
        else:
            by_unit.setdefault(person.unit_id, []).append((person, entry))
        known[entry.person_id] = (
            Person(
                **{**person.__dict__, "service_status": entry.status, "service_since": entry.effective_on}
            ),
            version,
        )
    for unit_id, items in by_unit.items():
        unit = await rm.unit_row(conn, unit_id)
        if unit is None:
            raise UnknownRecord("unit", unit_id)
        new_version = await integ.append(
            conn,
            unit_stream(unit_id),
            unit.version,
            [(_event(person, entry), person.person_id, entry.effective_on) for person, entry in items],
            cause,
        )
        last = max(
            [e.effective_on for _, e in items] + ([unit.last_change_on] if unit.last_change_on else [])
        )
        await conn.execute(
            update(units).where(units.c.unit_id == unit_id).values(version=new_version, last_change_on=last)
        )
        for person, entry in items:
            await _apply(conn, person, entry)


async def change_service_status(
    integ: Integration,
    conn: AsyncConnection,
    person: Person,
    version: int,
    status: str,
    on: date,
    cause: Causation,
    *,
    discharge_kind: str | None = None,
    referred_to_reinsertion: bool = False,
    enforce_transition: bool = True,
) -> None:
    del version  # the entry is appended at the version the read model holds now
    await record_entries(
        integ,
        conn,
        [ServiceEntry(person.person_id, status, on, discharge_kind, referred_to_reinsertion)],
        cause,
        enforce_transition=enforce_transition,
    )
