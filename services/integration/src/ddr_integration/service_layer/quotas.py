"""Quotas of integration places, set and changed by decisions (each an event with its reference and reason)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import insert, update
from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_contracts.integration import QuotaChanged, QuotaSet
from ddr_integration.adapters import readmodel as rm
from ddr_integration.adapters.tables import quota_decisions, quotas
from ddr_integration.domain.errors import AlreadyExists, RuleViolated, UnknownRecord
from ddr_integration.domain.quotas import validate_quota
from ddr_integration.service_layer.unit import Integration, quota_stream
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation


@dataclass(frozen=True)
class QuotaDecision:
    quota_id: str
    movement: str | None
    period_start: date
    period_end: date
    limit: int
    decision_ref: str
    reason: str


async def set_quota(integ: Integration, decision: QuotaDecision, cause: Causation) -> None:
    validate_quota(decision.period_start, decision.period_end, decision.limit)

    async def work(conn: AsyncConnection) -> None:
        if await rm.quota_row(conn, decision.quota_id) is not None:
            raise AlreadyExists("quota", decision.quota_id)
        event = QuotaSet(**decision.__dict__)
        try:
            version = await integ.append(
                conn,
                quota_stream(decision.quota_id),
                0,
                [(event, decision.quota_id, decision.period_start)],
                cause,
            )
        except ConcurrencyConflict:
            raise AlreadyExists("quota", decision.quota_id) from None
        await conn.execute(
            insert(quotas).values(
                quota_id=decision.quota_id,
                version=version,
                movement=decision.movement,
                period_start=decision.period_start,
                period_end=decision.period_end,
                limit=decision.limit,
                used=0,
            )
        )
        await conn.execute(
            insert(quota_decisions).values(
                quota_id=decision.quota_id,
                decision_ref=decision.decision_ref,
                previous_limit=None,
                limit=decision.limit,
                reason=decision.reason,
                effective_on=decision.period_start,
            )
        )

    await integ.run(work, retries=0)


async def change_quota(
    integ: Integration, quota_id: str, limit: int, decision_ref: str, reason: str, on: date, cause: Causation
) -> None:
    if limit < 0:
        raise RuleViolated("quota_limit", "a quota's limit cannot be negative")

    async def work(conn: AsyncConnection) -> None:
        found = await rm.quota_row(conn, quota_id)
        if found is None:
            raise UnknownRecord("quota", quota_id)
        quota, version = found
        event = QuotaChanged(
            quota_id=quota_id,
            previous_limit=quota.limit,
            limit=limit,
            decision_ref=decision_ref,
            reason=reason,
            effective_on=on,
        )
        version = await integ.append(conn, quota_stream(quota_id), version, [(event, quota_id, on)], cause)
        await conn.execute(
            update(quotas).where(quotas.c.quota_id == quota_id).values(limit=limit, version=version)
        )
        await conn.execute(
            insert(quota_decisions).values(
                quota_id=quota_id,
                decision_ref=decision_ref,
                previous_limit=quota.limit,
                limit=limit,
                reason=reason,
                effective_on=on,
            )
        )

    await integ.run(work)
