"""The projector: every service's events into the pathway read model of one generation.

:meth:`Projector.fact_of_envelope` makes the fact of a consumed envelope (the runtime's consumer hands them over
undecoded), :meth:`Projector.fact_from_envelope` the fact of one read as JSON (a bundle, a topic read offline):
personal fields are dropped unread, so both give the same facts for the same event. Writing a fact twice changes
nothing, so the read model is idempotent per event id and independent of the order events arrive in.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from ddr_contracts.catalog import REGISTRY
from ddr_contracts.envelope import EventEnvelope
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
from ddr_pathway.domain.disclosure import kept_fields
from ddr_pathway.domain.facts import Fact, classify, summary_of
from ddr_runtime.crypto.cipher import is_sealed
from ddr_runtime.messaging.consumer import ReceivedEnvelope, ReceivedEvent

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

    async def apply(self, conn: AsyncConnection, events: Sequence[ReceivedEvent | ReceivedEnvelope]) -> None:
        """One fact per consumed event, written in the caller's transaction."""
        facts = (self.fact_of_envelope(e.envelope) for e in events)
        await self.apply_facts(conn, [f for f in facts if f is not None])

    async def apply_facts(self, conn: AsyncConnection, facts: Sequence[Fact]) -> None:
        await insert_facts(conn, self.facts, facts)

    def facts_from_payloads(self, payloads: Iterable[bytes]) -> list[Fact]:
        """Facts straight from stored envelope bytes (personal fields dropped unread). Raises ValueError on
        bytes that are no envelope."""
        return [f for f in (self.fact_from_envelope(orjson.loads(p)) for p in payloads) if f is not None]

    def fact_from_envelope(self, envelope: Mapping[str, Any]) -> Fact | None:
        """The fact of an envelope read as JSON (a bundle's line, a topic's message). Raises ValueError on a
        document that is no envelope."""
        try:
            head = _Head(
                envelope["id"],
                envelope["type"],
                envelope["source"],
                envelope["subject"],
                datetime.fromisoformat(envelope["occurredat"]),
                datetime.fromisoformat(envelope["recordedat"]),
                envelope["actor"],
                envelope.get("causationid"),
            )
            return self._fact_of(head, envelope["data"])
        except (KeyError, TypeError, AttributeError) as error:
            raise ValueError(f"not an event envelope: {error}") from None

    def fact_of_envelope(self, envelope: EventEnvelope) -> Fact | None:
        """The fact of a consumed envelope, personal fields dropped unread (None: pathway's own events)."""
        head = _Head(
            envelope.id, envelope.type, envelope.source, envelope.subject,
            envelope.occurredat, envelope.recordedat, envelope.actor, envelope.causationid,
        )  # fmt: skip
        return self._fact_of(head, envelope.data)

    def _fact_of(self, head: _Head, raw: Mapping[str, Any]) -> Fact | None:
        if head.source == OWN_SOURCE:
            return None
        try:
            model, data = self.registry.upcast(head.type_name, dict(raw))
            personal = model.personal_fields()
            data = {k: v for k, v in data.items() if k not in personal}
        except UnknownEventType:
            # A type this code does not know yet: a bare step of the person's path, nothing of its data kept
            # but the person it is about (an id, never a personal field: those are sealed).
            person = raw.get("person_id")
            linked = {"person_id": person} if isinstance(person, str) and not is_sealed(person) else {}
            return _fact(head, linked, summary={})
        return _fact(head, data)


@dataclass(frozen=True)
class _Head:
    """The envelope attributes a fact keeps."""

    event_id: str
    type_name: str
    source: str
    subject: str
    occurred: datetime
    recorded: datetime
    actor: str
    causation_id: str | None


def _fact(head: _Head, data: dict[str, Any], *, summary: dict[str, Any] | None = None) -> Fact:
    return classify(
        event_id=head.event_id,
        type_name=head.type_name,
        source=head.source,
        subject=head.subject,
        occurred_at=head.occurred,
        recorded_at=head.recorded,
        actor=head.actor,
        data=data,
        summary=orjson.dumps(
            summary_of(data, kept_fields(_unversioned(head.type_name))) if summary is None else summary,
            option=orjson.OPT_SORT_KEYS,
        ).decode(),
        causation_id=head.causation_id if isinstance(head.causation_id, str) else None,
    )


def _unversioned(type_name: str) -> str:
    return type_name.rpartition(".v")[0] or type_name
