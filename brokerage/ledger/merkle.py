"""Merkle trees over sealed entries (RFC 6962 shape), and inclusion proofs an auditor can check.

This module depends only on the standard library, so an auditor can copy it and check a proof
without installing carepool.

- leaf hash  = SHA-256(0x00 || seq as 8-byte big-endian || content hash as 32 bytes)
- node hash  = SHA-256(0x01 || left || right)
- tree shape = RFC 6962: split n leaves at the largest power of two smaller than n
- seal hash  = SHA-256 of the canonical JSON {"council", "first_seq", "last_seq", "root", "previous"}
"""

from __future__ import annotations

import hashlib
import json
from typing import Sequence


def leaf_hash(seq: int, content_hash_hex: str) -> bytes:
    """Return the leaf hash of a sequenced entry."""
    return hashlib.sha256(b"\x00" + seq.to_bytes(8, "big") + bytes.fromhex(content_hash_hex)).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Return the hash of an inner node."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def root(leaves: Sequence[bytes]) -> bytes:
    """Return the Merkle root of the leaves (at least one)."""
    if not leaves:
        raise ValueError("a Merkle tree needs at least one leaf")
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


class RootBuilder:
    """Build the same root as `root` from leaves given one at a time, holding O(log n) hashes."""

    def __init__(self) -> None:
        self._stack: list[tuple[int, bytes]] = []  # (size, hash) of perfect subtrees, biggest first
        self.count = 0

    def add(self, leaf: bytes) -> None:
        """Append a leaf, merging equal perfect subtrees as a binary counter does."""
        size, current = 1, leaf
        while self._stack and self._stack[-1][0] == size:
            _, left = self._stack.pop()
            size, current = size * 2, node_hash(left, current)
        self._stack.append((size, current))
        self.count += 1

    def root(self) -> bytes:
        """Return the root: RFC 6962 splits at the largest power of two, so fold the subtrees from the right."""
        if not self._stack:
            raise ValueError("a Merkle tree needs at least one leaf")
        current = self._stack[-1][1]
        for _, left in reversed(self._stack[:-1]):
            current = node_hash(left, current)
        return current


def audit_path(index: int, leaves: Sequence[bytes]) -> list[tuple[str, bytes]]:
    """Return the sibling hashes from leaf `index` up to the root, each tagged 'L' or 'R'."""
    if not 0 <= index < len(leaves):
        raise IndexError("leaf index out of range")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return audit_path(index, leaves[:k]) + [("R", root(leaves[k:]))]
    return audit_path(index - k, leaves[k:]) + [("L", root(leaves[:k]))]


def root_from_path(leaf: bytes, path: Sequence[tuple[str, bytes]]) -> bytes:
    """Recompute the root from a leaf and its audit path."""
    current = leaf
    for side, sibling in path:
        current = node_hash(current, sibling) if side == "R" else node_hash(sibling, current)
    return current


def seal_hash(*, council_id: int, first_seq: int, last_seq: int, root_hex: str, previous_hex: str | None) -> str:
    """Return the hash that chains a seal to the one before it."""
    body = {"council": council_id, "first_seq": first_seq, "last_seq": last_seq, "root": root_hex, "previous": previous_hex}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def check_proof(proof: dict) -> tuple[bool, str]:
    """Check an inclusion proof as printed by `brokerage ledger prove`; return (ok, explanation)."""
    try:
        leaf = leaf_hash(int(proof["seq"]), proof["content_hash"])
        path = [(step["side"], bytes.fromhex(step["hash"])) for step in proof["path"]]
        computed = root_from_path(leaf, path).hex()
        seal = proof["seal"]
        chained = seal_hash(
            council_id=int(seal["council"]), first_seq=int(seal["first_seq"]), last_seq=int(seal["last_seq"]),
            root_hex=seal["root"], previous_hex=seal["previous"],
        )
    except (KeyError, TypeError, ValueError) as error:
        return False, f"the proof is malformed: {error}"
    if not int(seal["first_seq"]) <= int(proof["seq"]) <= int(seal["last_seq"]):
        return False, "the entry's sequence number is outside the seal's range"
    if computed != seal["root"]:
        return False, f"the path leads to root {computed}, not the seal's root {seal['root']}"
    if chained != seal["hash"]:
        return False, "the seal's hash does not match its contents"
    return True, f"entry seq {proof['seq']} is included in seal {seal['hash'][:16]}… (root {computed[:16]}…)"
