"""The FastStream Kafka broker every service uses, with the producer's safe settings made explicit.

aiokafka defaults to ``acks=1`` without idempotence; the platform needs ``acks=all`` and an idempotent
producer so a retried send neither loses nor duplicates nor reorders a subject's events.
"""

from __future__ import annotations

from faststream.kafka import KafkaBroker


def make_broker(bootstrap_servers: str, *, client_id: str) -> KafkaBroker:
    return KafkaBroker(
        bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        max_batch_size=1024 * 1024,
        request_timeout_ms=30_000,
        logger=None,
    )
