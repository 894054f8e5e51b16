"""What a checkpoint commits to for each stored event, and how a pseudonymised bundle carries it.

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

import orjson

from ddr_contracts.envelope import ENCRYPTED_PREFIX, canonical_bytes
from ddr_runtime.audit.merkle import leaf_hash
from ddr_runtime.crypto.cipher import is_sealed

SEALED_DIGEST_PREFIX = "sha256:"
_SEALED_MARK = b'"' + ENCRYPTED_PREFIX.encode()

Redactions = dict[str, str | None]
"""Personal field name -> SHA-256 hex of its ciphertext (``None``: the field was empty)."""


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
