"""What the audit commits to and hands over: event commitments, redaction, checkpoints and bundle formats.

**Leaf commitment.** A checkpoint's Merkle leaf for an event is ``leaf_hash(commitment(stored bytes))``. The
commitment is the stored envelope with each sealed personal value (``enc:v1:...`` AES-GCM ciphertext)
replaced by ``sha256:<hex of the ciphertext>``; an event holding no sealed value commits to its stored bytes
as they are. It is computed from the stored bytes alone (no key, no contract registry), so erasing a person
(destroying their key) never changes it, and a pseudonymised bundle, which carries only those digests, still
reproduces every leaf, root and signature.

**Redaction.** A pseudonymised bundle holds each event's envelope without any personal field (neither the
value nor its ciphertext: the key is removed from ``data``) and, beside it, the digest of each removed
ciphertext (``None`` for a personal field that was empty).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from ddr_contracts.envelope import ENCRYPTED_PREFIX, canonical_bytes
from ddr_pathway.domain.merkle import leaf_hash

SEALED_DIGEST_PREFIX = "sha256:"
_SEALED_MARK = b'"' + ENCRYPTED_PREFIX.encode()
_PREVHASH_KEY = b'"prevhash":"'

Redactions = dict[str, str | None]
"""Personal field name -> SHA-256 hex of its ciphertext (``None``: the field was empty)."""


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(ENCRYPTED_PREFIX)


def sealed_digest(value: str) -> str:
    return SEALED_DIGEST_PREFIX + hashlib.sha256(value.encode()).hexdigest()


def commitment(payload: bytes) -> bytes:
    """The bytes a checkpoint commits to for one stored event (see the module's docstring)."""
    if _SEALED_MARK not in payload:
        return payload
    document = orjson.loads(payload)
    data = document.get("data")
    if not isinstance(data, dict) or not any(is_sealed(v) for v in data.values()):
        return payload
    document["data"] = {k: sealed_digest(v) if is_sealed(v) else v for k, v in data.items()}
    return canonical_bytes(document)


def event_leaf(payload: bytes) -> bytes:
    """The Merkle leaf hash of one stored event."""
    return leaf_hash(commitment(payload))


def redact(payload: bytes, personal_fields: Iterable[str]) -> tuple[bytes, Redactions]:
    """The envelope without its personal fields (every sealed value, and the type's personal fields), and
    what commits to them. An event with nothing to remove is returned as stored."""
    document = orjson.loads(payload)
    data = document.get("data")
    if not isinstance(data, dict):
        return payload, {}
    removed = {k for k, v in data.items() if is_sealed(v)} | (set(personal_fields) & data.keys())
    if not removed:
        return payload, {}
    redactions: Redactions = {}
    for name in sorted(removed):
        value = data.pop(name)
        redactions[name] = sealed_digest(value)[len(SEALED_DIGEST_PREFIX) :] if is_sealed(value) else None
        if value is not None and not is_sealed(value):
            raise ValueError(f"personal field {name!r} holds a value that is not sealed")
    return canonical_bytes(document), redactions


def restored_commitment(redacted: bytes, redactions: Mapping[str, str | None]) -> bytes:
    """The commitment of an event from its redacted form: equal to :func:`commitment` of the stored bytes."""
    if not redactions:
        return redacted
    document = orjson.loads(redacted)
    data = dict(document["data"])
    for name, digest in redactions.items():
        data[name] = None if digest is None else SEALED_DIGEST_PREFIX + digest
    document["data"] = data
    return canonical_bytes(document)


def prevhash_of(payload: bytes) -> bytes:
    """The envelope's ``prevhash`` read straight from canonical bytes (keys sorted: it follows ``data``,
    and no key after it can hold an unescaped quote), without parsing the event."""
    at = payload.rfind(_PREVHASH_KEY)
    if at < 0:
        return b""
    start = at + len(_PREVHASH_KEY)
    return payload[start : start + 64]


# -- checkpoints ------------------------------------------------------------------------------------------

CHECKPOINT_FORMAT = "ddr-checkpoint/1"


@dataclass(frozen=True)
class TreeHead:
    """One store's Merkle tree: its first ``size`` events in append order hash to ``root``."""

    service: str
    size: int
    root: str  # hex

    def as_json(self) -> dict[str, Any]:
        return {"service": self.service, "size": self.size, "root": self.root}


@dataclass(frozen=True)
class CheckpointBody:
    """What the platform signs: every store's tree head at one moment."""

    issued_at: str  # ISO 8601, UTC
    trees: tuple[TreeHead, ...]

    def as_json(self) -> dict[str, Any]:
        return {
            "format": CHECKPOINT_FORMAT,
            "issued_at": self.issued_at,
            "trees": [t.as_json() for t in sorted(self.trees, key=lambda t: t.service)],
        }

    def signed_bytes(self) -> bytes:
        return canonical_bytes(self.as_json())

    @property
    def digest(self) -> str:
        """SHA-256 over the signed bytes: the one value that names this checkpoint."""
        return hashlib.sha256(self.signed_bytes()).hexdigest()

    def tree(self, service: str) -> TreeHead | None:
        return next((t for t in self.trees if t.service == service), None)

    @classmethod
    def from_json(cls, document: Mapping[str, Any]) -> CheckpointBody:
        if document.get("format") != CHECKPOINT_FORMAT:
            raise ValueError(f"not a {CHECKPOINT_FORMAT} checkpoint")
        trees = tuple(TreeHead(str(t["service"]), int(t["size"]), str(t["root"])) for t in document["trees"])
        return cls(str(document["issued_at"]), trees)


# -- handover bundles -------------------------------------------------------------------------------------

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
