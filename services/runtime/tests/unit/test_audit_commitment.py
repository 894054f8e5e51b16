"""Leaf commitments and redaction (pure functions): what survives pseudonymisation and erasure."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from ddr_contracts.envelope import GENESIS_HASH, canonical_bytes, chain_hash
from ddr_runtime.audit.commitment import commitment, event_leaf, redact, restored_commitment
from ddr_runtime.audit.signing import CheckpointBody, TreeHead
from ddr_runtime.eventstore.verify import prevhash_of

SEALED = "enc:v1:" + "QUJD" * 20


def stored(data: dict[str, Any], prevhash: str = GENESIS_HASH) -> bytes:
    return canonical_bytes(
        {
            "actor": "u1",
            "causationid": None,
            "correlationid": "c",
            "data": data,
            "datacontenttype": "application/json",
            "dataschema": "contracts/schemas/ddr.registration.PersonRegistered.v1.json",
            "id": "e-1",
            "occurredat": "2019-01-01T00:00:00Z",
            "prevhash": prevhash,
            "recordedat": "2019-01-01T00:00:00Z",
            "source": "/ddr/registration",
            "specversion": "1.0",
            "streamid": "person-1",
            "streamversion": 1,
            "subject": "p1",
            "time": "2019-01-01T00:00:00Z",
            "traceparent": None,
            "tracestate": None,
            "type": "ddr.registration.PersonRegistered.v1",
        }
    )


def test_an_event_without_sealed_values_commits_to_its_stored_bytes() -> None:
    payload = stored({"person_id": "p1", "ddr_id": "ML-1", "biometric_hash": None})
    assert commitment(payload) == payload


def test_a_sealed_value_is_committed_by_its_digest_not_its_ciphertext() -> None:
    payload = stored({"person_id": "p1", "ddr_id": "ML-1", "biometric_hash": SEALED})
    committed = orjson.loads(commitment(payload))
    assert committed["data"]["biometric_hash"].startswith("sha256:")
    assert SEALED.encode() not in commitment(payload)


def test_redaction_removes_every_personal_field_and_keeps_the_leaf() -> None:
    payload = stored({"person_id": "p1", "ddr_id": "ML-1", "biometric_hash": SEALED, "full_name": None})
    redacted, redactions = redact(payload, {"biometric_hash", "full_name"})
    data = orjson.loads(redacted)["data"]
    assert set(data) == {"person_id", "ddr_id"}
    assert b"enc:v1:" not in redacted
    assert redactions["full_name"] is None
    assert restored_commitment(redacted, redactions) == commitment(payload)


def test_an_event_with_only_empty_personal_fields_restores_its_stored_bytes() -> None:
    payload = stored({"person_id": "p1", "ddr_id": "ML-1", "biometric_hash": None})
    redacted, redactions = redact(payload, {"biometric_hash"})
    assert redactions == {"biometric_hash": None}
    assert restored_commitment(redacted, redactions) == payload


def test_a_plaintext_personal_value_refuses_to_be_exported() -> None:
    payload = stored({"person_id": "p1", "ddr_id": "ML-1", "biometric_hash": "not sealed"})
    with pytest.raises(ValueError):
        redact(payload, {"biometric_hash"})


def test_a_changed_ciphertext_changes_the_leaf() -> None:
    one = stored({"person_id": "p1", "ddr_id": "ML-1", "biometric_hash": SEALED})
    other = stored({"person_id": "p1", "ddr_id": "ML-1", "biometric_hash": SEALED[:-1] + "x"})
    assert event_leaf(one) != event_leaf(other)


def test_prevhash_is_read_from_the_envelope_not_from_its_data() -> None:
    previous = chain_hash(b"earlier")
    payload = stored({"person_id": "p1", "note": '"prevhash":"' + "f" * 64}, prevhash=previous)
    assert prevhash_of(payload) == previous.encode()


def test_checkpoint_bytes_do_not_depend_on_the_order_of_the_trees() -> None:
    a = CheckpointBody("2026-01-01T00:00:00.000000+00:00", (TreeHead("b", 1, "00"), TreeHead("a", 2, "11")))
    b = CheckpointBody("2026-01-01T00:00:00.000000+00:00", (TreeHead("a", 2, "11"), TreeHead("b", 1, "00")))
    assert a.signed_bytes() == b.signed_bytes()
    assert CheckpointBody.from_json(orjson.loads(a.signed_bytes())).digest == a.digest
