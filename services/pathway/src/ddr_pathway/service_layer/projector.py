"""The projector: every service's events into the pathway read model of one generation.

:meth:`Projector.apply` is the batch handler (decoded events, as the runtime's consumer and a bundle replay
give them); :func:`facts_from_payloads` is the fast path of a rebuild, straight from the stored envelope bytes
without opening personal fields (they are dropped unread). Both give the same facts for the same event, and
writing a fact twice changes nothing, so the read model is idempotent per event id and independent of the
order events arrive in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.events import EventRegistry, UnknownEventType
from ddr_contracts.topics import source_of
from ddr_pathway.adapters.tables import (
    DEFAULT_PREFIX,
    add_missing_columns,
    facts_table,
    generations_table,
    insert_facts,
    live_generation,
)
from ddr_pathway.domain.facts import Fact, classify, summary_of
from ddr_runtime.crypto.cipher import is_sealed
from ddr_runtime.messaging.consumer import ReceivedEvent

OWN_SOURCE = source_of("pathway")
"""Pathway's own events (reads of paths, audit checkpoints) are not steps of anyone's path."""


class Projector:
    """Writes facts into generation ``generation`` of the read model named by ``prefix``."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        generation: int = 1,
        prefix: str = DEFAULT_PREFIX,
        group_id: str | None = None,
        registry: EventRegistry = REGISTRY,
    ) -> None:
        self.engine = engine
        self.generation = generation
        self.prefix = prefix
        self.group_id = group_id or f"pathway-{prefix}-g{generation}-{uuid.uuid4().hex[:8]}"
        self.registry = registry
        self.facts = facts_table(prefix, generation)
        self.generations = generations_table(prefix)

    async def create_schema(self) -> None:
        """Create the control table and this generation's tables; the first generation becomes live."""
        async with self.engine.begin() as conn:
            await conn.run_sync(self.generations.metadata.create_all)
            await conn.run_sync(self.facts.metadata.create_all)
            await conn.run_sync(add_missing_columns, self.facts)
            known = (
                await conn.execute(
                    select(self.generations.c.generation).where(
                        self.generations.c.generation == self.generation
                    )
                )
            ).first()
            if known is None:
                live = await live_generation(conn, self.prefix)
                await conn.execute(
                    insert(self.generations).values(
                        generation=self.generation,
                        status="live" if live is None else "building",
                        group_id=self.group_id,
                        created_at=datetime.now(UTC),
                    )
                )

    async def apply(self, conn: AsyncConnection, events: Sequence[ReceivedEvent]) -> None:
        """The batch handler: one fact per event, written in the caller's transaction."""
        await self.apply_facts(conn, [f for f in (self.fact_of(e) for e in events) if f is not None])

    async def apply_facts(self, conn: AsyncConnection, facts: Sequence[Fact]) -> None:
        await insert_facts(conn, self.facts, facts)

    def fact_of(self, received: ReceivedEvent) -> Fact | None:
        envelope = received.envelope
        if envelope.source == OWN_SOURCE:
            return None
        event = received.event
        data = event.model_dump(mode="json", exclude=set(type(event).personal_fields()))
        return _fact(
            envelope.id,
            envelope.type,
            envelope.source,
            envelope.subject,
            envelope.occurredat,
            envelope.recordedat,
            envelope.actor,
            data,
            causation_id=envelope.causationid,
        )

    def facts_from_payloads(self, payloads: Iterable[bytes]) -> list[Fact]:
        """Facts straight from stored envelope bytes (personal fields dropped unread). Raises ValueError on
        bytes that are no envelope."""
        return [f for f in (self.fact_from_envelope(orjson.loads(p)) for p in payloads) if f is not None]

    def fact_from_envelope(self, envelope: Mapping[str, Any]) -> Fact | None:
        try:
            source = envelope["source"]
            type_name = envelope["type"]
            raw = envelope["data"]
            event_id = envelope["id"]
            subject = envelope["subject"]
            occurred = datetime.fromisoformat(envelope["occurredat"])
            recorded = datetime.fromisoformat(envelope["recordedat"])
            actor = envelope["actor"]
            causation_id = envelope.get("causationid")
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not an event envelope: {error}") from None
        if source == OWN_SOURCE:
            return None
        try:
            model, data = self.registry.upcast(type_name, raw)
            personal = model.personal_fields()
            data = {k: v for k, v in data.items() if k not in personal}
        except UnknownEventType:
            # A type this code does not know yet: a bare step of the person's path, nothing of its data kept
            # but the person it is about (an id, never a personal field: those are sealed).
            person = raw.get("person_id") if isinstance(raw, dict) else None
            linked = {"person_id": person} if isinstance(person, str) and not is_sealed(person) else {}
            return _fact(
                event_id, type_name, source, subject, occurred, recorded, actor, linked,
                summary={}, causation_id=causation_id,
            )  # fmt: skip
        return _fact(
            event_id, type_name, source, subject, occurred, recorded, actor, data, causation_id=causation_id
        )


def _fact(
    event_id: str,
    type_name: str,
    source: str,
    subject: str,
    occurred: datetime,
    recorded: datetime,
    actor: str,
    data: dict[str, Any],
    *,
    summary: dict[str, Any] | None = None,
    causation_id: str | None = None,
) -> Fact:
    return classify(
        event_id=event_id,
        type_name=type_name,
        source=source,
        subject=subject,
        occurred_at=occurred,
        recorded_at=recorded,
        actor=actor,
        data=data,
        summary=orjson.dumps(
            summary_of(data) if summary is None else summary, option=orjson.OPT_SORT_KEYS
        ).decode(),
        causation_id=causation_id if isinstance(causation_id, str) else None,
    )
