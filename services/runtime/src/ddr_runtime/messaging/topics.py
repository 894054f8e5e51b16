"""Explicit topic creation (the broker never auto-creates): partitions from settings, history kept forever."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from ddr_contracts.topics import dead_letter_topic, platform_topic_names

KEEP_FOREVER = {"retention.ms": "-1", "retention.bytes": "-1", "cleanup.policy": "delete"}


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def platform_topics(partitions: int, dlq_partitions: int = 1, namespace: str = "") -> list[TopicSpec]:
    """Every service's event topic and the checkpoints topic, each with its dead-letter topic.

    The partition count is chosen once: adding partitions later remaps keys and breaks per-subject order.
    """
    specs: list[TopicSpec] = []
    for name in platform_topic_names():
        topic = namespace + name
        specs.append(TopicSpec(topic, partitions, dict(KEEP_FOREVER)))
        specs.append(TopicSpec(dead_letter_topic(topic), dlq_partitions, dict(KEEP_FOREVER)))
    return specs


def ensure_topics(bootstrap_servers: str, specs: Iterable[TopicSpec]) -> list[str]:
    """Create the topics that do not exist yet, in one request; return the names created. Existing topics are
    left alone (one created meanwhile by another process too: the request is then made topic by topic)."""
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="ddr-admin")
    try:
        existing = set(admin.list_topics())
        wanted = [s for s in specs if s.name not in existing]
        if not wanted:
            return []
        try:
            admin.create_topics([_new_topic(spec) for spec in wanted])
            return [spec.name for spec in wanted]
        except TopicAlreadyExistsError:
            created: list[str] = []
            for spec in wanted:
                try:
                    admin.create_topics([_new_topic(spec)])
                    created.append(spec.name)
                except TopicAlreadyExistsError:
                    continue
            return created
    finally:
        admin.close()


def _new_topic(spec: TopicSpec) -> NewTopic:
    return NewTopic(
        spec.name, num_partitions=spec.partitions, replication_factor=1, topic_configs=spec.config
    )
