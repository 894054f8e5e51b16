"""Signed checkpoints: an Ed25519 signature over RFC 9162 tree heads, and the key that makes it.

A checkpoint body names one or more stores' tree heads at one moment: a service's own checkpoint names its own
store; a handover bundle's names every store it carries. Both are signed the same way, over the canonical JSON
of ``{"format": "ddr-checkpoint/1", "issued_at", "trees": [{service, size, root}]}``; the SHA-256 of those
bytes (``digest``) names the checkpoint, and ``key_id`` (SHA-256 of the raw public key) names the key.

Key management mirrors the JWT key of ``ddr_runtime.auth.issuer``: production passes the private key in
``DDR_AUDIT_SIGNING_KEY`` (PKCS#8 PEM) and refuses to run without it; development creates one under
``<var>/secrets/audit-ed25519.pem`` on first use.
"""

from __future__ import annotations

import base64
import hashlib
import os
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
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from ddr_contracts.envelope import canonical_bytes
from ddr_runtime.auth.issuer import create_exclusively, private_key_pem
from ddr_runtime.config import Settings

CHECKPOINT_FORMAT = "ddr-checkpoint/1"
SIGNING_KEY_ENV = "DDR_AUDIT_SIGNING_KEY"
PRIVATE_KEY_FILE = "audit-ed25519.pem"


# -- keys -------------------------------------------------------------------------------------------------


def signing_key(settings: Settings) -> Ed25519PrivateKey:
    """The checkpoint signing key: ``DDR_AUDIT_SIGNING_KEY`` (PEM), or in development a key under
    ``<var>/secrets`` created on first use. Production refuses to run without the variable."""
    configured = os.environ.get(SIGNING_KEY_ENV, "")
    if configured:
        key = load_pem_private_key(configured.encode(), password=None)
    elif settings.environment == "production":
        raise RuntimeError(f"{SIGNING_KEY_ENV} must be set in production")
    else:
        path = settings.var_dir / "secrets" / PRIVATE_KEY_FILE
        if not path.exists():
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            create_exclusively(path, private_key_pem(Ed25519PrivateKey.generate()))
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


# -- checkpoints ------------------------------------------------------------------------------------------


def issued_at_text(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


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
    """What is signed: tree heads at one moment."""

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
