"""RFC 9162 (Certificate Transparency 2.0) Merkle tree hashing and consistency proofs, in pure Python.

A tree's leaves are the events of one store in its append order. The tree head (size, root) of an old
checkpoint and a consistency proof let anyone check that today's history extends the old one: nothing
was rewritten, removed or reordered, only appended (RFC 9162, sections 2.1.1 and 2.1.4).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

LEAF_PREFIX = b"\x00"
NODE_PREFIX = b"\x01"
EMPTY_ROOT = hashlib.sha256(b"").digest()
"""MTH({}): the hash of an empty tree."""


def leaf_hash(entry: bytes) -> bytes:
    """MTH({d}) = SHA-256(0x00 || d)."""
    return hashlib.sha256(LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(NODE_PREFIX + left + right).digest()


class TreeAccumulator:
    """The root of a growing tree in O(log n) memory: perfect subtrees merged as leaves arrive.

    RFC 9162 splits a tree of n leaves at the largest power of two below n, so the tree is a row of perfect
    subtrees of decreasing size; folding them right to left gives MTH(D[n]). That row (the frontier: one hash
    per set bit of n) is all a tree needs to grow: kept, it lets a store's tree go on from where it stopped,
    without reading its earlier leaves again.
    """

    def __init__(self, frontier: Sequence[tuple[int, bytes]] = ()) -> None:
        self._stack: list[tuple[int, bytes]] = list(frontier)  # (subtree size, hash), sizes decreasing
        sizes = [size for size, _ in self._stack]
        if any(size & (size - 1) for size in sizes) or sizes != sorted(set(sizes), reverse=True):
            raise ValueError("a frontier is perfect subtrees of decreasing powers of two")
        self.size = sum(sizes)

    def frontier(self) -> list[tuple[int, bytes]]:
        """The perfect subtrees the tree is made of, largest first."""
        return list(self._stack)

    def append(self, leaf: bytes) -> None:
        """Add one leaf hash (see :func:`leaf_hash`)."""
        size, digest = 1, leaf
        stack = self._stack
        while stack and stack[-1][0] == size:
            left_size, left = stack.pop()
            size, digest = left_size + size, node_hash(left, digest)
        stack.append((size, digest))
        self.size += 1

    def extend(self, leaves: Iterable[bytes]) -> None:
        for leaf in leaves:
            self.append(leaf)

    def root(self) -> bytes:
        if not self._stack:
            return EMPTY_ROOT
        digest = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            digest = node_hash(left, digest)
        return digest


def root_of(leaves: Sequence[bytes]) -> bytes:
    """MTH over leaf hashes."""
    tree = TreeAccumulator()
    tree.extend(leaves)
    return tree.root()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def consistency_proof(leaves: Sequence[bytes], old_size: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 9162 section 2.1.4.1 over the leaf hashes of the new tree."""
    n = len(leaves)
    if not 0 <= old_size <= n:
        raise ValueError(f"old size {old_size} outside 0..{n}")
    if old_size in (0, n):
        return []
    return _subproof(leaves, 0, n, old_size, True)


def _subproof(leaves: Sequence[bytes], start: int, end: int, m: int, complete: bool) -> list[bytes]:
    n = end - start
    if m == n:
        return [] if complete else [root_of(leaves[start:end])]
    k = _split(n)
    if m <= k:
        return [*_subproof(leaves, start, start + k, m, complete), root_of(leaves[start + k : end])]
    return [*_subproof(leaves, start + k, end, m - k, False), root_of(leaves[start : start + k])]


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 section 2.1.4.2: does the tree (new_size, new_root) extend (old_size, old_root)?"""
    if old_size > new_size or old_size < 0:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof  # every tree extends the empty one
    if not proof:
        return False
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # a power of two: the old root is itself a node of the new tree
        path.insert(0, old_root)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn != 0 and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    return sn == 0 and fr == old_root and sr == new_root
