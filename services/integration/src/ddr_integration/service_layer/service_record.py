"""The service record after placement: serving, absent, deserted, returned, discharged, each dated, on the
member's own record; a unit member who deserts or is discharged leaves the unit's strength (on the unit's
record, in the same decision), and counts again on return."""

from __future__ import annotations

from collections.abc import Sequence

from ddr_integration.domain.candidates import ServiceEntry
from ddr_integration.domain.units import Unit, unit_stream
from ddr_integration.service_layer.bulk import decide_each, settle
from ddr_integration.service_layer.context import Integration, ensure_candidate, load_candidates, saving
from ddr_runtime.eventstore.ports import AggregateSession, CommandContext, ItemOutcome


async def record_entries(
    integ: Integration, entries: Sequence[ServiceEntry], command: CommandContext, *, atomic: bool = False
) -> list[ItemOutcome[None]]:
    async def work(session: AggregateSession) -> list[ItemOutcome[None]]:
        people = await load_candidates(session, [e.person_id for e in entries])
        unit_ids = sorted({c.unit_id for c in people.values() if c.unit_id is not None})
        loaded = await session.load_many([unit_stream(u) for u in unit_ids], Unit)
        units = {u: loaded[unit_stream(u)] for u in unit_ids}

        def record(entry: ServiceEntry) -> None:
            candidate = ensure_candidate(people[entry.person_id], command.principal)
            unit = units.get(candidate.unit_id) if candidate.unit_id is not None else None
            candidate.change_service(entry, command.recording, unit=unit)

        outcomes = decide_each(entries, record, key=lambda e: e.person_id)
        settle(outcomes, atomic=atomic)
        touched = [(u, unit_stream(i), i) for i, u in units.items()]
        await session.save_many(saving(touched, people), command.causation)
        return outcomes

    return await integ.runner.run(work)
