"""What the service does once at start-up, before it answers: read-model tables and the identity index."""

from __future__ import annotations

from ddr_registration.adapters.tables import create_read_model
from ddr_registration.service_layer.dedup import catch_up_index
from ddr_registration.service_layer.unit import Registration


async def prepare(reg: Registration) -> None:
    """Create the read model if needed and build the identity index from it (names decrypted)."""
    await reg.store.create_schema()
    await create_read_model(reg.engine)
    async with reg.engine.connect() as conn:
        await catch_up_index(reg, conn)
