"""What travels on Kafka beside an event's value: the header names every producer and consumer share."""

from __future__ import annotations

CONTENT_TYPE = "application/json"
"""The content type of every event message's value: the envelope's canonical JSON bytes."""

HASH_HEADER = "ddr-hash"
"""SHA-256 (hex) of the message value's bytes: the event's own hash in its stream's chain."""

DLQ_REASON = "ddr-dlq-reason"
DLQ_CONSUMER = "ddr-dlq-consumer"
DLQ_TOPIC = "ddr-dlq-topic"
DLQ_PARTITION = "ddr-dlq-partition"
DLQ_OFFSET = "ddr-dlq-offset"
DLQ_AT = "ddr-dlq-at"
DEAD_LETTER_HEADERS = (DLQ_REASON, DLQ_CONSUMER, DLQ_TOPIC, DLQ_PARTITION, DLQ_OFFSET, DLQ_AT)
"""Headers of a dead letter: why, which consumer, and where the original message was, and when."""
