"""The platform audit: verify the stores and topics, export a handover bundle, verify and replay a bundle.

Everything here reads: stores through read-only snapshots, topics through a group-less consumer, bundles
from files. Only :func:`export_bundle` writes, and only the bundle it is asked to write.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from ddr_contracts.envelope import GENESIS_HASH, EventEnvelope
from ddr_contracts.events import EventRegistry, UnknownEventType
from ddr_contracts.schemas import SCHEMA_DIR
from ddr_contracts.topics import events_topic
from ddr_pathway.adapters.audit_sources import (
    StoreMissing,
    StoreRow,
    events_by_id,
    file_sha256,
    iter_lines,
    opened_bundle,
    pack_bundle,
    pending_publication,
    read_chain_rows,
    read_store_raw,
    read_topic,
    write_private,
)
from ddr_pathway.domain import bundle as fmt
from ddr_pathway.domain.bundle import CheckpointBody, TreeHead, event_leaf, is_sealed, prevhash_of, redact
from ddr_pathway.domain.merkle import TreeAccumulator, leaf_hash, root_of
from ddr_pathway.service_layer.checkpoints import (
    SignedCheckpoint,
    check_extends,
    issued_at_text,
    key_id,
    load_public_key,
    platform_leaves,
    public_pem,
)
from ddr_runtime.config import Settings
from ddr_runtime.messaging.consumer import ReceivedEvent

_ID_KEY = b'"id":"'


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
    store: str = "absent"  # absent | checked
    streams: int = 0
    events: int = 0
    topic_messages: int = 0
    duplicates: int = 0  # identical re-deliveries of a stored event (at-least-once relay): not an offence
    pending: int = 0  # stored, still in the outbox: not yet published


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


# -- the store-side check: hash chains --------------------------------------------------------------------


class ChainChecker:
    """Recomputes every stream's hash chain from stored bytes, in one pass over the store's append order
    (a stream's versions are appended in order). Fast path: one SHA-256 and two byte look-ups per event;
    only an event that fails them is parsed, to say what is wrong."""

    def __init__(self, service: str) -> None:
        self.service = service
        self.tails: dict[str, tuple[int, bytes]] = {}  # stream -> (last version, its hash as ASCII hex)
        self.events = 0
        self.offences: list[Offence] = []

    def check_rows(self, rows: Sequence[Sequence[Any]]) -> None:
        """Rows as :class:`StoreRow` fields: position, event_id, stream_id, version, subject, payload, hash.

        Also checks that the envelope's id is the row's (the topic check matches events by that id)."""
        tails = self.tails
        sha256 = hashlib.sha256
        genesis = (0, GENESIS_HASH.encode())
        for _position, event_id, stream_id, version, _subject, payload, stored_hash in rows:
            last_version, last_hash = tails.get(stream_id, genesis)
            at = payload.rfind(_ID_KEY) + 6
            if (
                sha256(payload).hexdigest() != stored_hash
                or version != last_version + 1
                or prevhash_of(payload) != last_hash
                or payload[at : at + len(event_id)] != event_id.encode()
            ):
                self._diagnose(event_id, stream_id, version, payload, stored_hash, last_version, last_hash)
            tails[stream_id] = (version, stored_hash.encode())
        self.events += len(rows)

    def check_chain(self, rows: Sequence[Sequence[Any]]) -> None:
        """The store-only fast path: rows of (stream_id, version, payload, hash)."""
        tails = self.tails
        sha256 = hashlib.sha256
        genesis = (0, GENESIS_HASH.encode())
        for stream_id, version, payload, stored_hash in rows:
            last_version, last_hash = tails.get(stream_id, genesis)
            if (
                sha256(payload).hexdigest() != stored_hash
                or version != last_version + 1
                or prevhash_of(payload) != last_hash
            ):
                self._diagnose(None, stream_id, version, payload, stored_hash, last_version, last_hash)
            tails[stream_id] = (version, stored_hash.encode())
        self.events += len(rows)

    def _diagnose(
        self,
        event_id: str | None,
        stream_id: str,
        version: int,
        payload: bytes,
        stored_hash: str,
        last_version: int,
        last_hash: bytes,
    ) -> None:
        def offend(kind: str, detail: str) -> None:
            self.offences.append(Offence(kind, self.service, detail, stream_id, version, event_id))

        if event_id is None:  # the fast path did not read it: take it from the bytes when they parse
            with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
                event_id = str(orjson.loads(payload)["id"])
        if hashlib.sha256(payload).hexdigest() != stored_hash:
            offend("altered", "stored bytes do not match their hash: the event was altered in the store")
        if version != last_version + 1:
            offend("chain", f"expected version {last_version + 1}: an event is missing or out of order")
        try:
            envelope = EventEnvelope.from_bytes(payload)
        except ValidationError:
            offend("altered", "stored bytes are not a valid event envelope")
            return
        if (envelope.streamid, envelope.streamversion) != (stream_id, version) or envelope.id != (
            event_id or envelope.id
        ):
            offend("chain", "the envelope does not match its row: moved or reordered")
        if envelope.prevhash.encode() != last_hash:
            offend(
                "chain", "does not chain to its predecessor's hash: an earlier event was removed or altered"
            )

    @property
    def streams(self) -> int:
        return len(self.tails)


# -- the platform -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Platform:
    """Where the audit looks: each service's store URL and event topic, and the Kafka brokers."""

    stores: Mapping[str, str]
    topics: Mapping[str, str]
    bootstrap_servers: str | None  # None: check the stores only

    @classmethod
    def from_settings(cls, settings: Settings, stores: Mapping[str, str], *, topics: bool = True) -> Platform:
        return cls(
            stores=dict(stores),
            topics={s: settings.events_topic(s) for s in stores},
            bootstrap_servers=settings.kafka_bootstrap_servers if topics else None,
        )


@dataclass(frozen=True)
class ChainResult:
    events: int
    streams: int
    offences: tuple[Offence, ...]


async def check_chains(service: str, url: str) -> ChainResult:
    """The store-side check alone: every stream's hash chain, from one snapshot, nothing kept per event."""
    checker = ChainChecker(service)
    async for rows in read_chain_rows(url):
        checker.check_chain(rows)
    return ChainResult(checker.events, checker.streams, tuple(checker.offences))


async def check_store(service: str, url: str) -> tuple[ChainResult, dict[str, tuple[str, int, str, str]]]:
    """The chain check of one store, and its events by id (stream, version, hash, subject) for the topics."""
    checker = ChainChecker(service)
    index: dict[str, tuple[str, int, str, str]] = {}
    async for rows in read_store_raw(url):
        checker.check_rows(rows)
        for _p, event_id, stream_id, version, subject, _payload, stored_hash in rows:
            index[event_id] = (stream_id, version, stored_hash, subject)
    return ChainResult(checker.events, checker.streams, tuple(checker.offences)), index


async def verify_platform(platform: Platform) -> AuditReport:
    """Every stream's chain in every store, then each topic against its store."""
    started = time.perf_counter()
    report = AuditReport()
    for service in sorted(platform.stores):
        summary = ServiceSummary(service)
        report.services.append(summary)
        url = platform.stores[service]
        index: dict[str, tuple[str, int, str, str]] = {}
        try:
            if platform.bootstrap_servers is None:
                checker = await check_chains(service, url)
            else:
                checker, index = await check_store(service, url)
        except StoreMissing:
            report.notes.append(f"{service}: no event store at its address")
        else:
            summary.store = "checked"
            summary.streams, summary.events = checker.streams, checker.events
            report.offences.extend(checker.offences)
        if platform.bootstrap_servers is not None and service in platform.topics:
            pending = await pending_publication(url) if summary.store == "checked" else set()
            await _check_topic(platform, service, url, index, pending, summary, report)
        del index
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
    seen: dict[str, str] = {}
    # Kafka orders a subject's events (one key, one partition), not a stream's: a stream may carry several
    # subjects (a unit's stream holds its members' service records), so order is checked per stream and subject.
    last_version: dict[tuple[str, str], int] = {}
    partition_of: dict[str, int] = {}
    unknown: list[tuple[str, str, str]] = []  # (event id, where, digest)
    async for records in read_topic(platform.bootstrap_servers, topic):
        summary.topic_messages += len(records)
        for record in records:
            value = record.value or b""
            digest = hashlib.sha256(value).hexdigest()
            at = value.rfind(_ID_KEY) + 6
            event_id = value[at : value.find(b'"', at)].decode(errors="replace") if at >= 6 else ""
            entry = index.get(event_id)
            if entry is None:
                unknown.append((event_id, record.where, digest))
                continue
            stream_id, version, stored_hash, subject = entry
            if digest != stored_hash:
                report.offences.append(
                    Offence(
                        "altered",
                        service,
                        "topic bytes differ from the stored event",
                        stream_id,
                        version,
                        event_id,
                        record.where,
                    )
                )
                continue
            if record.declared_hash != stored_hash:
                report.offences.append(
                    Offence(
                        "altered",
                        service,
                        "the ddr-hash header differs from the stored hash",
                        stream_id,
                        version,
                        event_id,
                        record.where,
                    )
                )
            if event_id in seen:
                summary.duplicates += 1
                continue
            seen[event_id] = record.where
            if record.key != subject.encode():
                report.offences.append(
                    Offence(
                        "out-of-order",
                        service,
                        f"published under key {record.key!r}, not its subject",
                        stream_id,
                        version,
                        event_id,
                        record.where,
                    )
                )
            if partition_of.setdefault(subject, record.partition) != record.partition:
                report.offences.append(
                    Offence(
                        "out-of-order",
                        service,
                        "its subject's events are spread over partitions",
                        stream_id,
                        version,
                        event_id,
                        record.where,
                    )
                )
            previous = last_version.get((stream_id, subject), 0)
            if version < previous:
                report.offences.append(
                    Offence(
                        "out-of-order",
                        service,
                        f"published after version {previous} of its stream for the same subject",
                        stream_id,
                        version,
                        event_id,
                        record.where,
                    )
                )
            last_version[(stream_id, subject)] = max(previous, version)
    if unknown:  # stored after the snapshot, or never stored at all
        late = await events_by_id(url, [u[0] for u in unknown]) if summary.store == "checked" else {}
        for event_id, where, digest in unknown:
            row: StoreRow | None = late.get(event_id)
            if row is None:
                report.offences.append(
                    Offence(
                        "injected",
                        service,
                        "on the topic but in no store: injected or extra",
                        event_id=event_id or None,
                        where=where,
                    )
                )
            elif row.hash != digest:
                report.offences.append(
                    Offence(
                        "altered",
                        service,
                        "topic bytes differ from the stored event",
                        row.stream_id,
                        row.stream_version,
                        event_id,
                        where,
                    )
                )
    for event_id, (stream_id, version, _hash, _subject) in index.items():
        if event_id in seen:
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


# -- export -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ExportSummary:
    path: Path
    pseudonymised: bool
    events: dict[str, int]
    checkpoint: SignedCheckpoint


def personal_fields_by_type(registry: EventRegistry) -> dict[str, frozenset[str]]:
    return {model.type_name(): model.personal_fields() for model in registry}


async def export_bundle(
    stores: Mapping[str, str],
    out: Path,
    key: Ed25519PrivateKey,
    registry: EventRegistry,
    *,
    personal: bool = False,
    earlier_checkpoints: Sequence[SignedCheckpoint] = (),
    schemas_dir: Path = SCHEMA_DIR,
) -> ExportSummary:
    """Write a signed handover bundle of every store to ``out`` (a directory, or ``.tar``/``.tar.gz``).

    ``personal=False`` (the default) pseudonymises: no personal field leaves, not even as ciphertext.
    ``personal=True`` keeps the stored bytes as they are: personal fields stay sealed under each person's
    key, readable only by a recipient who is also handed the key store.
    """
    archive = out if out.name.endswith((".tar", ".tar.gz", ".tgz")) else None
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ddr-export-", dir=out.parent) as staging:
        folder = Path(staging) / out.name.split(".tar")[0].removesuffix(".tgz") if archive else out
        folder.mkdir(parents=True, exist_ok=archive is None)
        personal_by_type = personal_fields_by_type(registry)
        counts: dict[str, int] = {}
        heads: list[TreeHead] = []
        for service in sorted(stores):
            count, root = await _export_store(folder, service, stores[service], personal, personal_by_type)
            counts[service] = count
            heads.append(TreeHead(service, count, root))
        checkpoint = SignedCheckpoint.sign(
            CheckpointBody(issued_at_text(datetime.now(UTC)), tuple(heads)), key
        )
        await asyncio.to_thread(
            _finish_bundle,
            folder,
            archive,
            key,
            checkpoint,
            earlier_checkpoints,
            schemas_dir,
            personal,
            counts,
            heads,
        )
    return ExportSummary(out, not personal, counts, checkpoint)


async def _export_store(
    folder: Path,
    service: str,
    url: str,
    personal: bool,
    personal_by_type: Mapping[str, frozenset[str]],
) -> tuple[int, str]:
    events_path = folder / fmt.events_file(service)
    index_path = folder / fmt.index_file(service)
    events_path.parent.mkdir(parents=True, exist_ok=True)
    tree = TreeAccumulator()
    with events_path.open("wb") as events_out, index_path.open("wb") as index_out:
        try:
            async for rows in read_store_raw(url):
                for position, _event_id, _stream, _version, _subject, payload, stored_hash in rows:
                    tree.append(event_leaf(payload))
                    entry: dict[str, Any] = {"p": position, "h": stored_hash}
                    if personal:
                        line = payload
                    else:
                        document_type = _type_of(payload)
                        line, redactions = redact(payload, personal_by_type.get(document_type, frozenset()))
                        if redactions:
                            entry["r"] = redactions
                    events_out.write(line + b"\n")
                    index_out.write(orjson.dumps(entry) + b"\n")
        except StoreMissing:
            pass
    return tree.size, tree.root().hex()


def _finish_bundle(
    folder: Path,
    archive: Path | None,
    key: Ed25519PrivateKey,
    checkpoint: SignedCheckpoint,
    earlier_checkpoints: Sequence[SignedCheckpoint],
    schemas_dir: Path,
    personal: bool,
    counts: Mapping[str, int],
    heads: Sequence[TreeHead],
) -> None:
    """Checkpoints, schemas, the signed manifest; then the archive when one was asked for."""
    write_private(folder / fmt.EXPORT_CHECKPOINT, checkpoint.to_bytes())
    for number, earlier in enumerate(earlier_checkpoints, 1):
        write_private(folder / fmt.CHECKPOINTS_DIR / f"earlier-{number:04d}.json", earlier.to_bytes())
    schemas = folder / fmt.SCHEMAS_DIR
    schemas.mkdir(parents=True, exist_ok=True)
    for schema in sorted(schemas_dir.glob("*.json")):
        shutil.copyfile(schema, schemas / schema.name)
    _sign_manifest(folder, key, pseudonymised=not personal, counts=counts, heads=heads)
    if archive is not None:
        pack_bundle(folder, archive)


def _type_of(payload: bytes) -> str:
    at = payload.rfind(b'"type":"')
    if at < 0:
        return ""
    start = at + 8
    return payload[start : payload.find(b'"', start)].decode()


def _sign_manifest(
    folder: Path,
    key: Ed25519PrivateKey,
    *,
    pseudonymised: bool,
    counts: Mapping[str, int],
    heads: Sequence[TreeHead],
) -> None:
    files = {
        str(p.relative_to(folder)): file_sha256(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name not in (fmt.MANIFEST, fmt.MANIFEST_SIGNATURE, fmt.PUBLIC_KEY)
    }
    manifest = {
        "format": fmt.BUNDLE_FORMAT,
        "created_at": issued_at_text(datetime.now(UTC)),
        "pseudonymised": pseudonymised,
        "key_id": key_id(key.public_key()),
        "services": {h.service: {"events": counts[h.service], "root": h.root} for h in heads},
        "files": files,
    }
    body = orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    write_private(folder / fmt.MANIFEST, body)
    write_private(folder / fmt.MANIFEST_SIGNATURE, base64.b64encode(key.sign(body)) + b"\n")
    (folder / fmt.PUBLIC_KEY).write_text(public_pem(key.public_key()), encoding="utf-8")


# -- verify a bundle offline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleEvent:
    service: str
    line: int
    payload: bytes  # stored bytes, or the redacted envelope
    stored_hash: str
    redactions: Mapping[str, str | None] | None  # None: the full stored bytes


def bundle_events(folder: Path, service: str) -> Iterator[BundleEvent]:
    events = folder / fmt.events_file(service)
    index = folder / fmt.index_file(service)
    for number, (payload, entry_line) in enumerate(
        zip(iter_lines(events), iter_lines(index), strict=True), 1
    ):
        entry = orjson.loads(entry_line)
        yield BundleEvent(service, number, payload, entry["h"], entry.get("r"))


def verify_bundle(
    path: Path, registry: EventRegistry, *, trusted_key: Ed25519PublicKey | None = None
) -> AuditReport:
    """Check a bundle with nothing but its own files (and the trusted key, when given)."""
    started = time.perf_counter()
    report = AuditReport()
    with opened_bundle(path) as folder:
        manifest = _verified_manifest(folder, trusted_key, report)
        if manifest is None:
            report.seconds = time.perf_counter() - started
            return report
        pseudonymised = bool(manifest["pseudonymised"])
        personal_by_type = personal_fields_by_type(registry)
        leaves: dict[str, list[bytes]] = {}
        for service in sorted(manifest["services"]):
            summary = ServiceSummary(service, store="bundle")
            report.services.append(summary)
            leaves[service] = _verify_bundle_service(
                folder, service, pseudonymised, personal_by_type, summary, report
            )
            declared = manifest["services"][service]
            if (
                len(leaves[service]) != declared["events"]
                or root_of(leaves[service]).hex() != declared["root"]
            ):
                report.offences.append(
                    Offence("manifest", service, "the events do not hash to the manifest's tree head")
                )
        _verify_bundle_checkpoints(folder, leaves, manifest, trusted_key, report)
        report.notes.append(
            f"bundle signed by key {manifest['key_id']}"
            + (" (the trusted key)" if trusted_key is not None else ": compare this fingerprint out of band")
        )
        report.notes.append(
            "pseudonymised bundle" if pseudonymised else "full bundle (personal fields sealed)"
        )
    report.seconds = time.perf_counter() - started
    return report


def _verified_manifest(
    folder: Path, trusted_key: Ed25519PublicKey | None, report: AuditReport
) -> dict[str, Any] | None:
    try:
        body = (folder / fmt.MANIFEST).read_bytes()
        signature = base64.b64decode((folder / fmt.MANIFEST_SIGNATURE).read_bytes())
        carried = load_public_key((folder / fmt.PUBLIC_KEY).read_bytes())
    except (OSError, ValueError, TypeError) as error:
        report.offences.append(
            Offence("manifest", "bundle", f"unreadable manifest, signature or key: {error}")
        )
        return None
    key = trusted_key or carried
    try:
        key.verify(signature, body)
    except InvalidSignature:
        report.offences.append(Offence("signature", "bundle", "the manifest's signature does not verify"))
        return None
    manifest: dict[str, Any] = orjson.loads(body)
    if manifest.get("format") != fmt.BUNDLE_FORMAT or manifest.get("key_id") != key_id(key):
        report.offences.append(Offence("manifest", "bundle", "unknown bundle format or signing key"))
        return None
    listed = set(manifest["files"])
    present = {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name not in (fmt.MANIFEST, fmt.MANIFEST_SIGNATURE, fmt.PUBLIC_KEY)
    }
    for name in sorted(present - listed):
        report.offences.append(Offence("manifest", "bundle", "file not in the signed manifest", where=name))
    for name in sorted(listed):
        if name not in present:
            report.offences.append(
                Offence("manifest", "bundle", "file of the manifest is missing", where=name)
            )
        elif file_sha256(folder / name) != manifest["files"][name]:
            report.offences.append(
                Offence("altered", "bundle", "file differs from its manifest hash", where=name)
            )
    return manifest


def _verify_bundle_service(
    folder: Path,
    service: str,
    pseudonymised: bool,
    personal_by_type: Mapping[str, frozenset[str]],
    summary: ServiceSummary,
    report: AuditReport,
) -> list[bytes]:
    """Each stream's chain (versions, ``prevhash`` links, and the hash itself wherever the full stored bytes
    are present), and no personal field in a pseudonymised bundle. Returns the Merkle leaves."""
    leaves: list[bytes] = []
    links: dict[str, tuple[int, str]] = {}
    for item in bundle_events(folder, service):
        where = f"{fmt.events_file(service)}:{item.line}"
        try:
            document = orjson.loads(item.payload)
            stream_id, version, event_id = document["streamid"], document["streamversion"], document["id"]
            data = document["data"]
        except (orjson.JSONDecodeError, KeyError, TypeError):
            report.offences.append(Offence("altered", service, "not an event envelope", where=where))
            continue

        def offend(kind: str, detail: str) -> None:
            report.offences.append(Offence(kind, service, detail, stream_id, version, event_id, where))  # noqa: B023

        last_version, last_hash = links.get(stream_id, (0, GENESIS_HASH))
        if version != last_version + 1:
            offend("chain", f"expected version {last_version + 1}: an event is missing or out of order")
        if document.get("prevhash") != last_hash:
            offend("chain", "does not chain to its predecessor's hash")
        links[stream_id] = (version, item.stored_hash)
        if item.redactions is None:  # the stored bytes themselves: their hash is checked too
            if hashlib.sha256(item.payload).hexdigest() != item.stored_hash:
                offend("altered", "the event's bytes do not match its hash")
            leaves.append(event_leaf(item.payload))
        else:
            leaves.append(leaf_hash(fmt.restored_commitment(item.payload, item.redactions)))
        if pseudonymised:
            leaked = personal_by_type.get(document.get("type", ""), frozenset()) & data.keys()
            if leaked or any(is_sealed(v) for v in data.values()):
                offend("personal", f"personal fields present: {sorted(leaked)}")
    summary.events = len(leaves)
    summary.streams = len(links)
    return leaves


def _verify_bundle_checkpoints(
    folder: Path,
    leaves: Mapping[str, list[bytes]],
    manifest: Mapping[str, Any],
    trusted_key: Ed25519PublicKey | None,
    report: AuditReport,
) -> None:
    """Every checkpoint carried must be validly signed and a prefix of the bundle's history."""
    files = sorted((folder / fmt.CHECKPOINTS_DIR).glob("*.json"))
    if not (folder / fmt.EXPORT_CHECKPOINT).exists():
        report.offences.append(Offence("checkpoint", "bundle", "the export checkpoint is missing"))
    for file in files:
        checkpoint = SignedCheckpoint.load(file)
        where = str(file.relative_to(folder))
        if not checkpoint.verify(trusted_key):
            report.offences.append(
                Offence("signature", "bundle", "checkpoint signature does not verify", where=where)
            )
            continue
        for head in checkpoint.body.trees:
            have = leaves.get(head.service, [])
            if head.size > len(have) or root_of(have[: head.size]).hex() != head.root:
                report.offences.append(
                    Offence(
                        "checkpoint",
                        head.service,
                        f"the bundle's first {head.size} events do not hash to the checkpoint's root",
                        where=where,
                    )
                )
        if file.name == Path(fmt.EXPORT_CHECKPOINT).name:
            sizes = {h.service: h.size for h in checkpoint.body.trees}
            if sizes != {s: v["events"] for s, v in manifest["services"].items()}:
                report.offences.append(
                    Offence("checkpoint", "bundle", "export checkpoint does not cover the bundle")
                )


# -- replay -----------------------------------------------------------------------------------------------


def received_event(
    document: dict[str, Any], registry: EventRegistry, topic: str, partition: int, offset: int
) -> ReceivedEvent:
    """A consumed event rebuilt from an envelope whose personal fields are sealed, erased or removed: those
    read as ``None``, as for an erased person (figures never depend on them)."""
    data = {k: None if is_sealed(v) else v for k, v in document["data"].items()}
    envelope = EventEnvelope.model_validate({**document, "data": data})
    model, current = registry.upcast(envelope.type, data)
    return ReceivedEvent(envelope, model.model_validate(current), topic, partition, offset)


async def bundle_received(path: Path, registry: EventRegistry) -> AsyncIterator[list[ReceivedEvent]]:
    """Every event of a bundle as the consumer would hand it over, per service in append order."""
    with opened_bundle(path) as folder:
        manifest = orjson.loads((folder / fmt.MANIFEST).read_bytes())
        for service in sorted(manifest["services"]):
            batch: list[ReceivedEvent] = []
            for item in bundle_events(folder, service):
                try:
                    batch.append(
                        received_event(
                            orjson.loads(item.payload), registry, events_topic(service), 0, item.line - 1
                        )
                    )
                except UnknownEventType:
                    continue
                if len(batch) >= 2000:
                    yield batch
                    batch = []
            if batch:
                yield batch


async def live_received(platform: Platform, registry: EventRegistry) -> AsyncIterator[list[ReceivedEvent]]:
    """Every event on the live topics (each once), as the consumer would hand it over."""
    assert platform.bootstrap_servers is not None
    seen: set[str] = set()
    for service in sorted(platform.topics):
        async for records in read_topic(platform.bootstrap_servers, platform.topics[service]):
            batch: list[ReceivedEvent] = []
            for record in records:
                if not record.value:
                    continue
                document = orjson.loads(record.value)
                if document["id"] in seen:
                    continue
                seen.add(document["id"])
                try:
                    batch.append(
                        received_event(document, registry, record.topic, record.partition, record.offset)
                    )
                except UnknownEventType:
                    continue
            if batch:
                yield batch


@dataclass(frozen=True)
class ReplayResult:
    events: int
    figures: dict[str, Any]
    path: dict[str, Any] | None


async def replay(
    source: AsyncIterator[list[ReceivedEvent]],
    engine: AsyncEngine,
    *,
    as_of: date,
    known_on: datetime | None = None,
    person_id: str | None = None,
) -> ReplayResult:
    """Feed every event into a fresh read model on ``engine`` and compute the figures (and a path)."""
    from ddr_pathway.service_layer.figures import programme_figures, read_model_table
    from ddr_pathway.service_layer.paths import read_path
    from ddr_pathway.service_layer.projector import Projector

    projector = Projector(engine)
    await projector.create_schema()
    count = 0
    async for batch in source:
        async with engine.begin() as conn:
            await projector.apply(conn, batch)
        count += len(batch)
    async with engine.connect() as conn:
        figures = await programme_figures(conn, as_of=as_of, known_on=known_on)
        path: dict[str, Any] | None = None
        if person_id is not None:
            table = await read_model_table(conn)
            found = await read_path(
                conn, table, person_id, now=datetime.now(UTC), as_of=as_of, known_on=known_on
            )
            path = None if found is None else found.model_dump(mode="json")
    return ReplayResult(count, figures.model_dump(mode="json"), path)


async def verify_extends(stores: Mapping[str, str], checkpoint: SignedCheckpoint) -> list[Offence]:
    """Offences when today's stores do not extend ``checkpoint`` (or its signature does not hold)."""
    if not checkpoint.verify():
        return [Offence("signature", "checkpoint", "the checkpoint's signature does not verify")]
    leaves = await platform_leaves(stores)
    return [
        Offence("checkpoint", finding.service, str(finding))
        for finding in check_extends(checkpoint, leaves)
        if not finding.ok
    ]
