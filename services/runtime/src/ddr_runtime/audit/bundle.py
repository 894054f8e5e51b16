"""Handover bundles: a signed, self-verifying copy of every store's history (``ddr audit export``), and its
offline verification (``ddr audit verify --bundle``).

```
manifest.json  manifest.sig  public-key.pem          # manifest: format, key_id, per-service size/root, SHA-256 of every file
events/<service>.events                              # one envelope per line, append order
events/<service>.index.jsonl                         # {"p": position, "h": stored hash, "r": redactions}
checkpoints/export.json  checkpoints/earlier-*.json  # signed at export over exactly these events; earlier ones kept
schemas/*.json                                       # the contract JSON schemas
```
A pseudonymised bundle (the default) holds no personal field at all, only what commits to them
(``ddr_runtime.audit.commitment``); a full one holds the stored bytes, personal fields still sealed per person.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ddr_contracts.envelope import GENESIS_HASH
from ddr_contracts.events import EventRegistry
from ddr_contracts.schemas import SCHEMA_DIR
from ddr_runtime.audit.commitment import event_leaf, redact, restored_commitment
from ddr_runtime.audit.merkle import TreeAccumulator, leaf_hash, root_of
from ddr_runtime.audit.platform import AuditReport, Offence, ServiceSummary
from ddr_runtime.audit.signing import (
    CheckpointBody,
    SignedCheckpoint,
    TreeHead,
    issued_at_text,
    key_id,
    load_public_key,
    public_pem,
)
from ddr_runtime.audit.sources import (
    StoreMissing,
    file_sha256,
    iter_lines,
    opened_bundle,
    pack_bundle,
    read_store_raw,
    write_private,
)
from ddr_runtime.crypto.cipher import is_sealed

BUNDLE_FORMAT = "ddr-audit-bundle/1"
MANIFEST = "manifest.json"
MANIFEST_SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public-key.pem"
EVENTS_DIR = "events"
SCHEMAS_DIR = "schemas"
CHECKPOINTS_DIR = "checkpoints"
EXPORT_CHECKPOINT = "checkpoints/export.json"


def events_file(service: str) -> str:
    """One stored (or redacted) envelope per line, in the store's append order."""
    return f"{EVENTS_DIR}/{service}.events"


def index_file(service: str) -> str:
    """One JSON line per event: its stored hash, position, and redactions in a pseudonymised bundle."""
    return f"{EVENTS_DIR}/{service}.index.jsonl"


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
    events_path = folder / events_file(service)
    index_path = folder / index_file(service)
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
    write_private(folder / EXPORT_CHECKPOINT, checkpoint.to_bytes())
    for number, earlier in enumerate(earlier_checkpoints, 1):
        write_private(folder / CHECKPOINTS_DIR / f"earlier-{number:04d}.json", earlier.to_bytes())
    schemas = folder / SCHEMAS_DIR
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
        if p.is_file() and p.name not in (MANIFEST, MANIFEST_SIGNATURE, PUBLIC_KEY)
    }
    manifest = {
        "format": BUNDLE_FORMAT,
        "created_at": issued_at_text(datetime.now(UTC)),
        "pseudonymised": pseudonymised,
        "key_id": key_id(key.public_key()),
        "services": {h.service: {"events": counts[h.service], "root": h.root} for h in heads},
        "files": files,
    }
    body = orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
    write_private(folder / MANIFEST, body)
    write_private(folder / MANIFEST_SIGNATURE, base64.b64encode(key.sign(body)) + b"\n")
    (folder / PUBLIC_KEY).write_text(public_pem(key.public_key()), encoding="utf-8")


# -- verify a bundle offline ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BundleEvent:
    service: str
    line: int
    payload: bytes  # stored bytes, or the redacted envelope
    stored_hash: str
    redactions: Mapping[str, str | None] | None  # None: the full stored bytes


def bundle_events(folder: Path, service: str) -> Iterator[BundleEvent]:
    events = folder / events_file(service)
    index = folder / index_file(service)
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
        body = (folder / MANIFEST).read_bytes()
        signature = base64.b64decode((folder / MANIFEST_SIGNATURE).read_bytes())
        carried = load_public_key((folder / PUBLIC_KEY).read_bytes())
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
    if manifest.get("format") != BUNDLE_FORMAT or manifest.get("key_id") != key_id(key):
        report.offences.append(Offence("manifest", "bundle", "unknown bundle format or signing key"))
        return None
    listed = set(manifest["files"])
    present = {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name not in (MANIFEST, MANIFEST_SIGNATURE, PUBLIC_KEY)
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
        where = f"{events_file(service)}:{item.line}"
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
            leaves.append(leaf_hash(restored_commitment(item.payload, item.redactions)))
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
    """Every checkpoint carried must be validly signed and a prefix of the bundle's history. The export
    checkpoint is the bundle signer's (``trusted_key``); the earlier ones are each service's own, verified under
    the key they carry, whose fingerprints the report names for comparing out of band."""
    files = sorted((folder / CHECKPOINTS_DIR).glob("*.json"))
    if not (folder / EXPORT_CHECKPOINT).exists():
        report.offences.append(Offence("checkpoint", "bundle", "the export checkpoint is missing"))
    signers: set[str] = set()
    for file in files:
        checkpoint = SignedCheckpoint.load(file)
        where = str(file.relative_to(folder))
        exported = file.name == Path(EXPORT_CHECKPOINT).name
        if not exported:
            signers.add(checkpoint.key_id)
        if not checkpoint.verify(trusted_key if exported else None):
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
        if exported:
            sizes = {h.service: h.size for h in checkpoint.body.trees}
            if sizes != {s: v["events"] for s, v in manifest["services"].items()}:
                report.offences.append(
                    Offence("checkpoint", "bundle", "export checkpoint does not cover the bundle")
                )
    if signers:
        report.notes.append(f"earlier checkpoints signed by key {', '.join(sorted(signers))}")


async def bundle_documents(path: Path) -> AsyncIterator[list[tuple[str, dict[str, Any]]]]:
    """Every envelope of a bundle (personal fields removed or sealed), with its service, per service in append
    order, in batches: what an offline replay feeds a read model."""
    with opened_bundle(path) as folder:
        manifest = orjson.loads((folder / MANIFEST).read_bytes())
        for service in sorted(manifest["services"]):
            batch: list[tuple[str, dict[str, Any]]] = []
            for item in bundle_events(folder, service):
                batch.append((service, orjson.loads(item.payload)))
                if len(batch) >= 2000:
                    yield batch
                    batch = []
            if batch:
                yield batch
