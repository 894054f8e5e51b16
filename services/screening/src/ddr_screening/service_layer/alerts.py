"""Alerts about children: counted for Prometheus and logged, never with anything that identifies a child."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_contracts.events import DomainEvent
from ddr_contracts.screening import ChildIdentified
from ddr_screening.adapters.tables import cases
from ddr_screening.domain.case import ScreeningCase

log = logging.getLogger("ddr_screening.alerts")

CHILDREN_IDENTIFIED = Counter(
    "ddr_screening_children_identified", "Children identified and separated at screening"
)
HANDOVERS_OVERDUE = Gauge(
    "ddr_screening_child_handovers_overdue", "Separated children not handed over by their 48-hour deadline"
)


def note_children(changed: Sequence[tuple[ScreeningCase, Sequence[DomainEvent]]]) -> None:
    identified = sum(1 for _, events in changed for e in events if isinstance(e, ChildIdentified))
    if identified:
        CHILDREN_IDENTIFIED.inc(identified)
        log.info(
            "screening separated %d child(ren): handover to child protection due within the deadline",
            identified,
        )


async def count_overdue(engine: AsyncEngine, now: datetime | None = None) -> int:
    """Count overdue handovers, set the gauge, and log an alert line (a count, nothing else) when any."""
    now = now or datetime.now(UTC)
    async with engine.connect() as conn:
        overdue = (
            await conn.execute(
                select(func.count())
                .select_from(cases)
                .where(
                    cases.c.child.is_(True), cases.c.handed_over_at.is_(None), cases.c.handover_deadline < now
                )
            )
        ).scalar_one()
    HANDOVERS_OVERDUE.set(overdue)
    if overdue:
        log.warning(
            "ALERT: %d separated child(ren) not handed over to child protection by the deadline", overdue
        )
    return int(overdue)
