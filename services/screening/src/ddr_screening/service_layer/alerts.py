"""Alerts about children: counted for Prometheus and logged, never with anything that identifies a child."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge

from ddr_screening.service_layer.service import Reads

log = logging.getLogger("ddr_screening.alerts")

CHILDREN_IDENTIFIED = Counter(
    "ddr_screening_children_identified", "Children identified and separated at screening"
)
HANDOVERS_OVERDUE = Gauge(
    "ddr_screening_child_handovers_overdue", "Separated children not handed over by their 48-hour deadline"
)


def note_children(identified: int) -> None:
    if identified:
        CHILDREN_IDENTIFIED.inc(identified)
        log.info(
            "screening separated %d child(ren): handover to child protection due within the deadline",
            identified,
        )


async def count_overdue(reads: Reads, now: datetime | None = None) -> int:
    """Count overdue handovers (deadlines run from the separation's business time), set the gauge, and log
    an alert line (a count, nothing else) when any."""
    overdue = await reads.count_overdue(now or datetime.now(UTC))
    HANDOVERS_OVERDUE.set(overdue)
    if overdue:
        log.warning(
            "ALERT: %d separated child(ren) not handed over to child protection by the deadline", overdue
        )
    return overdue


async def watch_overdue_handovers(reads: Reads, every_seconds: float) -> None:
    """Recount overdue child handovers now and then: the gauge and the alert line follow the clock."""
    while True:
        with contextlib.suppress(Exception):  # a failed count is retried next time; never stop watching
            await count_overdue(reads)
        await asyncio.sleep(every_seconds)
