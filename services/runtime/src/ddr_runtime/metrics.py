"""Operational metrics (Prometheus): outbox backlog, events relayed and consumed, dead letters, consumer lag
and health, the last store checkpoint.

Labels carry service and consumer names, never anything about a person.

``/metrics`` answers without a token, so it shows only the metrics declared operational here (and the
process's own); any other metric a service registers (counts of children, of medical or vetting
categories...) is shown only at ``/metrics/all``, to an operator's token.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import REGISTRY, Counter, Gauge
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.metrics_core import Metric

# The process and runtime collectors prometheus_client registers by default: nothing about people.
_PROCESS_PREFIXES = ("process_", "python_")
_operational: set[str] = set()


def declare_operational(*metrics: MetricWrapperBase) -> None:
    """Show these metrics on the unauthenticated ``/metrics``: only counts that say nothing about the
    people in the records (backlogs, lags, errors), never counts of a category of person."""
    _operational.update(metric._name for metric in metrics)


def is_operational(name: str) -> bool:
    return name in _operational or name.startswith(_PROCESS_PREFIXES)


class OperationalMetrics:
    """A collector view of the process's registry holding only the operational metric families."""

    def collect(self) -> Iterator[Metric]:
        for family in REGISTRY.collect():
            if is_operational(family.name):
                yield family


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

declare_operational(
    RELAY_PUBLISHED,
    OUTBOX_BACKLOG,
    CONSUMED,
    DUPLICATES,
    DEAD_LETTERS,
    CONSUMER_LAG,
    REBUILD_PROJECTED,
    REBUILD_RUNNING,
    CONSUMER_UP,
    CHECKPOINT_TIME,
    CHECKPOINT_SIZE,
)
