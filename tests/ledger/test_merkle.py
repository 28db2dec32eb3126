"""Merkle trees over sealed entries, and the inclusion proofs an auditor checks."""

from __future__ import annotations

import pytest
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


def leaves_of(n: int, first_seq: int = 1) -> list[bytes]:
    return [merkle.leaf_hash(first_seq + i, rules.content_hash({"n": i})) for i in range(n)]


def test_a_tree_of_one_leaf_has_that_leaf_as_its_root_and_no_path():
    [leaf] = leaves_of(1)
    assert merkle.root([leaf]) == leaf
    assert merkle.audit_path(0, [leaf]) == []


def test_an_empty_tree_has_no_root():
    with pytest.raises(ValueError):
        merkle.root([])


def test_small_trees_have_the_rfc_6962_shape():
    h = leaves_of(7)
    node = merkle.node_hash
    assert merkle.root(h[:2]) == node(h[0], h[1])
    assert merkle.root(h[:3]) == node(node(h[0], h[1]), h[2])
    assert merkle.root(h[:5]) == node(node(node(h[0], h[1]), node(h[2], h[3])), h[4])
    assert merkle.root(h[:6]) == node(node(node(h[0], h[1]), node(h[2], h[3])), node(h[4], h[5]))
    assert merkle.root(h) == node(node(node(h[0], h[1]), node(h[2], h[3])), node(node(h[4], h[5]), h[6]))


@given(st.integers(min_value=2, max_value=100))
def test_a_tree_splits_at_the_largest_power_of_two_below_its_size(n):
    leaves = leaves_of(n)
    k = 1 << ((n - 1).bit_length() - 1)
    assert k < n <= 2 * k
    assert merkle.root(leaves) == merkle.node_hash(merkle.root(leaves[:k]), merkle.root(leaves[k:]))


def test_an_audit_path_names_the_side_each_sibling_sits_on():
    h = leaves_of(3)
    assert merkle.audit_path(0, h) == [("R", h[1]), ("R", h[2])]
    assert merkle.audit_path(1, h) == [("L", h[0]), ("R", h[2])]
    assert merkle.audit_path(2, h) == [("L", merkle.node_hash(h[0], h[1]))]


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_a_leaf_index_outside_the_tree_has_no_path(n):
    leaves = leaves_of(n)
    for index in (-1, n, n + 1):
        with pytest.raises(IndexError):
            merkle.audit_path(index, leaves)


def sealed(n: int = 5, *, first_seq: int = 10, council: int = 3, previous: str | None = "ab" * 32, range_=None):
    """Return the content hashes of a sealed range of n entries and its seal (range_ overrides the declared range)."""
    hashes = [rules.content_hash({"n": i}) for i in range(n)]
    leaves = [merkle.leaf_hash(first_seq + i, h) for i, h in enumerate(hashes)]
    first, last = range_ or (first_seq, first_seq + n - 1)
    root_hex = merkle.root(leaves).hex()
    seal = {"council": council, "first_seq": first, "last_seq": last, "root": root_hex, "previous": previous}
    seal["hash"] = merkle.seal_hash(council_id=council, first_seq=first, last_seq=last, root_hex=root_hex, previous_hex=previous)
    return hashes, leaves, seal


def proof_of(index: int, hashes, leaves, seal, first_seq: int = 10) -> dict:
    return {
        "format": "carepool-ledger-proof/1", "entry": 100 + index, "seq": first_seq + index, "content_hash": hashes[index],
        "path": [{"side": s, "hash": h.hex()} for s, h in merkle.audit_path(index, leaves)], "seal": seal,
    }


def test_every_entry_of_a_seal_has_a_proof_that_checks_including_the_first_and_last():
    hashes, leaves, seal = sealed(5)
    for index in range(5):
        ok, explanation = merkle.check_proof(proof_of(index, hashes, leaves, seal))
        assert ok, explanation


def test_a_proof_that_checks_names_the_entry_the_seal_and_the_root():
    hashes, leaves, seal = sealed(5)
    ok, explanation = merkle.check_proof(proof_of(2, hashes, leaves, seal))
    assert (ok, explanation) == (True, f"entry seq 12 is included in seal {seal['hash'][:16]}… (root {seal['root'][:16]}…)")


def test_an_entry_outside_the_seals_range_is_refused_even_when_its_path_leads_to_the_root():
    # The seal claims seqs 20-24, but its root is over entries 10-14.
    hashes, leaves, seal = sealed(5, range_=(20, 24))
    for index in (0, 4):
        ok, explanation = merkle.check_proof(proof_of(index, hashes, leaves, seal))
        assert (ok, explanation) == (False, "the entry's sequence number is outside the seal's range")
    # One before and one after a true range.
    hashes, leaves, seal = sealed(5, range_=(11, 13))
    for index in (0, 4):
        assert merkle.check_proof(proof_of(index, hashes, leaves, seal)) == (False, "the entry's sequence number is outside the seal's range")


@pytest.mark.parametrize("change", [
    {"hash": "00" * 32}, {"previous": "cd" * 32}, {"previous": None}, {"council": 4}, {"first_seq": 9}, {"last_seq": 15},
])
def test_a_seal_whose_hash_does_not_match_its_contents_is_refused(change):
    hashes, leaves, seal = sealed(5)
    ok, explanation = merkle.check_proof(proof_of(2, hashes, leaves, dict(seal, **change)))
    assert (ok, explanation) == (False, "the seal's hash does not match its contents")


def test_the_first_seal_of_a_council_chains_to_nothing():
    hashes, leaves, seal = sealed(3, previous=None)
    assert merkle.check_proof(proof_of(1, hashes, leaves, seal))[0]
    assert not merkle.check_proof(proof_of(1, hashes, leaves, dict(seal, previous="ab" * 32)))[0]


def test_a_path_that_leads_elsewhere_is_refused_naming_both_roots():
    hashes, leaves, seal = sealed(5)
    proof = proof_of(2, hashes, leaves, seal)
    proof["path"][0]["side"] = "L" if proof["path"][0]["side"] == "R" else "R"
    ok, explanation = merkle.check_proof(proof)
    assert not ok and explanation.startswith("the path leads to root ") and explanation.endswith(f", not the seal's root {seal['root']}")


@pytest.mark.parametrize("breakage", [
    lambda p: p.pop("seal"), lambda p: p.pop("path"), lambda p: p.pop("content_hash"), lambda p: p.update(seq="twelve"),
    lambda p: p.update(content_hash="not hex"), lambda p: p["path"][0].update(hash="zz"), lambda p: p["seal"].pop("previous"),
    lambda p: p["seal"].pop("root"), lambda p: p.update(path=None),
])
def test_a_malformed_proof_is_refused_with_the_reason(breakage):
    hashes, leaves, seal = sealed(5)
    proof = proof_of(2, hashes, leaves, dict(seal))
    breakage(proof)
    ok, explanation = merkle.check_proof(proof)
    assert not ok and explanation.startswith("the proof is malformed: ")
