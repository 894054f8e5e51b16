"""Contract events of the platform audit (published by the pathway service on ``ddr.pathway.events``):
signed checkpoints over every service's history. Defined here by the audit work.

Subject and stream: ``platform-audit``. No personal field: a checkpoint holds only tree sizes and hashes.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict

from ddr_contracts.events import DomainEvent, event

CHECKPOINT_SUBJECT = "platform-audit"
CHECKPOINT_STREAM = "platform-audit-checkpoints"


class CheckpointTree(BaseModel):
    """One service store's RFC 9162 Merkle tree head: its first ``size`` events in append order."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    service: str
    size: int
    root: str  # SHA-256, hex


@event
class CheckpointSigned(DomainEvent):
    """The platform signed (Ed25519) the tree heads of every store at ``issued_at``.

    ``signature`` (base64) is over the canonical JSON of ``{"format", "issued_at", "trees"}`` (see
    ``docs/audit.md``); ``key_id`` is the SHA-256 of the raw public key, ``public_key`` its PEM.
    """

    name = "ddr.pathway.CheckpointSigned"
    version = 1

    checkpoint_format: str
    issued_at: datetime
    trees: tuple[CheckpointTree, ...]
    digest: str
    key_id: str
    public_key: str
    signature: str
