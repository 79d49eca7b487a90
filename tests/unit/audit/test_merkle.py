"""RFC 6962 Merkle tree: the Certificate Transparency test vectors, and properties."""

from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from stemmen.audit.merkle import (
    EMPTY_ROOT,
    MerkleError,
    inclusion_proof,
    merkle_root,
    receipt_leaves,
    receipt_root,
    verify_inclusion,
)

# The reference leaves and tree heads of certificate-transparency / transparency-dev (RFC 6962).
CT_LEAVES = [
    bytes.fromhex(text)
    for text in [
        "",
        "00",
        "10",
        "2021",
        "3031",
        "40414243",
        "5051525354555657",
        "606162636465666768696a6b6c6d6e6f",
    ]
]
CT_ROOTS = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]
CT_PROOFS = [
    (0, 1, []),
    (
        0,
        8,
        [
            "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
        ],
    ),
    (
        5,
        8,
        [
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        ],
    ),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (
        1,
        5,
        [
            "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        ],
    ),
]


@pytest.mark.parametrize("size", range(len(CT_ROOTS)))
def test_tree_heads_match_the_rfc6962_reference(size):
    assert merkle_root(CT_LEAVES[:size]).hex() == CT_ROOTS[size]


def test_the_empty_tree_is_the_hash_of_the_empty_string():
    assert merkle_root([]) == EMPTY_ROOT


@pytest.mark.parametrize(("index", "size", "expected"), CT_PROOFS)
def test_inclusion_proofs_match_the_reference(index, size, expected):
    proof = inclusion_proof(CT_LEAVES[:size], index)
    assert [node.hex() for node in proof] == expected
    root = bytes.fromhex(CT_ROOTS[size])
    assert verify_inclusion(CT_LEAVES[index], index, size, proof, root)


def _leaves(count: int) -> list[bytes]:
    return [bytes([i % 256, i // 256, 7]) for i in range(count)]


@pytest.mark.parametrize("size", range(1, 34))
def test_every_leafs_proof_verifies_and_nothing_else_does(size):
    leaves = _leaves(size)
    root = merkle_root(leaves)
    for index in range(size):
        proof = inclusion_proof(leaves, index)
        assert verify_inclusion(leaves[index], index, size, proof, root)
        assert not verify_inclusion(leaves[index] + b"x", index, size, proof, root)
        if size > 1:
            assert not verify_inclusion(leaves[index], (index + 1) % size, size, proof, root)
            bent = [bytes([proof[0][0] ^ 1]) + proof[0][1:], *proof[1:]]
            assert not verify_inclusion(leaves[index], index, size, bent, root)
            assert not verify_inclusion(leaves[index], index, size, [*proof, root], root)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=8), min_size=1, max_size=70), st.data())
def test_changing_any_leaf_changes_the_root(leaves, data):
    index = data.draw(st.integers(0, len(leaves) - 1))
    changed = list(leaves)
    changed[index] = leaves[index] + b"!"
    assert merkle_root(changed) != merkle_root(leaves)


def test_an_index_outside_the_tree_has_no_proof():
    with pytest.raises(MerkleError):
        inclusion_proof(_leaves(3), 3)
    assert not verify_inclusion(b"", 3, 3, [], EMPTY_ROOT)


def test_receipts_are_leaves_in_ascending_order_so_the_root_ignores_input_order():
    receipts = [os.urandom(32).hex() for _ in range(50)]
    assert receipt_root(receipts) == receipt_root(sorted(receipts, reverse=True))
    assert receipt_leaves(receipts) == sorted(bytes.fromhex(r) for r in receipts)


def test_a_receipt_listed_twice_is_refused():
    receipt = "ab" * 32
    with pytest.raises(MerkleError, match="twice"):
        receipt_root([receipt, receipt])


@pytest.mark.parametrize("bad", ["ab" * 31, "zz" * 32])
def test_malformed_receipts_are_refused(bad):
    with pytest.raises(MerkleError):
        receipt_root([bad])


def test_a_city_wide_tree_of_a_hundred_thousand_leaves_proves_inclusion():
    # Speed is measured by benchmarks, not asserted here: a loaded CI machine is no stopwatch.
    leaves = [os.urandom(32) for _ in range(100_000)]
    root = merkle_root(leaves)
    proof = inclusion_proof(leaves, 54_321)
    assert len(proof) == 17  # ceil(log2(100,000))
    assert verify_inclusion(leaves[54_321], 54_321, 100_000, proof, root)
    assert not verify_inclusion(leaves[54_320], 54_321, 100_000, proof, root)
