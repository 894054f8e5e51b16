"""Reading every service's topic for one read-model generation, in a consumer group of its own.

A new group starts at offset zero of every partition (``earliest``); offsets are committed only after the
batch's rows are committed, so a crash replays a batch, which the idempotent projection absorbs. Messages
that are no event envelope, or whose bytes do not match their declared hash, go to the topic's dead-letter
topic with the reason.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition

from ddr_contracts.topics import dead_letter_topic
from ddr_contracts.wire import HASH_HEADER
from ddr_runtime import metrics

log = logging.getLogger(__name__)


class TopicReader:
    """An aiokafka consumer of ``topics`` in group ``group_id``, batch by batch, manual commits."""

    def __init__(self, bootstrap_servers: str, topics: Sequence[str], group_id: str, *, label: str) -> None:
        self.topics = list(topics)
        self.group_id = group_id
        self.label = label
        self._bootstrap = bootstrap_servers
        self._consumer = AIOKafkaConsumer(
            *self.topics,
            bootstrap_servers=bootstrap_servers,
            group_id=group_id,
            client_id=f"ddr-{label}",
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            max_partition_fetch_bytes=4 * 1024 * 1024,
            fetch_max_bytes=16 * 1024 * 1024,
        )
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        try:
            await self._consumer.stop()
        finally:
            if self._producer is not None:
                await self._producer.stop()

    async def poll(self, max_records: int, timeout_ms: int) -> list[ConsumerRecord[Any, Any]]:
        batches = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=max_records)
        return [record for records in batches.values() for record in records]

    async def commit(self, offsets: dict[TopicPartition, int] | None = None) -> None:
        """Commit ``offsets`` (the next offset to read, per partition), or every position consumed."""
        await self._consumer.commit(offsets)

    async def lag(self) -> int | None:
        """Messages behind the end of every assigned partition (None before the group has assigned any)."""
        assigned = list(self._consumer.assignment())
        if not assigned:
            return None
        ends = await self._consumer.end_offsets(assigned)
        total = 0
        for partition in assigned:
            behind = max(ends[partition] - await self._consumer.position(partition), 0)
            metrics.CONSUMER_LAG.labels(self.label, partition.topic, str(partition.partition)).set(behind)
            total += behind
        return total

    async def end_total(self) -> int:
        """Messages on every partition of the topics (the sum of end offsets; topics keep all history)."""
        partitions = [
            TopicPartition(topic, p)
            for topic in self.topics
            for p in sorted(self._consumer.partitions_for_topic(topic) or ())
        ]
        if not partitions:
            return 0
        return int(sum((await self._consumer.end_offsets(partitions)).values()))

    async def dead_letter(self, record: ConsumerRecord[Any, Any], reason: str) -> None:
        if self._producer is None:
            self._producer = AIOKafkaProducer(
                bootstrap_servers=self._bootstrap, acks="all", enable_idempotence=True
            )
            await self._producer.start()
        headers = [
            ("ddr-dlq-reason", reason[:2000].encode()),
            ("ddr-dlq-consumer", self.label.encode()),
            ("ddr-dlq-topic", record.topic.encode()),
            ("ddr-dlq-partition", str(record.partition).encode()),
            ("ddr-dlq-offset", str(record.offset).encode()),
            ("ddr-dlq-at", datetime.now(UTC).isoformat().encode()),
        ]
        await self._producer.send_and_wait(
            dead_letter_topic(record.topic), record.value, key=record.key, headers=headers
        )
        metrics.DEAD_LETTERS.labels(self.label, record.topic).inc()
        log.warning(
            "%s dead-lettered %s[%s]@%s: %s",
            self.label,
            record.topic,
            record.partition,
            record.offset,
            reason.split(":", 1)[0],
        )


def hash_mismatch(record: ConsumerRecord[Any, Any]) -> bool:
    """Whether the message's bytes differ from the hash the relay declared for them."""
    for key, value in record.headers or ():
        if key == HASH_HEADER:
            return bool(value.decode() != hashlib.sha256(record.value).hexdigest())
    return False
