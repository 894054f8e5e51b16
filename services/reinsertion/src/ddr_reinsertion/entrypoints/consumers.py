"""The service's Kafka subscribers: screening's and integration's events, each batch noted by the policies
in the consumer's own transaction (the inbox rows and the effect commit together)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_reinsertion.service_layer.desk import Desk
from ddr_reinsertion.service_layer.policies import INTEGRATION_EVENTS, SCREENING_EVENTS, Policies
from ddr_runtime.config import Settings
from ddr_runtime.eventstore.unit import Session, UnitOfWork
from ddr_runtime.messaging.consumer import ReceivedEvent
from ddr_runtime.service import ServiceRuntime


def subscribe(runtime: ServiceRuntime, settings: Settings, unit: UnitOfWork, desk: Desk) -> None:
    policies = Policies(desk)

    async def on_screening(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        await policies.note(
            Session(unit, conn), [(r.event, r.envelope.occurredat) for r in batch], "screening"
        )
        unit.notify()

    async def on_integration(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        await policies.note(
            Session(unit, conn), [(r.event, r.envelope.occurredat) for r in batch], "integration"
        )
        unit.notify()

    runtime.consume(
        settings.events_topic("screening"),
        name="reinsertion-screening",
        batch_handler=on_screening,
        event_names=SCREENING_EVENTS,
    )
    runtime.consume(
        settings.events_topic("integration"),
        name="reinsertion-integration",
        batch_handler=on_integration,
        event_names=INTEGRATION_EVENTS,
    )
