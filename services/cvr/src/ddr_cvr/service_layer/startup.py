"""What the service does once at start-up, before it answers: its read-model tables."""

from __future__ import annotations

from ddr_cvr.adapters.tables import create_read_model
from ddr_cvr.service_layer.unit import Cvr


async def prepare(cvr: Cvr) -> None:
    await cvr.store.create_schema()
    await create_read_model(cvr.engine)
