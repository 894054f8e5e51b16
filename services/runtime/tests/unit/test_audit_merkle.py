"""RFC 9162 tree hashing and consistency proofs (pure functions)."""

from __future__ import annotations

import hashlib

import pytest

from ddr_runtime.audit.merkle import (
    EMPTY_ROOT,
    TreeAccumulator,
    consistency_proof,
    leaf_hash,
    node_hash,
    root_of,
    verify_consistency,
)

# The test vectors of the Certificate Transparency reference implementation (RFC 6962 / RFC 9162 hashing).
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = [
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]


def naive_root(leaves: list[bytes]) -> bytes:
    """MTH exactly as RFC 9162 section 2.1.1 defines it, recursively."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return node_hash(naive_root(leaves[:k]), naive_root(leaves[k:]))


def leaves_of(n: int, tag: bytes = b"event") -> list[bytes]:
    return [leaf_hash(tag + str(i).encode()) for i in range(n)]


def test_roots_match_the_certificate_transparency_test_vectors() -> None:
    hashed = [leaf_hash(d) for d in CT_LEAVES]
    assert [root_of(hashed[: n + 1]).hex() for n in range(8)] == CT_ROOTS


def test_the_empty_tree_hashes_to_the_hash_of_nothing() -> None:
    assert root_of([]) == EMPTY_ROOT == hashlib.sha256(b"").digest()


@pytest.mark.parametrize("n", [1, 2, 3, 5, 8, 13, 64, 100, 257])
def test_the_streaming_accumulator_gives_the_recursive_definition(n: int) -> None:
    leaves = leaves_of(n)
    tree = TreeAccumulator()
    tree.extend(leaves)
    assert tree.size == n
    assert tree.root() == naive_root(leaves)


def test_every_old_tree_is_proven_extended_by_every_larger_one() -> None:
    leaves = leaves_of(40)
    for n in range(1, 41):
        new_root = root_of(leaves[:n])
        for m in range(n + 1):
            proof = consistency_proof(leaves[:n], m)
            assert verify_consistency(m, n, root_of(leaves[:m]), new_root, proof), (m, n)


def test_a_rewritten_history_fails_the_consistency_proof() -> None:
    old = leaves_of(13)
    rewritten = [*old[:6], leaf_hash(b"altered"), *old[7:], *leaves_of(7, b"later")]
    proof = consistency_proof(rewritten, 13)
    assert not verify_consistency(13, 20, root_of(old), root_of(rewritten), proof)


def test_a_reordered_history_fails_the_consistency_proof() -> None:
    old = leaves_of(8)
    reordered = [old[1], old[0], *old[2:], *leaves_of(3, b"later")]
    assert not verify_consistency(8, 11, root_of(old), root_of(reordered), consistency_proof(reordered, 8))


def test_a_proof_with_a_hash_changed_or_dropped_fails() -> None:
    leaves = leaves_of(21)
    proof = consistency_proof(leaves, 6)
    old_root, new_root = root_of(leaves[:6]), root_of(leaves)
    assert verify_consistency(6, 21, old_root, new_root, proof)
    for i in range(len(proof)):
        tampered = [*proof[:i], hashlib.sha256(proof[i]).digest(), *proof[i + 1 :]]
        assert not verify_consistency(6, 21, old_root, new_root, tampered)
    assert not verify_consistency(6, 21, old_root, new_root, proof[:-1])
    assert not verify_consistency(6, 21, old_root, new_root, [])


def test_a_smaller_tree_never_extends_a_larger_one() -> None:
    leaves = leaves_of(9)
    assert not verify_consistency(9, 5, root_of(leaves), root_of(leaves[:5]), [])
    with pytest.raises(ValueError):
        consistency_proof(leaves[:5], 9)


def test_a_tree_grown_from_its_frontier_has_the_root_of_the_whole() -> None:
    leaves = [leaf_hash(str(i).encode()) for i in range(77)]
    first = TreeAccumulator()
    first.extend(leaves[:45])

    resumed = TreeAccumulator(first.frontier())
    resumed.extend(leaves[45:])

    assert (resumed.size, resumed.root()) == (77, root_of(leaves))


def test_a_frontier_that_is_no_row_of_perfect_subtrees_is_refused() -> None:
    with pytest.raises(ValueError, match="frontier"):
        TreeAccumulator([(3, b"x" * 32)])
