"""Consumers that stop consuming say so, and come back by themselves.

A consumer can stop without its process noticing: its consume loop ended on an unexpected error, or, after
the broker was killed and restarted, it never rejoined its group and holds no partition. Every few seconds
:func:`supervise` asks each consumer of the process (``IdempotentConsumer.problem``); one that has stopped is
shown down (``ddr_consumer_up`` 0, and ``/readyz`` fails its ``consumers`` check) and restarted with a new
Kafka consumer, which rejoins its group from the committed offsets: nothing applied is lost or applied twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from ddr_runtime import metrics
from ddr_runtime.messaging.consumer import IdempotentConsumer

log = logging.getLogger(__name__)

EVERY_SECONDS = 5.0


def problems(consumers: Sequence[IdempotentConsumer]) -> dict[str, str]:
    """Each consumer that has stopped consuming, and why."""
    found = {c.name: problem for c in consumers if (problem := c.problem()) is not None}
    for consumer in consumers:
        metrics.CONSUMER_UP.labels(consumer.name).set(0 if consumer.name in found else 1)
    return found


async def supervise(
    consumers: Sequence[IdempotentConsumer], stop: asyncio.Event, every_seconds: float = EVERY_SECONDS
) -> None:
    """Until ``stop`` is set: restart every consumer that has stopped consuming (``consumers`` may change)."""
    while not stop.is_set():
        stopped = problems(list(consumers))
        for consumer in [c for c in list(consumers) if c.name in stopped]:
            log.warning("consumer %s has stopped consuming: %s", consumer.name, stopped[consumer.name])
            try:
                await consumer.restart()
            except Exception:
                log.exception("consumer %s could not be restarted; trying again", consumer.name)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_seconds)
