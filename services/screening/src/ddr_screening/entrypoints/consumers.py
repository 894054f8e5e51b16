"""Screening's subscriber: registration's events, a batch at a time, in the consumer's transaction."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncConnection

from ddr_runtime.eventstore.unit import Session, UnitOfWork
from ddr_runtime.messaging.consumer import BatchHandler, ReceivedEvent
from ddr_screening.service_layer.intake import REGISTRATION_EVENTS, take_registration_events
from ddr_screening.service_layer.service import Screening

__all__ = ["REGISTRATION_EVENTS", "on_registration_events"]


def on_registration_events(scr: Screening, unit: UnitOfWork) -> BatchHandler:
    """The batch handler of the registration topic: the intake policy, in the inbox's transaction, each
    event with its business time."""

    async def handle(conn: AsyncConnection, batch: Sequence[ReceivedEvent]) -> None:
        told = [(item.event, item.envelope.occurredat) for item in batch]
        await take_registration_events(scr, Session(unit, conn), told)

    return handle
