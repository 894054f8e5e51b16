"""What the service does at start-up (read model, default rule sets) and while it runs (overdue alerts)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from ddr_screening.adapters.tables import create_read_model
from ddr_screening.service_layer.alerts import count_overdue
from ddr_screening.service_layer.reference import publish_default_rule_sets
from ddr_screening.service_layer.unit import Screening

log = logging.getLogger(__name__)


async def prepare(scr: Screening) -> None:
    """Before the consumers start: the store, the read model, the rule sets (a first batch decides at once)."""
    await scr.store.cipher.keystore.create_schema()
    await scr.store.create_schema()
    await create_read_model(scr.engine)
    await publish_default_rule_sets(scr)


async def watch_overdue_handovers(scr: Screening, every_seconds: float) -> None:
    """Recount overdue child handovers now and then: the gauge and the alert line follow the clock."""
    while True:
        with contextlib.suppress(Exception):  # a failed count is retried next time; never stop watching
            await count_overdue(scr.engine)
        await asyncio.sleep(every_seconds)
