"""What travels on Kafka beside an event's value: the header names and content type every producer, consumer
and auditor share.

A message's value is the event's stored bytes (the canonical JSON of its envelope) and its key the subject.
Beside them, in headers: the CloudEvents binary-mode attributes, and the event's hash (SHA-256 of the value),
so a consumer can refuse bytes that are not what the store hashed. A consumer that can never process a message
sends it to ``<topic>.dlq`` with the reason and where it came from.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8"
"""The content type of every event message's value: the envelope's canonical JSON bytes (a CloudEvent)."""
CONTENT_TYPE_HEADER = "content-type"
EVENT_ID_HEADER = "ce_id"
EVENT_TYPE_HEADER = "ce_type"

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
REASON_LIMIT = 2000
"""Characters of a dead letter's reason kept in its header."""


def event_headers(event_id: str, event_type: str, event_hash: str) -> dict[str, str]:
    """The headers of a published event."""
    return {
        CONTENT_TYPE_HEADER: CONTENT_TYPE,
        EVENT_ID_HEADER: event_id,
        EVENT_TYPE_HEADER: event_type,
        HASH_HEADER: event_hash,
    }


def dead_letter_headers(
    *, reason: str, consumer: str, topic: str, partition: int, offset: int, at: datetime
) -> dict[str, str]:
    """The headers of a dead letter: why, who gave up on it, and where it was read."""
    return dict(
        zip(
            DEAD_LETTER_HEADERS,
            (reason[:REASON_LIMIT], consumer, topic, str(partition), str(offset), at.isoformat()),
            strict=True,
        )
    )


def declared_hash(headers: Mapping[str, bytes] | None) -> str | None:
    """The hash a message's headers declare for its value, if any."""
    value = (headers or {}).get(HASH_HEADER)
    return value.decode() if value is not None else None
