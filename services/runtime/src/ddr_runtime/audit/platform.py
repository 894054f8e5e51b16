"""The operator's audit of the live platform (``ddr audit verify``): every store's hash chains, each topic
against its store, and each store against the checkpoints its service signed.

It is given each store's address (the operator's command knows them; no service opens another's store) and
reads only: stores through read-only snapshots, topics through a consumer with no group.

- **Stores**: every stream's hash chain (``ddr_runtime.eventstore.verify.ChainChecker``, the one chain check).
- **Topics**: every message is a stored event byte for byte, on its subject's key and partition, after its
  stream's earlier versions; every stored event is on its topic or still in the outbox.
- **Checkpoints**: every checkpoint on the checkpoints topic is signed (by a trusted key when given) and chained
  to its store's previous one; the store's first ``size`` events, in append order, still hash to each signed
  root: nothing was rewritten, removed or reordered since it was signed.

The checkpoints topic is read first, then each store's snapshot, then its outbox, then its topic up to end
offsets taken last: a live platform gives no false offence.
"""

from __future__ import annotations

import asyncio
import hashlib
import multiprocessing
import os
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import ValidationError

from ddr_contracts.audit import StoreCheckpointSigned
from ddr_contracts.envelope import EventEnvelope
from ddr_contracts.topics import source_of
from ddr_runtime.audit.chains import check_part, check_part_in_process
from ddr_runtime.audit.commitment import event_leaf
from ddr_runtime.audit.merkle import TreeAccumulator
from ddr_runtime.audit.signing import CheckpointBody, SignedCheckpoint, TreeHead, issued_at_text, key_id
from ddr_runtime.audit.sources import (
    STORE_KINDS,
    StoreMissing,
    StoreRow,
    TopicRecord,
    asyncpg_dsn,
    copy_rows,
    events_by_id,
    is_sqlite,
    pending_publication,
    read_chain_rows,
    read_store_raw,
    read_topic,
    store_horizon,
    store_rows_query,
)
from ddr_runtime.config import Settings
from ddr_runtime.eventstore import verify as chain
from ddr_runtime.eventstore.verify import ChainChecker, event_id_of

# -- findings ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Offence:
    """One thing wrong, named precisely enough to find it."""

    kind: str  # chain | altered | missing | injected | out-of-order | signature | manifest | personal | checkpoint
    service: str
    detail: str
    stream_id: str | None = None
    version: int | None = None
    event_id: str | None = None
    where: str | None = None  # topic[partition]@offset, or a bundle file and line

    def __str__(self) -> str:
        parts = [f"[{self.kind}] {self.service}"]
        if self.stream_id is not None:
            parts.append(f"stream {self.stream_id} v{self.version}")
        if self.event_id is not None:
            parts.append(f"event {self.event_id}")
        if self.where is not None:
            parts.append(f"at {self.where}")
        return " ".join(parts) + f": {self.detail}"


@dataclass
class ServiceSummary:
    service: str
    store: str = "absent"  # absent | checked | bundle
    streams: int = 0
    events: int = 0
    topic_messages: int = 0
    duplicates: int = 0  # identical re-deliveries of a stored event (at-least-once relay): not an offence
    pending: int = 0  # stored, still in the outbox: not yet published
    checkpoints: int = 0  # signed checkpoints of this store found on the checkpoints topic
    checkpointed: int = 0  # events the latest of them covers


@dataclass
class AuditReport:
    services: list[ServiceSummary] = field(default_factory=list)
    offences: list[Offence] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.offences

    @property
    def events(self) -> int:
        return sum(s.events for s in self.services)


def _from_chain(service: str, found: Sequence[chain.Offence], where: str | None = None) -> list[Offence]:
    return [Offence(o.kind, service, o.reason, o.stream_id, o.version, o.event_id, where) for o in found]


# -- the platform -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Platform:
    """Where the audit looks: each store's address, each service's event topic, the checkpoints topic, the
    Kafka brokers (``None``: the stores' chains only), and the keys checkpoints must be signed with (none:
    any key, whose fingerprint the report names for comparing out of band)."""

    stores: Mapping[str, str]
    topics: Mapping[str, str]
    checkpoints_topic: str
    bootstrap_servers: str | None
    trusted_keys: Sequence[Ed25519PublicKey] = ()

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        stores: Mapping[str, str],
        *,
        topics: bool = True,
        trusted_keys: Sequence[Ed25519PublicKey] = (),
    ) -> Platform:
        return cls(
            stores=dict(stores),
            topics={s: settings.events_topic(s) for s in stores},
            checkpoints_topic=settings.checkpoints_topic(),
            bootstrap_servers=settings.kafka_bootstrap_servers if topics else None,
            trusted_keys=tuple(trusted_keys),
        )


@dataclass(frozen=True)
class ChainResult:
    events: int
    streams: int
    offences: tuple[Offence, ...]


PARALLEL_FROM = 200_000
"""A PostgreSQL store of about this many events or more is checked by one process per core."""


def default_workers() -> int:
    """The cores this process may run on: the chain check's processes for a large PostgreSQL store."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


async def check_chains(service: str, url: str, *, workers: int | None = None) -> ChainResult:
    """The store-side check alone: every stream's hash chain, from one snapshot, nothing kept per event.

    PostgreSQL: the rows come out with binary COPY below one horizon (so every reader sees the same events);
    a large store is split by stream over ``workers`` processes (default: one per core), each checking its
    streams' chains whole. SQLite: one reader."""
    if is_sqlite(url):
        checker = ChainChecker()
        async for rows in read_chain_rows(url):
            checker.check_rows(rows)
        return ChainResult(checker.events, checker.streams, tuple(_from_chain(service, checker.offences)))
    horizon, estimate = await store_horizon(url)
    dsn = asyncpg_dsn(url)
    parts = max(1, workers if workers is not None else default_workers())
    if parts == 1 or (workers is None and estimate < PARALLEL_FROM):
        events, streams, found = await check_part(dsn, horizon, 0, 1)
    else:
        loop = asyncio.get_running_loop()
        with ProcessPoolExecutor(parts, mp_context=multiprocessing.get_context("spawn")) as pool:
            results = await asyncio.gather(
                *(
                    loop.run_in_executor(pool, check_part_in_process, dsn, horizon, k, parts)
                    for k in range(parts)
                )
            )
        events = sum(r[0] for r in results)
        streams = sum(r[1] for r in results)
        found = sorted((o for r in results for o in r[2]), key=lambda o: (o.stream_id, o.version))
    return ChainResult(events, streams, tuple(_from_chain(service, found)))


StoredIndex = dict[str, tuple[str, int, str, str]]
"""Event id -> (stream, version, hash, subject), for the topic check."""


async def check_store(
    service: str, url: str, checkpoints: Sequence[PublishedCheckpoint] = ()
) -> tuple[ChainResult, StoredIndex]:
    """One pass over a store in append order: every stream's chain, its events by id for the topic check, and,
    when ``checkpoints`` are given, its Merkle tree against each signed root."""
    checker = ChainChecker()
    index: StoredIndex = {}
    heads = _Heads(service, checkpoints)

    def take(rows: Sequence[tuple[Any, ...]]) -> None:
        for _position, event_id, stream_id, version, subject, payload, stored_hash in rows:
            checker.check(stream_id, version, payload, stored_hash, event_id)
            index[event_id] = (stream_id, version, stored_hash, subject)
            heads.append(payload)

    if is_sqlite(url):
        async for rows in read_store_raw(url):
            take(rows)
    else:
        horizon, _estimate = await store_horizon(url)
        await copy_rows(url, store_rows_query(horizon), STORE_KINDS, take)
    offences = [*_from_chain(service, checker.offences), *heads.finish()]
    return ChainResult(checker.events, checker.streams, tuple(offences)), index


class _Heads:
    """A store's tree as its events are read, compared with each signed root as it reaches its size."""

    def __init__(self, service: str, checkpoints: Sequence[PublishedCheckpoint]) -> None:
        self.service = service
        self.waiting = sorted(checkpoints, key=lambda c: c.head.size, reverse=True)
        self.tree = TreeAccumulator()
        self.offences: list[Offence] = []
        self._settle()

    def append(self, payload: bytes) -> None:
        if self.waiting:
            self.tree.append(event_leaf(payload))
            self._settle()

    def _settle(self) -> None:
        while self.waiting and self.waiting[-1].head.size == self.tree.size:
            published = self.waiting.pop()
            if published.head.root != self.tree.root().hex():
                self.offences.append(
                    published.offence(
                        f"the store's first {published.head.size} events no longer hash to the root signed at "
                        f"{published.checkpoint.body.issued_at}: history was rewritten, reordered or removed"
                    )
                )

    def finish(self) -> list[Offence]:
        for published in self.waiting:
            self.offences.append(
                published.offence(
                    f"the store holds {self.tree.size} events, fewer than the {published.head.size} signed at "
                    f"{published.checkpoint.body.issued_at}: events were removed"
                )
            )
        self.waiting = []
        return self.offences


# -- checkpoints ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PublishedCheckpoint:
    """A store checkpoint as found on the checkpoints topic."""

    checkpoint: SignedCheckpoint
    sequence: int
    event_id: str
    where: str

    @property
    def head(self) -> TreeHead:
        return self.checkpoint.body.trees[0]

    def offence(self, detail: str, kind: str = "checkpoint") -> Offence:
        return Offence(kind, self.head.service, detail, None, None, self.event_id, self.where)


def signed_checkpoint(event: StoreCheckpointSigned) -> SignedCheckpoint:
    """The signed checkpoint a ``StoreCheckpointSigned`` event carries."""
    body = CheckpointBody(issued_at_text(event.issued_at), (TreeHead(event.service, event.size, event.root),))
    return SignedCheckpoint(body, event.key_id, event.public_key, event.signature)


async def read_checkpoints(
    bootstrap_servers: str,
    topic: str,
    report: AuditReport,
    trusted_keys: Sequence[Ed25519PublicKey] = (),
) -> dict[str, list[PublishedCheckpoint]]:
    """Every store checkpoint on ``topic``, by service: each message must be an envelope whose bytes match its
    hash header, chained to its store's previous checkpoint, carrying a signature that verifies (under one of
    ``trusted_keys`` when given). What fails is reported; what holds is returned to check the stores against."""
    trusted = {key_id(k) for k in trusted_keys}
    chains = ChainChecker()
    seen: dict[str, str] = {}  # event id -> hash: an identical redelivery is not an offence
    found: dict[str, list[PublishedCheckpoint]] = defaultdict(list)
    keys: dict[str, set[str]] = defaultdict(set)
    async for records in read_topic(bootstrap_servers, topic):
        for record in records:
            value = record.value or b""
            digest = hashlib.sha256(value).hexdigest()
            if seen.get(event_id_of(value)) == digest:
                continue
            try:
                envelope = EventEnvelope.from_bytes(value)
                event = StoreCheckpointSigned.model_validate(envelope.data)
            except ValidationError:
                report.offences.append(
                    Offence("altered", "checkpoints", "not a store checkpoint", where=record.where)
                )
                continue
            seen[envelope.id] = digest
            service = event.service
            published = PublishedCheckpoint(
                signed_checkpoint(event), envelope.streamversion, envelope.id, record.where
            )
            if record.declared_hash != digest:
                report.offences.append(
                    published.offence("the ddr-hash header differs from the bytes", "altered")
                )
            before = len(chains.offences)
            chains.check(envelope.streamid, envelope.streamversion, value, digest, envelope.id)
            report.offences.extend(_from_chain(service, chains.offences[before:], record.where))
            if envelope.source != source_of(service):
                report.offences.append(
                    published.offence(f"a checkpoint of {service} published by {envelope.source}")
                )
            if not published.checkpoint.verify() or (trusted and published.checkpoint.key_id not in trusted):
                report.offences.append(
                    published.offence(
                        "the checkpoint's signature does not verify under a trusted key", "signature"
                    )
                )
                continue
            keys[service].add(published.checkpoint.key_id)
            found[service].append(published)
    for service in sorted(keys):
        report.notes.append(f"{service} checkpoints signed by key {', '.join(sorted(keys[service]))}")
    return dict(found)


# -- the whole platform -----------------------------------------------------------------------------------


async def verify_platform(platform: Platform) -> AuditReport:
    """The checkpoints, then every stream's chain in every store with its tree against its checkpoints, then
    each topic against its store."""
    started = time.perf_counter()
    report = AuditReport()
    checkpoints: dict[str, list[PublishedCheckpoint]] = {}
    if platform.bootstrap_servers is not None:
        checkpoints = await read_checkpoints(
            platform.bootstrap_servers, platform.checkpoints_topic, report, platform.trusted_keys
        )
    for service in sorted(platform.stores):
        summary = ServiceSummary(service)
        report.services.append(summary)
        url = platform.stores[service]
        own = checkpoints.get(service, [])
        summary.checkpoints = len(own)
        summary.checkpointed = max((c.head.size for c in own), default=0)
        index: StoredIndex = {}
        try:
            if platform.bootstrap_servers is None:
                result = await check_chains(service, url)
            else:
                result, index = await check_store(service, url, own)
        except StoreMissing:
            report.notes.append(f"{service}: no event store at its address")
            if own:
                report.offences.append(
                    own[-1].offence(f"{len(own)} signed checkpoint(s) name a store that is not there")
                )
        else:
            summary.store = "checked"
            summary.streams, summary.events = result.streams, result.events
            report.offences.extend(result.offences)
        if platform.bootstrap_servers is not None and service in platform.topics:
            pending = await pending_publication(url) if summary.store == "checked" else set()
            await _check_topic(platform, service, url, index, pending, summary, report)
        del index
    for service in sorted(set(checkpoints) - set(platform.stores)):
        report.notes.append(f"{service}: signed checkpoints found, but no store address given")
    report.seconds = time.perf_counter() - started
    return report


async def _check_topic(
    platform: Platform,
    service: str,
    url: str,
    index: dict[str, tuple[str, int, str, str]],
    pending: set[str],
    summary: ServiceSummary,
    report: AuditReport,
) -> None:
    """Each message must be a stored event, byte for byte, on its subject's key and after its stream's
    earlier events; each stored event must be on the topic (or still waiting in the outbox).

    Order of reads: store snapshot, then outbox, then the topic up to its end offsets taken after both, so
    an event stored in the snapshot and no longer in the outbox was acknowledged below those offsets."""
    assert platform.bootstrap_servers is not None
    topic = platform.topics[service]
    check = _TopicCheck(service, index, summary, report)
    async for records in read_topic(platform.bootstrap_servers, topic):
        summary.topic_messages += len(records)
        for record in records:
            check.record(record)
    if check.unknown:  # stored after the snapshot, or never stored at all
        late = await events_by_id(url, [u[0] for u in check.unknown]) if summary.store == "checked" else {}
        check.late(late)
    for event_id, (stream_id, version, _hash, _subject) in index.items():
        if event_id in check.seen:
            continue
        if event_id in pending:
            summary.pending += 1
            continue
        report.offences.append(
            Offence(
                "missing",
                service,
                f"stored and published, but absent from {topic}",
                stream_id,
                version,
                event_id,
            )
        )


@dataclass
class _TopicCheck:
    """What one service's topic has shown so far, checked message by message against its store's index."""

    service: str
    index: dict[str, tuple[str, int, str, str]]
    summary: ServiceSummary
    report: AuditReport
    seen: dict[str, str] = field(default_factory=dict)
    # Kafka orders a subject's events (one key, one partition), not a stream's: a stream may carry several
    # subjects (a unit's stream holds its members' service records), so order is checked per stream and subject.
    last_version: dict[tuple[str, str], int] = field(default_factory=dict)
    partition_of: dict[str, int] = field(default_factory=dict)
    unknown: list[tuple[str, str, str]] = field(default_factory=list)  # (event id, where, digest)

    def record(self, record: TopicRecord) -> None:
        value = record.value or b""
        digest = hashlib.sha256(value).hexdigest()
        event_id = event_id_of(value)
        entry = self.index.get(event_id)
        if entry is None:
            self.unknown.append((event_id, record.where, digest))
            return
        stream_id, version, stored_hash, subject = entry

        if digest != stored_hash:
            self._offend(record, entry, "altered", "topic bytes differ from the stored event")
            return
        if record.declared_hash != stored_hash:
            self._offend(record, entry, "altered", "the ddr-hash header differs from the stored hash")
        if event_id in self.seen:
            self.summary.duplicates += 1
            return
        self.seen[event_id] = record.where
        if record.key != subject.encode():
            self._offend(
                record, entry, "out-of-order", f"published under key {record.key!r}, not its subject"
            )
        if self.partition_of.setdefault(subject, record.partition) != record.partition:
            self._offend(record, entry, "out-of-order", "its subject's events are spread over partitions")
        previous = self.last_version.get((stream_id, subject), 0)
        if version < previous:
            self._offend(
                record,
                entry,
                "out-of-order",
                f"published after version {previous} of its stream for the same subject",
            )
        self.last_version[(stream_id, subject)] = max(previous, version)

    def _offend(self, record: TopicRecord, entry: tuple[str, int, str, str], kind: str, detail: str) -> None:
        stream_id, version, _hash, _subject = entry
        event_id = event_id_of(record.value or b"")
        self.report.offences.append(
            Offence(kind, self.service, detail, stream_id, version, event_id, record.where)
        )

    def late(self, late: Mapping[str, StoreRow]) -> None:
        """The messages the snapshot did not know, against the store read again by id."""
        for event_id, where, digest in self.unknown:
            row = late.get(event_id)
            if row is None:
                self.report.offences.append(
                    Offence(
                        "injected",
                        self.service,
                        "on the topic but in no store: injected or extra",
                        event_id=event_id or None,
                        where=where,
                    )
                )
            elif row.hash != digest:
                self.report.offences.append(
                    Offence(
                        "altered",
                        self.service,
                        "topic bytes differ from the stored event",
                        row.stream_id,
                        row.stream_version,
                        event_id,
                        where,
                    )
                )
