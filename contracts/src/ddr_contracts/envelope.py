"""The one envelope every domain event travels in.

CloudEvents 1.0 attribute names (``id``, ``source``, ``type``, ``subject``, ``time``, ``specversion``,
``datacontenttype``, ``dataschema``) plus the platform's extension attributes, all lower-case as CloudEvents
requires: the stream and its version, correlation and causation ids, the actor, business time
(``occurredat``) versus record time (``recordedat``, also carried as ``time``), W3C trace context, the
predecessor's hash in the stream's hash chain, and, for history recorded late, the role that allowed it and
the reason given (``backrecordrole``, ``backrecordreason``).

The stored bytes of an event are the canonical JSON of this envelope (:func:`canonical_bytes`); the
event's own hash is SHA-256 over those bytes and travels beside them (a column in the store, a header on
Kafka), so anyone holding the bytes can recompute it.
"""

from __future__ import annotations

import hashlib
from typing import Any, Literal

import orjson
import pydantic_core
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

GENESIS_HASH = "0" * 64
"""The ``prevhash`` of the first event of every stream."""

ENCRYPTED_PREFIX = "enc:v1:"
"""Marks a personal field's value as AES-GCM ciphertext under its subject's key."""

OPTIONAL_WHEN_ABSENT = ("backrecordrole", "backrecordreason")
"""Envelope attributes left out of the stored document when they have no value."""


class EventEnvelope(BaseModel):
    """One stored, published event. Immutable; ``data`` holds personal fields encrypted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    specversion: Literal["1.0"] = "1.0"
    id: str = Field(description="Unique event id (UUID); the idempotency key of every consumer")
    source: str = Field(description="The producing service, as a URI reference: /ddr/<service>")
    type: str = Field(description="Versioned event type, e.g. ddr.registration.PersonPreRegistered.v1")
    subject: str = Field(description="Whom the event is about (person or project id): the Kafka key")
    time: AwareDatetime = Field(description="When the event was recorded (same instant as recordedat)")
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str = Field(description="Reference to the JSON Schema of data, under contracts/schemas/")
    streamid: str
    streamversion: int = Field(ge=1)
    correlationid: str
    causationid: str | None = None
    actor: str = Field(description="Who did it: a user id, or service:<name> for automatic policies")
    occurredat: AwareDatetime = Field(description="Business time: when it happened in the world")
    recordedat: AwareDatetime = Field(description="System time: when the platform recorded it")
    traceparent: str | None = None
    tracestate: str | None = None
    prevhash: str = Field(pattern="^[0-9a-f]{64}$", description="Hash of the stream's previous event")
    backrecordrole: str | None = Field(
        default=None,
        description="Recorded more than the back-recording window after it occurred: the role that allowed it",
    )
    backrecordreason: str | None = Field(
        default=None, description="Why history was recorded late (never anything about a person)"
    )
    data: dict[str, Any]

    def canonical_bytes(self) -> bytes:
        return canonical_bytes(self.document())

    def document(self) -> dict[str, Any]:
        """The envelope as the JSON document whose canonical bytes are stored and hashed. The back-recording
        attributes appear only on events recorded late, so the bytes of every other event are unchanged."""
        unset = {name for name in OPTIONAL_WHEN_ABSENT if getattr(self, name) is None}
        return self.model_dump(mode="json", round_trip=True, exclude=unset or None)

    @classmethod
    def from_bytes(cls, payload: bytes) -> EventEnvelope:
        return cls.model_validate_json(payload)


def canonical_bytes(document: dict[str, Any]) -> bytes:
    """Deterministic JSON: sorted keys, no insignificant white space, UTF-8 (non-ASCII kept as is)."""
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def chain_hash(payload: bytes) -> str:
    """The hash of one stored event: SHA-256 over its stored bytes (which include ``prevhash``)."""
    return hashlib.sha256(payload).hexdigest()


def schema_ref(event_type: str) -> str:
    """``dataschema`` of an event type: its schema file under contracts/schemas/."""
    return f"contracts/schemas/{event_type}.json"


def to_jsonable(value: Any) -> Any:
    """JSON-compatible form of a Python value (dates as ISO strings), as pydantic would dump it."""
    return pydantic_core.to_jsonable_python(value)


__all__ = [
    "ENCRYPTED_PREFIX",
    "GENESIS_HASH",
    "EventEnvelope",
    "canonical_bytes",
    "chain_hash",
    "schema_ref",
    "to_jsonable",
]
