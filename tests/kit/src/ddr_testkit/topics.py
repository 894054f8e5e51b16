"""Reading a whole topic in a test: every record up to its end offsets as of the call."""

from __future__ import annotations

from typing import Any

from kafka import KafkaConsumer, TopicPartition


def whole_topic(bootstrap_servers: str, topic: str) -> list[Any]:
    """Every record of ``topic`` from offset zero up to its end offsets as of now, partition after partition,
    however long the broker takes to answer (no timeout that a loaded machine could outrun)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records: list[Any] = []
        while any(consumer.position(p) < ends[p] for p in partitions):
            for batch in consumer.poll(timeout_ms=1000).values():
                records.extend(batch)
        return records
    finally:
        consumer.close()
