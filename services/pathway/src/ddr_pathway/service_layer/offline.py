"""Programme figures (and a path) rebuilt offline from a handover bundle or the live topics (``ddr audit replay``).

Every envelope is projected as the live consumer projects it, into a throw-away read model: personal fields are
dropped unread (a pseudonymised bundle has none; a full one holds them sealed), so both kinds of bundle and the
live topics give the same figures.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_pathway.service_layer.figures import programme_figures, read_model_table
from ddr_pathway.service_layer.paths import read_path
from ddr_pathway.service_layer.projector import Projector
from ddr_runtime.audit.bundle import bundle_documents
from ddr_runtime.audit.sources import read_topic

Documents = AsyncIterator[list[Mapping[str, Any]]]


async def from_bundle(path: Path) -> Documents:
    """Every envelope of a bundle, per service in append order."""
    async for batch in bundle_documents(path):
        yield [document for _service, document in batch]


async def from_topics(bootstrap_servers: str, topics: Sequence[str]) -> Documents:
    """Every envelope on the live topics, each once (a redelivery is skipped)."""
    seen: set[str] = set()
    for topic in topics:
        async for records in read_topic(bootstrap_servers, topic):
            batch: list[Mapping[str, Any]] = []
            for record in records:
                if not record.value:
                    continue
                document = orjson.loads(record.value)
                if document.get("id") not in seen:
                    seen.add(document.get("id"))
                    batch.append(document)
            yield batch


@dataclass(frozen=True)
class ReplayResult:
    events: int
    figures: dict[str, Any]
    path: dict[str, Any] | None


async def replay(
    source: Documents,
    engine: AsyncEngine,
    *,
    as_of: date,
    known_on: datetime | None = None,
    person_id: str | None = None,
) -> ReplayResult:
    """Project every envelope into a fresh read model on ``engine``; the figures as of ``as_of`` (and a path)."""
    projector = Projector(engine)
    await projector.create_schema()
    count = 0
    async for batch in source:
        facts = [f for f in (projector.fact_from_envelope(d) for d in batch) if f is not None]
        async with engine.begin() as conn:
            await projector.apply_facts(conn, facts)
        count += len(batch)
    async with engine.connect() as conn:
        figures = await programme_figures(conn, as_of=as_of, known_on=known_on)
        path: dict[str, Any] | None = None
        if person_id is not None:
            table = await read_model_table(conn)
            found = await read_path(
                conn, table, person_id, now=datetime.now(UTC), as_of=as_of, known_on=known_on
            )
            path = None if found is None else found.model_dump(mode="json")
    return ReplayResult(count, figures.model_dump(mode="json"), path)
