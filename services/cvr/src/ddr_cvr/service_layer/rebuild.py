"""Rebuild the projected read model from the service's own event store (after a projection change, or to
check that the tables match the history). ``cvr_known_persons`` is left alone: it comes from the
registration topic, not from this store. Run it with the service stopped: pages commit one by one."""

from __future__ import annotations

from sqlalchemy import delete

from ddr_cvr.adapters.repository import Stored
from ddr_cvr.adapters.tables import figures, participants, partners, project_ngos, projects
from ddr_cvr.service_layer.unit import Cvr
from ddr_runtime.eventstore.store import START

PAGE = 2_000


async def rebuild_read_model(cvr: Cvr, page: int = PAGE) -> int:
    """Empty the projected tables and project every stored event again, in commit order; how many."""
    async with cvr.engine.begin() as conn:
        for table in (figures, participants, project_ngos, projects, partners):
            await conn.execute(delete(table))
    cursor, count = START, 0
    while rows := await cvr.store.read_all(cursor, page):
        envelopes = [stored.envelope for _, stored in rows]
        decoded = await cvr.store.decode(envelopes)
        async with cvr.engine.begin() as conn:
            await cvr.projector.project(
                conn,
                [
                    Stored(recorded.event, envelope.streamversion, envelope.data)
                    for envelope, recorded in zip(envelopes, decoded, strict=True)
                ],
            )
        cursor, count = rows[-1][0], count + len(rows)
    return count
