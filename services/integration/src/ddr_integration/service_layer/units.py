"""Units as data, the armed forces' own contingent, and assignment under the rule of thirds."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from ddr_integration.domain.coalitions import COALITIONS_STREAM, CoalitionBook
from ddr_integration.domain.events import UnitEstablished
from ddr_integration.domain.thirds import parties_of
from ddr_integration.domain.units import Recruit, Unit, unit_stream
from ddr_integration.service_layer.bulk import decide_each, recorded, settle
from ddr_integration.service_layer.context import (
    Integration,
    ensure_candidate,
    load_candidates,
    load_unit,
    saving,
)
from ddr_runtime.eventstore.ports import AggregateSession, CommandContext, ItemOutcome


@dataclass(frozen=True)
class Assignment:
    person_id: str
    command_post: bool | None = None  # None: a post when the allocated rank carries a command function


async def establish_unit(
    integ: Integration, unit: UnitEstablished, established_on: date | None, command: CommandContext
) -> None:
    at = command.recording.moment(established_on)

    async def work(session: AggregateSession) -> None:
        found = await session.load(unit_stream(unit.unit_id), Unit)
        found.establish(unit, at)
        await session.save(found, unit_stream(unit.unit_id), unit.unit_id, command.causation, 0)

    await integ.runner.run(work)


async def record_contingent(
    integ: Integration,
    unit_id: str,
    strength: int,
    command_posts: int,
    on: date | None,
    command: CommandContext,
) -> None:
    async def work(session: AggregateSession) -> None:
        unit = await load_unit(session, unit_id)
        unit.record_contingent(strength, command_posts, on, command.recording)
        await session.save(unit, unit_stream(unit_id), unit_id, command.causation)

    await integ.runner.run(work)


async def assign(
    integ: Integration,
    unit_id: str,
    entries: Sequence[Assignment],
    on: date,
    command: CommandContext,
    *,
    atomic: bool = False,
) -> tuple[list[ItemOutcome[None]], dict[str, Any]]:
    """Assign members to the unit from ``on`` in one decision. Each member is checked on their own record
    (item by item); those who may serve are then judged together against the establishment and the rule of
    thirds, on the unit the decision leaves (figures as of ``on``): a decision that breaks the rule records
    nothing. The item outcomes and the composition after."""

    async def work(session: AggregateSession) -> tuple[list[ItemOutcome[None]], dict[str, Any]]:
        unit = await load_unit(session, unit_id)
        coalitions = await session.load(COALITIONS_STREAM, CoalitionBook)
        people = await load_candidates(session, [e.person_id for e in entries])
        recruits: dict[str, Recruit] = {}

        def recruit(entry: Assignment) -> None:
            candidate = ensure_candidate(people[entry.person_id], command.principal)
            recruits[entry.person_id] = candidate.recruit(entry.command_post, on, command.recording)

        outcomes = decide_each(entries, recruit, key=lambda e: e.person_id)
        settle(outcomes, atomic=atomic)
        chosen = [recruits[entries[index].person_id] for index in recorded(outcomes)]
        party_of = coalitions.party_of(on)
        after = (
            unit.assign(chosen, on, party_of, integ.coalitions) if chosen else unit.composition(on, party_of)
        )
        for member in chosen:
            people[member.person_id].start_service(unit_id, member.at)
        await session.save_many(saving([(unit, unit_stream(unit_id), unit_id)], people), command.causation)
        return outcomes, after.figures(parties_of(integ.coalitions))

    return await integ.runner.run(work)
