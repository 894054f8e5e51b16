"""Contract events of the platform audit: signed checkpoints over the services' histories.

Each service signs the RFC 9162 tree head of its own event store and publishes it on the checkpoints topic
(``ddr.audit.checkpoints``) as :class:`StoreCheckpointSigned`: subject ``store:<service>`` (the Kafka key, so one
store's checkpoints keep their order), stream ``audit-checkpoints:<service>``, one hash chain of checkpoints per
store. No personal field: a checkpoint holds only a tree size and hashes.

:class:`CheckpointSigned` is the platform-wide checkpoint the pathway service published on its own topic
before each service signed its own; it stays registered so that histories holding it still read.
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


def checkpoint_subject(service: str) -> str:
    """The subject (Kafka key) of ``service``'s checkpoints."""
    return f"store:{service}"


def checkpoint_stream(service: str) -> str:
    """The stream that chains ``service``'s checkpoints one to the next."""
    return f"audit-checkpoints:{service}"


@event
class StoreCheckpointSigned(DomainEvent):
    """``service`` signed (Ed25519) the tree head of its event store at ``issued_at``: its first ``size``
    events, in the store's append order, hash to ``root`` (RFC 9162; leaves as ``docs/audit.md`` says).

    ``signature`` (base64) is over the canonical JSON of ``{"format", "issued_at", "trees": [{service, size,
    root}]}``, the same body a handover bundle's checkpoint signs; ``digest`` is the SHA-256 of that body,
    ``key_id`` the SHA-256 of the raw public key, ``public_key`` its PEM.
    """

    name = "ddr.audit.StoreCheckpointSigned"
    version = 1

    service: str
    size: int
    root: str  # SHA-256, hex
    checkpoint_format: str
    issued_at: datetime
    digest: str
    key_id: str
    public_key: str
    signature: str


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
