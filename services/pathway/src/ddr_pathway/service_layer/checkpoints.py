"""Signed checkpoints: the platform's Ed25519 signature over every store's RFC 9162 tree head.

Taken on demand (``ddr audit checkpoint``) and periodically by the pathway service
(:func:`start_checkpoint_publisher`, started from its lifespan). Each is appended to the pathway store as a
``CheckpointSigned`` event (so the relay publishes it on the pathway topic) and written as a file under
``<var>/audit/checkpoints/`` beside the public key. Whoever keeps one can later check, with a consistency
proof, that the platform's history extends it (:func:`check_extends`).

Key management mirrors the JWT key of ``ddr_runtime.auth.issuer``: production passes the private key in
``DDR_AUDIT_SIGNING_KEY`` (PEM) and refuses to run without it; development creates one under
``<var>/secrets/audit-ed25519.pem`` on first use.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import logging
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from ddr_contracts.audit import CHECKPOINT_STREAM, CHECKPOINT_SUBJECT, CheckpointSigned, CheckpointTree
from ddr_contracts.topics import SERVICES
from ddr_pathway.adapters.audit_sources import StoreMissing, read_store_raw
from ddr_pathway.domain.bundle import CHECKPOINT_FORMAT, CheckpointBody, TreeHead, event_leaf
from ddr_pathway.domain.merkle import consistency_proof, root_of, verify_consistency
from ddr_runtime.config import Settings, service_settings
from ddr_runtime.eventstore.errors import ConcurrencyConflict
from ddr_runtime.eventstore.store import Causation, EventStore, NewEvent

log = logging.getLogger(__name__)

SIGNING_KEY_ENV = "DDR_AUDIT_SIGNING_KEY"
PRIVATE_KEY_FILE = "audit-ed25519.pem"
PUBLIC_KEY_FILE = "checkpoint-key.pub.pem"
ACTOR = "service:pathway-audit"


# -- keys -------------------------------------------------------------------------------------------------


def audit_dir(settings: Settings) -> Path:
    return settings.var_dir / "audit"


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The platform's checkpoint signing key: ``DDR_AUDIT_SIGNING_KEY`` (PEM), or in development a key
    under ``<var>/secrets`` created on first use. Production refuses to run without the variable."""
    configured = os.environ.get(SIGNING_KEY_ENV, "")
    if configured:
        key = load_pem_private_key(configured.encode(), password=None)
    elif settings.environment == "production":
        raise RuntimeError(f"{SIGNING_KEY_ENV} must be set in production")
    else:
        path = settings.var_dir / "secrets" / PRIVATE_KEY_FILE
        if not path.exists():
            _create_exclusively(path, _private_pem(Ed25519PrivateKey.generate()))
        key = load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise TypeError("the audit signing key is not an Ed25519 private key")
    return key


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode()


def key_id(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key: the fingerprint to publish and to compare out of band."""
    return hashlib.sha256(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).hexdigest()


def load_public_key(pem: str | bytes) -> Ed25519PublicKey:
    key = load_pem_public_key(pem.encode() if isinstance(pem, str) else pem)
    if not isinstance(key, Ed25519PublicKey):
        raise TypeError("not an Ed25519 public key")
    return key


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())


def _create_exclusively(path: Path, content: bytes) -> None:
    """Write ``path`` (0600) unless it exists; two processes racing agree on the first one written."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as stream:
            stream.write(content)
        with contextlib.suppress(FileExistsError):
            path.hardlink_to(temporary)
    finally:
        temporary.unlink(missing_ok=True)


# -- signed checkpoints -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedCheckpoint:
    body: CheckpointBody
    key_id: str
    public_key: str  # PEM
    signature: str  # base64 Ed25519 over body.signed_bytes()

    @classmethod
    def sign(cls, body: CheckpointBody, key: Ed25519PrivateKey) -> SignedCheckpoint:
        signature = base64.b64encode(key.sign(body.signed_bytes())).decode()
        return cls(body, key_id(key.public_key()), public_pem(key.public_key()), signature)

    def verify(self, trusted: Ed25519PublicKey | None = None) -> bool:
        """The signature holds under ``trusted`` (or the key carried, which must match its own id)."""
        try:
            key = trusted or load_public_key(self.public_key)
            if trusted is None and key_id(key) != self.key_id:
                return False
            key.verify(base64.b64decode(self.signature), self.body.signed_bytes())
        except (InvalidSignature, ValueError, TypeError):
            return False
        return True

    def as_json(self) -> dict[str, Any]:
        return {
            "checkpoint": self.body.as_json(),
            "digest": self.body.digest,
            "key_id": self.key_id,
            "public_key": self.public_key,
            "signature": self.signature,
        }

    def to_bytes(self) -> bytes:
        return orjson.dumps(self.as_json(), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> SignedCheckpoint:
        return cls(
            CheckpointBody.from_json(document["checkpoint"]),
            str(document["key_id"]),
            str(document["public_key"]),
            str(document["signature"]),
        )

    @classmethod
    def load(cls, path: Path) -> SignedCheckpoint:
        return cls.from_json(orjson.loads(path.read_bytes()))

    def to_event(self) -> CheckpointSigned:
        return CheckpointSigned(
            checkpoint_format=CHECKPOINT_FORMAT,
            issued_at=datetime.fromisoformat(self.body.issued_at),
            trees=tuple(CheckpointTree(service=t.service, size=t.size, root=t.root) for t in self.body.trees),
            digest=self.body.digest,
            key_id=self.key_id,
            public_key=self.public_key,
            signature=self.signature,
        )

    @classmethod
    def from_event(cls, event: CheckpointSigned) -> SignedCheckpoint:
        body = CheckpointBody(
            issued_at_text(event.issued_at),
            tuple(TreeHead(t.service, t.size, t.root) for t in event.trees),
        )
        return cls(body, event.key_id, event.public_key, event.signature)


def issued_at_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


# -- tree heads -------------------------------------------------------------------------------------------


def platform_stores(settings: Settings) -> dict[str, str]:
    """Each service's store URL as this process sees it (``DDR_<SVC>_DATABASE_URL``, else var/stores)."""
    stores: dict[str, str] = {}
    for service in SERVICES:
        if service == settings.service_name:
            stores[service] = settings.store_url()
        else:
            stores[service] = service_settings(service, var_dir=settings.var_dir).store_url()
    return stores


async def store_leaves(url: str) -> list[bytes]:
    """Every event's Merkle leaf in the store's append order (empty for a store that does not exist)."""
    leaves: list[bytes] = []
    try:
        async for rows in read_store_raw(url):
            leaves.extend(event_leaf(row[5]) for row in rows)
    except StoreMissing:
        return []
    return leaves


async def platform_leaves(stores: Mapping[str, str]) -> dict[str, list[bytes]]:
    return {service: await store_leaves(url) for service, url in sorted(stores.items())}


def heads_of(leaves: Mapping[str, list[bytes]]) -> tuple[TreeHead, ...]:
    return tuple(TreeHead(service, len(ls), root_of(ls).hex()) for service, ls in sorted(leaves.items()))


async def take_checkpoint(stores: Mapping[str, str], key: Ed25519PrivateKey) -> SignedCheckpoint:
    """Sign the tree heads of every store as they are now."""
    issued = issued_at_text(datetime.now(UTC))
    leaves = await platform_leaves(stores)
    return SignedCheckpoint.sign(CheckpointBody(issued, heads_of(leaves)), key)


async def publish_checkpoint(store: EventStore, checkpoint: SignedCheckpoint, folder: Path) -> Path:
    """Append the ``CheckpointSigned`` event (the relay publishes it) and write the file and public key."""
    for _ in range(5):
        version = await store.stream_version(CHECKPOINT_STREAM)
        try:
            await store.append(
                CHECKPOINT_STREAM,
                version,
                [NewEvent(checkpoint.to_event(), CHECKPOINT_SUBJECT)],
                Causation(ACTOR),
            )
            break
        except ConcurrencyConflict:
            continue
    else:
        raise ConcurrencyConflict(CHECKPOINT_STREAM, -1)
    return write_checkpoint_file(checkpoint, folder)


def write_checkpoint_file(checkpoint: SignedCheckpoint, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    stamp = checkpoint.body.issued_at.replace(":", "").replace("+0000", "Z")
    path = folder / "checkpoints" / f"{stamp}-{checkpoint.body.digest[:12]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(checkpoint.to_bytes())
    (folder / PUBLIC_KEY_FILE).write_text(checkpoint.public_key, encoding="utf-8")
    return path


def saved_checkpoints(folder: Path) -> list[SignedCheckpoint]:
    """The checkpoint files under ``folder/checkpoints``, oldest first."""
    directory = folder / "checkpoints"
    if not directory.is_dir():
        return []
    found = [SignedCheckpoint.load(p) for p in sorted(directory.glob("*.json"))]
    return sorted(found, key=lambda c: c.body.issued_at)


# -- consistency ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsistencyFinding:
    service: str
    old_size: int
    new_size: int
    ok: bool
    detail: str

    def __str__(self) -> str:
        verdict = "extends" if self.ok else "DOES NOT extend"
        return f"{self.service}: history of {self.new_size} {verdict} checkpoint of {self.old_size}: {self.detail}"


def check_extends(old: SignedCheckpoint, leaves: Mapping[str, list[bytes]]) -> list[ConsistencyFinding]:
    """For every store of ``old``: build the RFC 9162 consistency proof from today's leaves and verify it
    against the old tree head (as a party holding only the old checkpoint and the proof would)."""
    findings: list[ConsistencyFinding] = []
    for head in old.body.trees:
        current = leaves.get(head.service, [])
        new_size = len(current)
        if head.size > new_size:
            findings.append(
                ConsistencyFinding(head.service, head.size, new_size, False, "events were removed")
            )
            continue
        proof = consistency_proof(current, head.size)
        new_root = root_of(current)
        ok = verify_consistency(head.size, new_size, bytes.fromhex(head.root), new_root, proof)
        detail = f"proof of {len(proof)} hashes verified" if ok else "proof fails: history was rewritten"
        findings.append(ConsistencyFinding(head.service, head.size, new_size, ok, detail))
    return findings


def proof_document(old: SignedCheckpoint, leaves: Mapping[str, list[bytes]]) -> dict[str, Any]:
    """A consistency proof to hand to whoever holds ``old``: per store, new size, new root, proof path."""
    return {
        "from": old.body.digest,
        "trees": [
            {
                "service": head.service,
                "old_size": head.size,
                "new_size": len(leaves.get(head.service, [])),
                "new_root": root_of(leaves.get(head.service, [])).hex(),
                "proof": [p.hex() for p in consistency_proof(leaves.get(head.service, []), head.size)]
                if head.size <= len(leaves.get(head.service, []))
                else None,
            }
            for head in old.body.trees
        ],
    }


# -- the periodic publisher -------------------------------------------------------------------------------


async def checkpoint_loop(
    store: EventStore, settings: Settings, every_seconds: float, stop: asyncio.Event
) -> None:
    """Take and publish a checkpoint now and then every ``every_seconds`` until ``stop`` is set."""
    key = signing_key(settings)
    stores = platform_stores(settings)
    while not stop.is_set():
        try:
            checkpoint = await take_checkpoint(stores, key)
            await publish_checkpoint(store, checkpoint, audit_dir(settings))
            log.info("audit checkpoint %s signed", checkpoint.body.digest[:12])
        except Exception:
            log.exception("audit checkpoint failed; trying again at the next interval")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every_seconds)


def start_checkpoint_publisher(
    store: EventStore, settings: Settings, every_seconds: float = 3600.0
) -> tuple[asyncio.Task[None], asyncio.Event]:
    """For the pathway service's lifespan: start the periodic publisher; set the event to stop it, then
    await the task."""
    stop = asyncio.Event()
    task = asyncio.create_task(
        checkpoint_loop(store, settings, every_seconds, stop), name="audit-checkpoints"
    )
    return task, stop
