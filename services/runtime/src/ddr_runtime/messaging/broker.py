"""The Kafka clients every service uses, with the producer's safe settings made explicit.

aiokafka defaults to ``acks=1`` without idempotence; the platform needs ``acks=all`` and an idempotent
producer so a retried send neither loses nor duplicates nor reorders a subject's events.

``make_broker`` is the FastStream broker (aiokafka) under the consumers and the occasional publish. The outbox
relay sends through a :class:`Sender`: :class:`BrokerSender` over that broker, or :class:`ConfluentSender`, a
librdkafka producer of its own (``confluent-kafka``), which sends the same messages with the same guarantees
for a fraction of the Python work per message (docs/benchmarks.md, foundation).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, cast

import confluent_kafka
from faststream.kafka import KafkaBroker

log = logging.getLogger(__name__)

LINGER_MS = 5
_Headers = dict[str, str | bytes | None]
MAX_BATCH_BYTES = 1024 * 1024
REQUEST_TIMEOUT_MS = 30_000


def make_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=LINGER_MS,
        max_batch_size=MAX_BATCH_BYTES,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
        logger=None,
    )


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to send: ``key`` picks the partition (the subject: its events stay in order)."""

    topic: str
    key: bytes
    value: bytes
    headers: dict[str, str]


class Sender(Protocol):
    """Sends messages in the order given (per partition, as the idempotent producer keeps it)."""

    async def start(self) -> None:
        """Be ready to send (again after ``stop``); nothing when already started."""
        ...

    async def stop(self) -> None:
        """Flush what is queued and release the client."""
        ...

    async def send_all(self, messages: Sequence[Outgoing]) -> Awaitable[None]:
        """Hand every message to the producer, in order; the awaitable completes once Kafka has acknowledged
        every one (``acks=all``), and raises if any was not."""
        ...


class BrokerSender:
    """Sends through the FastStream broker's producer (aiokafka), one ``publish`` per message."""

    def __init__(self, broker: KafkaBroker) -> None:
        self.broker = broker

    async def start(self) -> None:
        """Nothing: the broker is connected and stopped by its owner (the service runtime)."""

    async def stop(self) -> None:
        """Nothing: the broker is connected and stopped by its owner (the service runtime)."""

    async def send_all(self, messages: Sequence[Outgoing]) -> Awaitable[None]:
        pending: list[Awaitable[object]] = []
        for m in messages:
            future: Awaitable[object] = await self.broker.publish(
                m.value, m.topic, key=m.key, headers=m.headers, no_confirm=True
            )
            pending.append(future)
        return _all_of(pending)


async def _all_of(pending: Sequence[Awaitable[object]]) -> None:
    await asyncio.gather(*pending)


def confluent_producer_config(bootstrap_servers: str, client_id: str) -> dict[str, Any]:
    """``make_broker``'s producer settings in librdkafka's words (acks=all, idempotent, same batching)."""
    return {
        "bootstrap.servers": bootstrap_servers,
        "client.id": client_id,
        "acks": "all",
        "enable.idempotence": True,
        "linger.ms": LINGER_MS,
        "batch.size": MAX_BATCH_BYTES,
        "request.timeout.ms": REQUEST_TIMEOUT_MS,
        # librdkafka's default (CRC32) would put a subject's key on another partition than the Java client,
        # aiokafka and FastStream do (murmur2): one subject's events spread over partitions lose their order.
        "partitioner": "murmur2_random",
    }


class _Acknowledgements:
    """Counts a batch's acknowledgements (in the poller's thread) and settles its future once, in the loop."""

    def __init__(self, loop: asyncio.AbstractEventLoop, expected: int) -> None:
        self.loop = loop
        self.future: asyncio.Future[None] = loop.create_future()
        self.remaining = expected
        self.error: Any = None
        self.lock = threading.Lock()

    def delivered(self, error: Any, _message: Any) -> None:
        self.settle(1, error)

    def settle(self, count: int, error: Any = None) -> None:
        with self.lock:
            if error is not None and self.error is None:
                self.error = error
            self.remaining -= count
            if self.remaining != 0:
                return
        self.loop.call_soon_threadsafe(self._finish)

    def _finish(self) -> None:
        if self.future.done():
            return
        if self.error is None:
            self.future.set_result(None)
        else:
            self.future.set_exception(confluent_kafka.KafkaException(self.error))


class ConfluentSender:
    """A librdkafka producer (``confluent-kafka``) with the platform's settings, for the outbox relay.

    ``produce`` only queues a message (librdkafka's own threads batch and send it); a thread of this sender
    serves the acknowledgements (``poll``) and settles each batch's future in the event loop once every
    message of it is acknowledged. Start it before the first send; stop it to flush what is queued.
    """

    def __init__(self, bootstrap_servers: str, *, client_id: str) -> None:
        self._config = confluent_producer_config(bootstrap_servers, client_id)
        self._producer: confluent_kafka.Producer | None = None
        self._poller: threading.Thread | None = None
        self._stopping = threading.Event()

    async def start(self) -> None:
        if self._producer is not None:
            return
        self._stopping.clear()
        self._producer = confluent_kafka.Producer({**self._config, "error_cb": _log_error}, logger=log)
        self._poller = threading.Thread(target=self._poll, name="ddr-relay-producer", daemon=True)
        self._poller.start()

    def _poll(self) -> None:
        producer = self._producer
        assert producer is not None
        while not self._stopping.is_set():
            producer.poll(0.05)

    async def stop(self, flush_seconds: float = 30.0) -> None:
        """Flush what is queued (up to ``flush_seconds``), then stop serving acknowledgements."""
        producer, poller = self._producer, self._poller
        if producer is None or poller is None:
            return
        self._stopping.set()
        await asyncio.to_thread(poller.join)
        left = await asyncio.to_thread(producer.flush, flush_seconds)
        if left:
            log.warning(
                "relay producer stopped with %d message(s) unacknowledged; they will be sent again", left
            )
        self._producer, self._poller = None, None

    def metadata(self, topic: str, wait_seconds: float = 30.0) -> None:
        """Fetch ``topic``'s metadata now (blocking; a first send would otherwise wait for it)."""
        if self._producer is None:
            raise RuntimeError("ConfluentSender.start() was not called")
        self._producer.list_topics(topic, timeout=wait_seconds)

    async def send_all(self, messages: Sequence[Outgoing]) -> Awaitable[None]:
        producer = self._producer
        if producer is None:
            raise RuntimeError("ConfluentSender.start() was not called")
        acks = _Acknowledgements(asyncio.get_running_loop(), len(messages))
        if not messages:
            acks.future.set_result(None)
            return acks.future
        sent = 0
        try:
            for m in messages:
                while True:
                    try:
                        producer.produce(
                            m.topic,
                            m.value,
                            m.key,
                            headers=cast(_Headers, m.headers),
                            on_delivery=acks.delivered,
                        )
                        break
                    except BufferError:  # librdkafka's queue is full: let acknowledgements drain it
                        await asyncio.sleep(0.005)
                sent += 1
        except Exception as error:
            acks.settle(len(messages) - sent, error)  # the queued ones still settle the future
            raise
        return acks.future


def _log_error(error: confluent_kafka.KafkaError) -> None:
    log.warning("Kafka producer: %s", error)
