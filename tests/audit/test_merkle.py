"""The Merkle module against RFC 6962 test vectors and the RFC's recursive definitions."""

from __future__ import annotations

from collections.abc import Sequence
from hashlib import sha256

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stateline.audit.merkle import (
    EMPTY_ROOT,
    Frontier,
    ProofError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root,
    verify_consistency,
    verify_inclusion,
)

VECTOR_DATA = "|00|10|2021|3031|40414243|5051525354555657|606162636465666768696a6b6c6d6e6f"
VECTOR_LEAVES = [bytes.fromhex(h) for h in VECTOR_DATA.split("|")]
VECTOR_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def naive_mth(data: Sequence[bytes]) -> bytes:
    """MTH exactly as RFC 6962 §2.1 writes it, over raw entries."""
    if not data:
        return sha256(b"").digest()
    if len(data) == 1:
        return sha256(b"\x00" + data[0]).digest()
    k = _k(len(data))
    return sha256(b"\x01" + naive_mth(data[:k]) + naive_mth(data[k:])).digest()


def naive_path(m: int, data: Sequence[bytes]) -> list[bytes]:
    if len(data) == 1:
        return []
    k = _k(len(data))
    if m < k:
        return [*naive_path(m, data[:k]), naive_mth(data[k:])]
    return [*naive_path(m - k, data[k:]), naive_mth(data[:k])]


def naive_subproof(m: int, data: Sequence[bytes], whole: bool) -> list[bytes]:
    if m == len(data):
        return [] if whole else [naive_mth(data)]
    k = _k(len(data))
    if m <= k:
        return [*naive_subproof(m, data[:k], whole), naive_mth(data[k:])]
    return [*naive_subproof(m - k, data[k:], False), naive_mth(data[:k])]


def entries(n: int) -> list[bytes]:
    return [i.to_bytes(4, "big") for i in range(n)]


def flip(h: bytes) -> bytes:
    return bytes([h[0] ^ 1]) + h[1:]


def test_empty_tree_is_the_hash_of_nothing() -> None:
    assert (
        root([])
        == EMPTY_ROOT
        == bytes.fromhex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    )


@pytest.mark.parametrize("size", sorted(VECTOR_ROOTS))
def test_ct_reference_vectors(size: int) -> None:
    data = VECTOR_LEAVES[:size]
    assert root([leaf_hash(d) for d in data]).hex() == VECTOR_ROOTS[size]
    assert naive_mth(data).hex() == VECTOR_ROOTS[size]


def test_leaf_and_node_prefixes_differ() -> None:
    a, b = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(a, b) != leaf_hash(a + b)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200), st.data())
def test_inclusion_proofs_match_the_rfc_and_verify(size: int, data: st.DataObject) -> None:
    raw = entries(size)
    leaves = [leaf_hash(d) for d in raw]
    top = root(leaves)
    assert top == naive_mth(raw)
    index = data.draw(st.integers(0, size - 1))
    proof = inclusion_proof(leaves, index)
    assert proof == naive_path(index, raw)
    assert verify_inclusion(leaves[index], index, size, proof, top)

    other = data.draw(st.integers(0, size - 1).filter(lambda i: i != index)) if size > 1 else None
    if other is not None:
        assert not verify_inclusion(leaves[index], other, size, proof, top)
        assert not verify_inclusion(leaves[other], index, size, proof, top)
    for i in range(len(proof)):
        tampered = [*proof[:i], flip(proof[i]), *proof[i + 1 :]]
        assert not verify_inclusion(leaves[index], index, size, tampered, top)
    assert not verify_inclusion(leaves[index], index, size, [*proof, leaves[0]], top)
    if proof:
        assert not verify_inclusion(leaves[index], index, size, proof[:-1], top)
    assert not verify_inclusion(leaves[index], index, size, proof, flip(top))


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 200), st.data())
def test_consistency_proofs_match_the_rfc_and_verify(size2: int, data: st.DataObject) -> None:
    raw = entries(size2)
    leaves = [leaf_hash(d) for d in raw]
    size1 = data.draw(st.integers(1, size2))
    root1, root2 = root(leaves[:size1]), root(leaves)
    proof = consistency_proof(leaves, size1)
    if size1 < size2:
        assert proof == naive_subproof(size1, raw, True)
    assert verify_consistency(size1, size2, proof, root1, root2)

    assert not verify_consistency(size1, size2, proof, flip(root1), root2)
    assert not verify_consistency(size1, size2, proof, root1, flip(root2))
    for i in range(len(proof)):
        tampered = [*proof[:i], flip(proof[i]), *proof[i + 1 :]]
        assert not verify_consistency(size1, size2, tampered, root1, root2)
    assert not verify_consistency(size1, size2, [*proof, root1], root1, root2)
    if size1 < size2:
        assert not verify_consistency(size1, size2, proof[:-1], root1, root2)
        assert not verify_consistency(size1, size2, [], root1, root2)
    if 1 < size1 < size2:
        assert not verify_consistency(size1 - 1, size2, proof, root1, root2)


def test_consistency_edges() -> None:
    leaves = [leaf_hash(d) for d in entries(5)]
    r = root(leaves)
    assert consistency_proof(leaves, 0) == consistency_proof(leaves, 5) == []
    assert verify_consistency(0, 5, [], EMPTY_ROOT, r)
    assert verify_consistency(5, 5, [], r, r)
    assert not verify_consistency(5, 5, [], r, flip(r))


def test_arguments_out_of_range_raise() -> None:
    leaves = [leaf_hash(d) for d in entries(4)]
    r = root(leaves)
    with pytest.raises(ProofError):
        inclusion_proof(leaves, 4)
    with pytest.raises(ProofError):
        consistency_proof(leaves, 5)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[0], 4, 4, [], r)
    with pytest.raises(ProofError):
        verify_consistency(5, 4, [], r, r)
    with pytest.raises(ProofError):
        verify_inclusion(leaves[0][:31], 0, 4, [], r)


def test_frontier_root_equals_mth_for_every_prefix() -> None:
    leaves = [leaf_hash(d) for d in entries(300)]
    frontier = Frontier()
    assert frontier.root() == EMPTY_ROOT
    for n, leaf in enumerate(leaves, start=1):
        frontier.append(leaf)
        assert frontier.size == n
        assert frontier.root() == root(leaves[:n])
        assert len(frontier.nodes()) == n.bit_count()


@settings(max_examples=60, deadline=None)
@given(st.lists(st.integers(0, 70), max_size=8))
def test_frontier_extend_in_any_chunks_equals_mth(chunks: list[int]) -> None:
    leaves = [leaf_hash(d) for d in entries(sum(chunks))]
    frontier, done = Frontier(), 0
    for chunk in chunks:
        frontier.extend(leaves[done : done + chunk])
        done += chunk
        assert frontier.root() == root(leaves[:done])
    restored = Frontier.restore(frontier.nodes())
    assert (restored.size, restored.root()) == (frontier.size, frontier.root())


def test_frontier_restore_refuses_a_shape_no_tree_has() -> None:
    h = leaf_hash(b"x")
    with pytest.raises(ProofError):
        Frontier.restore([(0, h), (1, h)])
    with pytest.raises(ProofError):
        Frontier.restore([(2, h), (2, h)])
