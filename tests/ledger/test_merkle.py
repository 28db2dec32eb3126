"""Merkle trees over sealed entries, and the inclusion proofs an auditor checks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from brokerage.ledger import merkle, rules


@given(st.integers(min_value=1, max_value=70), st.data())
def test_every_leaf_has_a_proof_that_leads_to_the_root(n, data):
    leaves = [merkle.leaf_hash(i + 1, rules.content_hash({"n": i})) for i in range(n)]
    top = merkle.root(leaves)
    index = data.draw(st.integers(min_value=0, max_value=n - 1))
    assert merkle.root_from_path(leaves[index], merkle.audit_path(index, leaves)) == top
    if n > 1:
        other = (index + 1) % n
        assert merkle.root_from_path(leaves[other], merkle.audit_path(index, leaves)) != top


def test_a_proof_is_checked_against_the_seal():
    hashes = [rules.content_hash({"n": i}) for i in range(5)]
    leaves = [merkle.leaf_hash(10 + i, h) for i, h in enumerate(hashes)]
    root_hex = merkle.root(leaves).hex()
    seal = {"council": 1, "first_seq": 10, "last_seq": 14, "root": root_hex, "previous": None}
    seal["hash"] = merkle.seal_hash(council_id=1, first_seq=10, last_seq=14, root_hex=root_hex, previous_hex=None)
    proof = {"seq": 12, "content_hash": hashes[2], "path": [{"side": s, "hash": h.hex()} for s, h in merkle.audit_path(2, leaves)], "seal": seal}
    assert merkle.check_proof(proof)[0]
    assert not merkle.check_proof(dict(proof, content_hash=hashes[1]))[0]
    assert not merkle.check_proof(dict(proof, seq=13))[0]
    assert not merkle.check_proof(dict(proof, seal=dict(seal, root="00" * 32)))[0]
    assert not merkle.check_proof({"seq": "x"})[0]
