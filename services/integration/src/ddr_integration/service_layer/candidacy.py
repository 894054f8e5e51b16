"""An officer's acceptance of a candidate under quota: refused with the figures when a rule or a quota stands
in the way (a policy's acceptance is in :mod:`policies`)."""

from __future__ import annotations

from datetime import date

from ddr_integration.domain.quotas import QUOTAS_STREAM, QuotaBook
from ddr_integration.service_layer.context import Integration, load_candidate, saving
from ddr_runtime.eventstore.ports import AggregateSession, CommandContext


async def accept_candidate(
    integ: Integration, person_id: str, on: date | None, command: CommandContext, expected: int | None
) -> int:
    """Accept the candidate from ``on``; their record's new version."""

    async def work(session: AggregateSession) -> int:
        candidate = await load_candidate(session, person_id, command.principal, expected)
        book = await session.load(QUOTAS_STREAM, QuotaBook)
        candidate.accept(book, on, command.recording, strict=True)
        await session.save_many(
            saving([(book, QUOTAS_STREAM, QUOTAS_STREAM)], {person_id: candidate}), command.causation
        )
        return candidate.version

    return await integ.runner.run(work)
