"""Operational metrics (Prometheus): outbox backlog, events relayed and consumed, dead letters, consumer lag
and health, the last store checkpoint.

Labels carry service and consumer names, never anything about a person.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge

RELAY_PUBLISHED = Counter("ddr_relay_published_events", "Events the outbox relay published", ["service"])
OUTBOX_BACKLOG = Gauge("ddr_outbox_backlog_events", "Events stored but not yet published", ["service"])
CONSUMED = Counter("ddr_consumer_applied_events", "Events a consumer applied", ["consumer"])
DUPLICATES = Counter("ddr_consumer_duplicate_events", "Redelivered events a consumer skipped", ["consumer"])
DEAD_LETTERS = Counter(
    "ddr_consumer_dead_letters", "Messages sent to a dead-letter topic", ["consumer", "topic"]
)
CONSUMER_LAG = Gauge(
    "ddr_consumer_lag_messages", "Messages behind the end of a partition", ["consumer", "topic", "partition"]
)
REBUILD_PROJECTED = Gauge(
    "ddr_read_model_rebuild_projected_events",
    "Events a running read-model rebuild has projected",
    ["service"],
)
REBUILD_RUNNING = Gauge("ddr_read_model_rebuild_running", "1 while a read-model rebuild runs", ["service"])
CONSUMER_UP = Gauge(
    "ddr_consumer_up", "1 while a consumer runs and holds partitions, 0 when it has stopped", ["consumer"]
)
CHECKPOINT_TIME = Gauge(
    "ddr_checkpoint_last_timestamp_seconds",
    "When the service last signed its store's checkpoint",
    ["service"],
)
CHECKPOINT_SIZE = Gauge(
    "ddr_checkpoint_size_events", "Events covered by the service's last signed checkpoint", ["service"]
)
