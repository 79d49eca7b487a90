"""RFC 6962 Merkle tree over the receipts of a round's counted ballots.

Definitions (RFC 6962 section 2.1, also in ``docs/bundle.md``)::

    MTH({})        = SHA-256()                              (the empty string)
    MTH({d0})      = SHA-256(0x00 || d0)                    (leaf hash)
    MTH(D[0:n])    = SHA-256(0x01 || MTH(D[0:k]) || MTH(D[k:n]))
                     where k is the largest power of two smaller than n

The prefixes keep a leaf from ever passing for an inner node (second-preimage attacks). The
split is computed here level by level: pairing neighbours and carrying an odd last node up
unchanged gives exactly the RFC's tree, with one hash per node and no recursion, so 100,000
leaves take a fraction of a second.

For ballots the leaves are the 32 raw bytes of each receipt hash, sorted ascending
(:func:`receipt_leaves`), so the root depends only on the set of counted ballots.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
from collections.abc import Iterable, Sequence

__all__ = [
    "EMPTY_ROOT",
    "MerkleError",
    "inclusion_proof",
    "leaf_hash",
    "merkle_root",
    "node_hash",
    "receipt_leaves",
    "receipt_root",
    "verify_inclusion",
]

EMPTY_ROOT = hashlib.sha256(b"").digest()


class MerkleError(ValueError):
    """A request the tree cannot answer (an index outside it, a malformed receipt)."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree, leaf hashes first, the root alone last."""
    sha256 = hashlib.sha256
    level = [sha256(b"\x00" + data).digest() for data in leaves]
    levels = [level]
    while len(level) > 1:
        paired = [
            sha256(b"\x01" + level[i] + level[i + 1]).digest() for i in range(0, len(level) - 1, 2)
        ]
        if len(level) % 2:
            paired.append(level[-1])
        level = paired
        levels.append(level)
    return levels


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The RFC 6962 tree head of ``leaves`` (raw data, in the order given)."""
    if not leaves:
        return EMPTY_ROOT
    return _levels(leaves)[-1][0]


def inclusion_proof(leaves: Sequence[bytes], index: int) -> list[bytes]:
    """The audit path of leaf ``index``: sibling hashes from the leaf up to the root."""
    if not 0 <= index < len(leaves):
        raise MerkleError(f"leaf index {index} is outside a tree of {len(leaves)} leaves")
    proof = []
    position = index
    for level in _levels(leaves)[:-1]:
        sibling = position ^ 1
        # A last node without a sibling moves up unchanged and adds nothing to the path.
        if sibling < len(level):
            proof.append(level[sibling])
        position //= 2
    return proof


def verify_inclusion(
    leaf: bytes, index: int, size: int, proof: Sequence[bytes], root: bytes
) -> bool:
    """Whether ``proof`` shows that ``leaf`` (raw data) is leaf ``index`` of the tree ``root``.

    The verification algorithm of RFC 9162 section 2.1.3.2, which RFC 6962 trees share.
    """
    if not 0 <= index < size:
        return False
    position, last = index, size - 1
    current = leaf_hash(leaf)
    for sibling in proof:
        if last == 0:
            return False  # a longer path than the tree is tall
        if position % 2 == 1 or position == last:
            current = node_hash(sibling, current)
            # Climb past the levels where this node had no right sibling.
            while position % 2 == 0 and position != 0:
                position //= 2
                last //= 2
        else:
            current = node_hash(current, sibling)
        position //= 2
        last //= 2
    return last == 0 and hmac.compare_digest(current, root)


def receipt_leaves(receipt_hashes: Iterable[str]) -> list[bytes]:
    """Receipt hashes (64 hex characters each) as tree leaves in canonical order.

    Canonical order is ascending by the raw bytes, which is also ascending by lowercase hex.
    Duplicates are refused: every counted ballot has its own receipt.
    """
    raw = []
    for text in receipt_hashes:
        if len(text) != 64:
            raise MerkleError(f"receipt hash {text!r} is not 64 hex characters")
        try:
            raw.append(bytes.fromhex(text))
        except ValueError as error:
            raise MerkleError(f"receipt hash {text!r} is not hexadecimal") from error
    raw.sort()
    for earlier, later in itertools.pairwise(raw):
        if earlier == later:
            raise MerkleError(f"receipt {earlier.hex()} occurs twice")
    return raw


def receipt_root(receipt_hashes: Iterable[str]) -> str:
    """Hex tree head over a set of receipt hashes in canonical order."""
    return merkle_root(receipt_leaves(receipt_hashes)).hex()
