"""RFC 6962 Merkle tree hashing, proofs and their RFC 9162 verifiers; pure functions, no I/O.

Indices are 0-based as in the RFCs. A tree is given as its list of leaf hashes; `Frontier`
keeps only the right edge of perfect subtrees, so a log can append and read its root in
O(log n) without holding the leaves.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from hashlib import sha256

from ..errors import RequesterError

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()
"""MTH({}) — the root of the empty tree is the hash of the empty string."""


class ProofError(RequesterError, ValueError):
    """The arguments cannot describe a proof (index or size out of range, bad hash length)."""

    code = "invalid-proof"


def leaf_hash(data: bytes) -> bytes:
    """The 0x00 prefix keeps a leaf from ever being taken for an interior node."""
    return sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two strictly smaller than n (n ≥ 2): the left subtree's size."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) over leaf hashes, level by level (an odd node is carried up unchanged)."""
    if not leaves:
        return EMPTY_ROOT
    level = list(leaves)
    while len(level) > 1:
        carry = [level[-1]] if len(level) % 2 else []
        level = [
            sha256(b"\x01" + a + b).digest() for a, b in zip(level[0::2], level[1::2], strict=False)
        ] + carry
    return level[0]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """PATH(m, D[n]) of RFC 6962 §2.1.1: sibling subtree roots from the leaf up."""
    n = len(leaves)
    if not 0 <= index < n:
        raise ProofError(f"leaf {index} is not in a tree of size {n}")
    path: list[bytes] = []
    lo, hi = 0, n
    while hi - lo > 1:
        k = _split(hi - lo)
        if index - lo < k:
            path.append(root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            path.append(root(leaves[lo : lo + k]))
            lo += k
    return path[::-1]


def consistency_proof(leaves: Sequence[bytes], size1: int) -> list[bytes]:
    """PROOF(m, D[n]) of RFC 6962 §2.1.2; empty when m is 0 or n (nothing to prove)."""
    n = len(leaves)
    if not 0 <= size1 <= n:
        raise ProofError(f"size {size1} is not a prefix of a tree of size {n}")
    if size1 in (0, n):
        return []
    proof: list[bytes] = []
    lo, hi, m, whole = 0, n, size1, True
    while m != hi - lo:
        k = _split(hi - lo)
        if m <= k:
            proof.append(root(leaves[lo + k : hi]))
            hi = lo + k
        else:
            proof.append(root(leaves[lo : lo + k]))
            lo, m, whole = lo + k, m - k, False
    if not whole:
        proof.append(root(leaves[lo:hi]))
    return proof[::-1]


def _check_hashes(*hashes: bytes) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError(f"hashes must be {HASH_SIZE} bytes")


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root_hash: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: True when the proof puts `leaf` at `index` of the tree `root_hash`."""
    if not 0 <= index < size:
        raise ProofError(f"leaf {index} is not in a tree of size {size}")
    _check_hashes(leaf, root_hash, *proof)
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root_hash


def verify_consistency(
    size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes
) -> bool:
    """RFC 9162 §2.1.4.2: True when the tree `root1` of size1 is a prefix of `root2` of size2."""
    if not 0 <= size1 <= size2:
        raise ProofError(f"size {size1} cannot be a prefix of size {size2}")
    _check_hashes(root1, root2, *proof)
    if size1 == size2:
        return not proof and root1 == root2
    if size1 == 0:
        return not proof and root1 == EMPTY_ROOT
    if not proof:
        return False
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == root1 and sr == root2 and sn == 0


def _perfect_root(leaves: Sequence[bytes]) -> bytes:
    """Root of a perfect subtree (a power-of-two count), with the hashing loop kept in C."""
    level = list(leaves)
    while len(level) > 1:
        level = [
            sha256(b"\x01" + a + b).digest() for a, b in zip(level[0::2], level[1::2], strict=False)
        ]
    return level[0]


class Frontier:
    """The roots of the perfect subtrees along a tree's right edge, highest first.

    Their heights are the set bits of the size, so the frontier alone gives the root and
    lets the next leaf be hashed in; it is what a log persists to reopen in O(1).
    """

    __slots__ = ("_nodes", "_size")

    def __init__(self) -> None:
        self._nodes: list[tuple[int, bytes]] = []
        self._size = 0

    @classmethod
    def restore(cls, nodes: Iterable[tuple[int, bytes]]) -> Frontier:
        """Rebuild from `nodes()`; heights must strictly fall, as only a real right edge does."""
        frontier = cls()
        heights = []
        for height, node in nodes:
            _check_hashes(node)
            frontier._nodes.append((height, node))
            heights.append(height)
        if heights != sorted(set(heights), reverse=True) or (heights and heights[-1] < 0):
            raise ProofError(f"not a frontier: heights {heights}")
        frontier._size = sum(1 << h for h in heights)
        return frontier

    def nodes(self) -> list[tuple[int, bytes]]:
        return list(self._nodes)

    @property
    def size(self) -> int:
        return self._size

    def append(self, leaf: bytes) -> None:
        self._push(0, leaf)

    def extend(self, leaves: Sequence[bytes]) -> None:
        """Hash in many leaves as whole aligned perfect subtrees, the fast path for bulk work."""
        i, n = 0, len(leaves)
        while i < n:
            height = (n - i).bit_length() - 1
            if self._size:
                height = min(height, (self._size & -self._size).bit_length() - 1)
            step = 1 << height
            self._push(height, _perfect_root(leaves[i : i + step]))
            i += step

    def _push(self, height: int, node: bytes) -> None:
        nodes = self._nodes
        self._size += 1 << height
        while nodes and nodes[-1][0] == height:
            node = node_hash(nodes.pop()[1], node)
            height += 1
        nodes.append((height, node))

    def root(self) -> bytes:
        if not self._nodes:
            return EMPTY_ROOT
        r = self._nodes[-1][1]
        for _, node in reversed(self._nodes[:-1]):
            r = node_hash(node, r)
        return r
