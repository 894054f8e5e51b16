"""Kafka wiring: topics, the broker, the outbox relay and the idempotent consumer."""
