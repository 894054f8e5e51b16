"""Consistency: does today's history extend a checkpoint kept from earlier (``ddr audit consistency``)?

For each store an old checkpoint names, an RFC 9162 consistency proof is built from the store's leaves today and
verified against the old tree head, as a party holding only the old checkpoint and the proof would.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ddr_runtime.audit.commitment import event_leaf
from ddr_runtime.audit.merkle import consistency_proof, root_of, verify_consistency
from ddr_runtime.audit.signing import SignedCheckpoint
from ddr_runtime.audit.sources import StoreMissing, read_store_raw


async def store_leaves(url: str) -> list[bytes]:
    """Every event's Merkle leaf in the store's append order (empty for a store that does not exist)."""
    leaves: list[bytes] = []
    try:
        async for rows in read_store_raw(url):
            leaves.extend(event_leaf(row[5]) for row in rows)
    except StoreMissing:
        return []
    return leaves


async def stores_leaves(stores: Mapping[str, str]) -> dict[str, list[bytes]]:
    return {service: await store_leaves(url) for service, url in sorted(stores.items())}


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
