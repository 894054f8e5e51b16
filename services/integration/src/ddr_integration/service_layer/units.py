"""Units as data, the armed forces' own contingent, and assignment under the rule of thirds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.events import DomainEvent
from ddr_contracts.integration import (
    ArmedForcesContingentRecorded,
    MemberAssigned,
    ServiceStatusChanged,
    UnitEstablished,
)
from ddr_integration.adapters import readmodel as rm
from ddr_integration.adapters.tables import contingents, people, postings, service_records, units
from ddr_integration.domain.candidates import ensure_can_assign
from ddr_integration.domain.errors import AlreadyExists, RuleViolated, UnknownRecord
from ddr_integration.domain.ranks import NO_COMMAND
from ddr_integration.domain.thirds import check_assignment, parties_of, validate_tolerance, with_members
from ddr_integration.service_layer.unit import Integration, unit_stream
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation


@dataclass(frozen=True)
class UnitData:
    unit_id: str
    display_name: str
    kind: str
    location: str
    establishment: int
    thirds_applies: bool = True
    tolerance: float = 0.02


@dataclass(frozen=True)
class Assignment:
    person_id: str
    command_post: bool | None = None  # None: a post when the allocated rank carries a command function


async def establish_unit(integ: Integration, data: UnitData, cause: Causation) -> None:
    if data.establishment < 1:
        raise RuleViolated("establishment", "a unit's establishment is at least 1")
    validate_tolerance(data.tolerance)

    async def work(conn: AsyncConnection) -> None:
        if await rm.unit_row(conn, data.unit_id) is not None:
            raise AlreadyExists("unit", data.unit_id)
        event = UnitEstablished(
            unit_id=data.unit_id,
            display_name=data.display_name,
            kind=data.kind,
            location=data.location,
            establishment=data.establishment,
            thirds_applies=data.thirds_applies,
            tolerance=data.tolerance,
        )
        try:
            version = await integ.append(
                conn, unit_stream(data.unit_id), 0, [(event, data.unit_id, date.today())], cause
            )
        except ConcurrencyConflict:
            raise AlreadyExists("unit", data.unit_id) from None
        await conn.execute(insert(units).values(version=version, last_change_on=None, **data.__dict__))

    await integ.run(work, retries=0)


async def record_contingent(
    integ: Integration, unit_id: str, strength: int, command_posts: int, on: date, cause: Causation
) -> None:
    if strength < 0 or command_posts < 0 or command_posts > strength:
        raise RuleViolated(
            "contingent", "strength and command posts are counts, with no more posts than members"
        )

    async def work(conn: AsyncConnection) -> None:
        unit = await rm.unit_row(conn, unit_id)
        if unit is None:
            raise UnknownRecord("unit", unit_id)
        event = ArmedForcesContingentRecorded(
            unit_id=unit_id, strength=strength, command_posts=command_posts, effective_on=on
        )
        version = await integ.append(conn, unit_stream(unit_id), unit.version, [(event, unit_id, on)], cause)
        await conn.execute(
            insert(contingents).values(
                unit_id=unit_id, effective_on=on, strength=strength, command_posts=command_posts
            )
        )
        last = max(on, unit.last_change_on) if unit.last_change_on else on
        await conn.execute(
            update(units).where(units.c.unit_id == unit_id).values(version=version, last_change_on=last)
        )

    await integ.run(work)


async def assign(
    integ: Integration, unit_id: str, entries: Sequence[Assignment], on: date, cause: Causation
) -> dict[str, object]:
    """Assign members to the unit from ``on`` in one decision, all or nothing, judged against the rule of
    thirds on the unit it leaves (figures as of ``on``). Returns the composition after it."""
    if not entries:
        raise RuleViolated("assignments", "nothing to assign")
    if len({e.person_id for e in entries}) != len(entries):
        raise RuleViolated("assignments", "a person appears twice in one assignment")

    async def work(conn: AsyncConnection) -> dict[str, object]:
        unit = await rm.unit_row(conn, unit_id)
        if unit is None:
            raise UnknownRecord("unit", unit_id)
        if unit.last_change_on is not None and on < unit.last_change_on:
            raise RuleViolated(
                "backdated_assignment",
                "assignments are recorded in date order: the unit changed on a later date",
                {"last_change_on": unit.last_change_on.isoformat()},
            )
        known = await rm.load_people(conn, [e.person_id for e in entries])
        parties = await rm.coalitions_on(conn, on)
        before = await rm.composition(conn, unit_id, on, parties)
        added: list[tuple[str, bool]] = []
        rows: list[tuple[str, str, str, bool]] = []
        for entry in entries:
            if entry.person_id not in known:
                raise UnknownRecord("person", entry.person_id)
            person, _ = known[entry.person_id]
            ensure_can_assign(person)
            party = parties.get(person.movement, person.movement)
            command_post = (
                entry.command_post
                if entry.command_post is not None
                else (person.command_function or NO_COMMAND) != NO_COMMAND
            )
            added.append((party, command_post))
            rows.append((person.person_id, person.movement, party, command_post))
        if before.total_strength + len(rows) > unit.establishment:
            raise RuleViolated(
                "unit_full",
                f"{unit_id} would exceed its establishment of {unit.establishment}",
                {
                    "establishment": unit.establishment,
                    "strength": before.total_strength,
                    "assigned": len(rows),
                },
                capacity=True,
            )
        after = (
            check_assignment(before, added, integ.coalitions, unit.tolerance)
            if unit.thirds_applies
            else with_members(before, added)
        )
        events: list[tuple[DomainEvent, str, date]] = []
        for pid, movement, party, command_post in rows:
            assigned = MemberAssigned(
                unit_id=unit_id,
                person_id=pid,
                movement=movement,
                party=party,
                command_post=command_post,
                effective_on=on,
            )
            events.append((assigned, pid, on))
            events.append(
                (
                    ServiceStatusChanged(person_id=pid, unit=unit_id, status="serving", effective_on=on),
                    pid,
                    on,
                )
            )
        version = await integ.append(conn, unit_stream(unit_id), unit.version, events, cause)
        if not await rm.claim_placements(conn, [r[0] for r in rows]):
            raise ConcurrencyConflict(f"person placement in {unit_id}", 0)
        await conn.execute(
            insert(postings),
            [
                {
                    "unit_id": unit_id,
                    "person_id": p,
                    "movement": m,
                    "command_post": c,
                    "start_on": on,
                    "end_on": None,
                }
                for p, m, _, c in rows
            ],
        )
        await conn.execute(
            insert(service_records),
            [
                {
                    "person_id": p,
                    "unit_id": unit_id,
                    "status": "serving",
                    "effective_on": on,
                    "discharge_kind": None,
                    "referred_to_reinsertion": False,
                }
                for p, _, _, _ in rows
            ],
        )
        for command_post in (True, False):  # one statement each, not one per member
            ids = [p for p, _, _, c in rows if c is command_post]
            if ids:
                await conn.execute(
                    update(people)
                    .where(people.c.person_id.in_(ids))
                    .values(
                        unit_id=unit_id,
                        command_post=command_post,
                        placement=unit_id,
                        service_status="serving",
                        service_since=on,
                    )
                )
        await conn.execute(
            update(units).where(units.c.unit_id == unit_id).values(version=version, last_change_on=on)
        )
        return after.figures(parties_of(integ.coalitions))

    return await integ.run(work)
