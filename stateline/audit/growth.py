"""The proof that a tree grew, from the old tree's frontier and the leaves appended since.

RFC 6962's PROOF(m, D[n]) holds two kinds of node: perfect subtrees wholly inside the old
tree, which are exactly the old tree's frontier (the binary digits of m, largest first), and
subtrees wholly inside the appended leaves. So a log that keeps its frontier at each signed head
proves growth to a witness by reading only what it appended since. Pure functions, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence

from .merkle import Frontier, ProofError, root


def _split(n: int) -> int:
    return 1 << ((n - 1).bit_length() - 1)


def consistency(old: Frontier, appended: Sequence[bytes]) -> list[bytes]:
    """PROOF(m, D[n]) for m = old.size and n = m + len(appended), byte for byte as
    `merkle.consistency_proof` gives it from all n leaves."""
    m, n = old.size, old.size + len(appended)
    if m in (0, n):
        return []
    blocks: dict[tuple[int, int], bytes] = {}
    start = 0
    for height, node in old.nodes():
        blocks[(start, 1 << height)] = node
        start += 1 << height

    def old_block(lo: int, size: int) -> bytes:
        try:
            return blocks[(lo, size)]
        except KeyError:
            raise ProofError(f"[{lo}, {lo + size}) is not a subtree of the old frontier") from None

    proof: list[bytes] = []
    lo, hi, rest, whole = 0, n, m, True
    while rest != hi - lo:
        k = _split(hi - lo)
        if rest <= k:
            proof.append(root(appended[lo + k - m : hi - m]))
            hi = lo + k
        else:
            proof.append(old_block(lo, k))
            lo, rest, whole = lo + k, rest - k, False
    if not whole:
        proof.append(old_block(lo, hi - lo))
    return proof[::-1]
