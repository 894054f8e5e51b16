"""Kafka topic names. One event topic per service, keyed by subject; the checkpoints topic, where each service
publishes the signed tree heads of its own store; a dead-letter topic beside each."""

from __future__ import annotations

SERVICES: tuple[str, ...] = ("registration", "screening", "integration", "reinsertion", "cvr", "pathway")


def events_topic(service: str) -> str:
    """The topic a service publishes its domain events to."""
    return f"ddr.{service}.events"


CHECKPOINTS_TOPIC = "ddr.audit.checkpoints"
"""Every service's signed store checkpoints (``ddr_contracts.audit.StoreCheckpointSigned``), keyed by store."""


def platform_topic_names() -> list[str]:
    """Every topic the platform publishes to, dead-letter topics aside."""
    return [*(events_topic(s) for s in SERVICES), CHECKPOINTS_TOPIC]


def dead_letter_topic(topic: str) -> str:
    """Where a consumer of ``topic`` sends what it can never process."""
    return f"{topic}.dlq"


def source_of(service: str) -> str:
    """CloudEvents ``source`` of a service's events."""
    return f"/ddr/{service}"
