"""Known-answer vectors (brokerage/ledger/vectors.json): the code must still give every answer in the file.

An auditor checks their own implementation against the same file, so a change to any hash or
encoding fails here. Regenerate the file only on purpose: `python scripts/ledger_vectors.py`.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime
from pathlib import Path

import pytest

from brokerage.ledger import merkle, rules

VECTORS = json.loads((Path(rules.__file__).parent / "vectors.json").read_text(encoding="utf-8"))


def slug(text: str) -> str:
    """Return a test id of letters, digits and dashes (mutmut selects tests by id)."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def test_the_file_has_every_kind_of_vector_an_auditor_needs():
    assert VECTORS["format"] == "carepool-ledger-vectors/1"
    for section in ("canonical_json", "entry_content", "leaf_hash", "node_hash", "root", "audit_path", "seal", "proof"):
        assert VECTORS[section], section
    assert {len(v["leaf_hashes"]) for v in VECTORS["root"]} >= {1, 2, 3, 7}
    assert any(v["input"]["previous"] is None for v in VECTORS["seal"])
    assert any(v["input"]["previous"] is not None for v in VECTORS["seal"])
    assert any(not v["output_text"].isascii() for v in VECTORS["canonical_json"])


@pytest.mark.parametrize("vector", VECTORS["canonical_json"], ids=lambda v: slug(v["name"]))
def test_canonical_json_sorts_keys_has_no_spaces_and_keeps_non_ascii_as_utf8(vector):
    output = rules.canonical_json(vector["input"])
    assert output.hex() == vector["output_hex"]
    assert output.decode("utf-8") == vector["output_text"]


@pytest.mark.parametrize("vector", VECTORS["entry_content"], ids=lambda v: slug(v["input"]["idempotency_key"]))
def test_an_entrys_content_and_its_hash_are_as_published(vector):
    inputs = dict(vector["input"], created_at=datetime.fromisoformat(vector["input"]["created_at"]),
                  postings=[tuple(p) for p in vector["input"]["postings"]])
    content = rules.entry_content(**inputs)
    assert content == vector["content"]
    assert list(content) == list(vector["content"])
    assert rules.canonical_json(content).hex() == vector["canonical_json_hex"]
    assert rules.content_hash(content) == vector["content_hash"]
    assert hashlib.sha256(bytes.fromhex(vector["canonical_json_hex"])).hexdigest() == vector["content_hash"]


@pytest.mark.parametrize("vector", VECTORS["leaf_hash"], ids=lambda v: str(v["seq"]))
def test_a_leaf_hashes_0x00_the_sequence_as_8_bytes_big_endian_and_the_content_hash(vector):
    assert merkle.leaf_hash(vector["seq"], vector["content_hash"]).hex() == vector["leaf_hash"]
    spelled_out = b"\x00" + vector["seq"].to_bytes(8, "big") + bytes.fromhex(vector["content_hash"])
    assert hashlib.sha256(spelled_out).hexdigest() == vector["leaf_hash"]


@pytest.mark.parametrize("vector", VECTORS["node_hash"])
def test_a_node_hashes_0x01_then_left_then_right(vector):
    left, right = bytes.fromhex(vector["left"]), bytes.fromhex(vector["right"])
    assert merkle.node_hash(left, right).hex() == vector["node_hash"]
    assert hashlib.sha256(b"\x01" + left + right).hexdigest() == vector["node_hash"]


@pytest.mark.parametrize("vector", VECTORS["root"], ids=lambda v: f"{len(v['leaf_hashes'])} leaves")
def test_the_roots_of_small_trees_are_as_published(vector):
    leaves = [merkle.leaf_hash(seq, h) for seq, h in enumerate(vector["content_hashes"], vector["first_seq"])]
    assert [leaf.hex() for leaf in leaves] == vector["leaf_hashes"]
    assert merkle.root(leaves).hex() == vector["root"]


@pytest.mark.parametrize("vector", VECTORS["audit_path"], ids=lambda v: f"leaf {v['index']}")
def test_audit_paths_are_as_published_and_lead_to_the_root(vector):
    [tree] = [v for v in VECTORS["root"] if len(v["leaf_hashes"]) == 7]
    leaves = [bytes.fromhex(h) for h in tree["leaf_hashes"]]
    path = merkle.audit_path(vector["index"], leaves)
    assert [{"side": s, "hash": h.hex()} for s, h in path] == vector["path"]
    assert merkle.root_from_path(leaves[vector["index"]], path).hex() == tree["root"]


@pytest.mark.parametrize("vector", VECTORS["seal"], ids=lambda v: f"seal {v['input']['first_seq']}")
def test_a_seal_hashes_its_sorted_compact_body(vector):
    body = vector["input"]
    digest = merkle.seal_hash(council_id=body["council"], first_seq=body["first_seq"], last_seq=body["last_seq"],
                              root_hex=body["root"], previous_hex=body["previous"])
    assert digest == vector["seal_hash"]
    assert bytes.fromhex(vector["body_hex"]).decode("ascii") == vector["body_text"]
    assert hashlib.sha256(bytes.fromhex(vector["body_hex"])).hexdigest() == vector["seal_hash"]
    assert json.dumps(body, sort_keys=True, separators=(",", ":")) == vector["body_text"]


def test_the_published_proof_checks_and_fails_when_any_part_is_changed():
    proof = VECTORS["proof"]
    assert list(merkle.check_proof(proof)) == proof["check"]
    assert proof["check"][0] is True
    assert not merkle.check_proof(dict(proof, content_hash=VECTORS["root"][-1]["content_hashes"][3]))[0]
    assert not merkle.check_proof(dict(proof, seal=dict(proof["seal"], previous="00" * 32)))[0]
