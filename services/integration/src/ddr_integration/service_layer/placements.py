"""The two paths outside the reconstituted units: recall to the original corps, the civil-service list."""

from __future__ import annotations

from datetime import date

from ddr_integration.domain.candidates import person_stream
from ddr_integration.service_layer.context import Integration, load_candidate
from ddr_runtime.eventstore.ports import AggregateSession, CommandContext


async def place_outside_units(
    integ: Integration,
    person_id: str,
    path: str,
    destination: str,
    on: date | None,
    command: CommandContext,
    expected: int | None,
) -> int:
    """Recall to ``destination`` corps (``armed_forces_recall``) or list for the civil service
    (``civil_service``); the record's new version."""

    async def work(session: AggregateSession) -> int:
        candidate = await load_candidate(session, person_id, command.principal, expected)
        candidate.place_outside_units(path, destination, on, command.recording)
        return await session.save(candidate, person_stream(person_id), person_id, command.causation)

    return await integ.runner.run(work)
