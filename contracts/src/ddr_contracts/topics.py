"""Kafka topic names. One event topic per service, keyed by subject; a dead-letter topic beside each."""

from __future__ import annotations

SERVICES: tuple[str, ...] = ("registration", "screening", "integration", "reinsertion", "cvr", "pathway")


def events_topic(service: str) -> str:
    """The topic a service publishes its domain events to."""
    return f"ddr.{service}.events"


def dead_letter_topic(topic: str) -> str:
    """Where a consumer of ``topic`` sends what it can never process."""
    return f"{topic}.dlq"


def source_of(service: str) -> str:
    """CloudEvents ``source`` of a service's events."""
    return f"/ddr/{service}"
