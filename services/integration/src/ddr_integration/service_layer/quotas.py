"""Quotas of integration places, set and changed by decisions (each an event with its reference and reason)."""

from __future__ import annotations

from datetime import date

from ddr_integration.domain.events import QuotaSet
from ddr_integration.domain.quotas import QUOTAS_STREAM, QuotaBook
from ddr_integration.service_layer.context import Integration
from ddr_runtime.eventstore.ports import AggregateSession, CommandContext


async def set_quota(
    integ: Integration, decision: QuotaSet, decided_on: date | None, command: CommandContext
) -> None:
    at = command.recording.moment(decided_on)

    async def work(session: AggregateSession) -> None:
        book = await session.load(QUOTAS_STREAM, QuotaBook)
        book.set_quota(decision, at)
        await session.save(book, QUOTAS_STREAM, QUOTAS_STREAM, command.causation)

    await integ.runner.run(work)


async def change_quota(
    integ: Integration,
    quota_id: str,
    limit: int,
    decision_ref: str,
    reason: str,
    on: date | None,
    command: CommandContext,
) -> None:
    async def work(session: AggregateSession) -> None:
        book = await session.load(QUOTAS_STREAM, QuotaBook)
        book.change(quota_id, limit, decision_ref, reason, on, command.recording)
        await session.save(book, QUOTAS_STREAM, QUOTAS_STREAM, command.causation)

    await integ.runner.run(work)
