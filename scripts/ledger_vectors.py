"""Write brokerage/ledger/vectors.json: known answers for every hash and encoding an auditor relies on.

    python scripts/ledger_vectors.py           # rewrite the file (only when a format changes on purpose)
    python scripts/ledger_vectors.py --check   # exit 1 if the file differs from what the code gives now

The tests never rewrite the file: tests/ledger/test_vectors.py recomputes every vector from its
inputs and fails if the code and the file disagree.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from brokerage.ledger import merkle, rules  # noqa: E402

PATH = ROOT / "brokerage" / "ledger" / "vectors.json"

CANONICAL_JSON = [
    ("keys are sorted at every depth", {"b": 1, "a": {"d": [3, 2], "c": None}}),
    ("no spaces after separators", [1, {"x": True, "y": False}, "a b"]),
    ("non-ASCII text is UTF-8, not \\u escapes", {"memo": "Café — £5 ☕ 日本"}),
    ("quotes, backslashes and control characters are escaped; / is not", {"s": "\"\\/\n\t\u0001"}),
    ("integers as digits, negatives with a minus", {"amount": -12345, "big": 2**53 + 1}),
]

ENTRIES = [
    dict(council_id=1, entry_id=42, kind="pledge_collected", memo="Pledge for 2026-W48", actor_id=7,
         idempotency_key="pledge:tenure:5:2026-W48", created_at=datetime(2026, 11, 23, 9, 30, 0, 123456, tzinfo=timezone.utc),
         reverses_id=None, postings=[("holder:5:wallet", -2500), ("pool:3:5", 2500)]),
    dict(council_id=2, entry_id=43, kind="payout_failed", memo="Payout returned — café account closed", actor_id=None,
         idempotency_key="stripe:evt_1", created_at=datetime(2026, 12, 1, 0, 0, tzinfo=timezone.utc),
         reverses_id=41, postings=[("stripe:clearing", -1000), ("provider:9:payable", 1000)]),
]

LEAVES = [(1, "00" * 32), (2, "ff" * 32), (2**40 + 5, hashlib.sha256(b"carepool").hexdigest())]


def content_hashes(n: int) -> list[str]:
    """Return n made-up content hashes: SHA-256 of "entry 1", "entry 2", …"""
    return [hashlib.sha256(f"entry {i}".encode()).hexdigest() for i in range(1, n + 1)]


def build() -> dict:
    """Compute every vector from its inputs with the code as it is now."""
    out: dict = {
        "format": "carepool-ledger-vectors/1",
        "about": (
            "Known answers for carepool's ledger hashes (see brokerage/ledger/merkle.py and rules.py). "
            "All byte strings are lower-case hex. An independent implementation should reproduce every output "
            "from its inputs. Regenerate only on purpose with scripts/ledger_vectors.py."
        ),
        "definitions": {
            "canonical_json": "JSON with keys sorted, separators ',' and ':' (no spaces), non-ASCII as UTF-8 (not escaped), encoded as UTF-8",
            "content_hash": "SHA-256 of canonical_json(entry content), hex",
            "leaf_hash": "SHA-256(0x00 || seq as 8-byte big-endian || content hash as 32 bytes)",
            "node_hash": "SHA-256(0x01 || left || right)",
            "root": "RFC 6962: one leaf is its own root; n > 1 leaves split at the largest power of two smaller than n",
            "audit_path": "sibling hashes from the leaf up; side R means the sibling is on the right: node_hash(current, sibling)",
            "seal_hash": "SHA-256 of JSON {council, first_seq, last_seq, previous, root} with keys sorted, no spaces, ASCII",
        },
    }
    out["canonical_json"] = [
        {"name": name, "input": data, "output_hex": rules.canonical_json(data).hex(), "output_text": rules.canonical_json(data).decode()}
        for name, data in CANONICAL_JSON
    ]
    out["entry_content"] = []
    for entry in ENTRIES:
        content = rules.entry_content(**entry)
        inputs = dict(entry, created_at=entry["created_at"].isoformat(), postings=[list(p) for p in entry["postings"]])
        out["entry_content"].append({
            "input": inputs, "content": content, "canonical_json_hex": rules.canonical_json(content).hex(),
            "content_hash": rules.content_hash(content),
        })
    out["leaf_hash"] = [
        {"seq": seq, "content_hash": digest, "leaf_hash": merkle.leaf_hash(seq, digest).hex()} for seq, digest in LEAVES
    ]
    left, right = merkle.leaf_hash(1, "00" * 32), merkle.leaf_hash(2, "ff" * 32)
    out["node_hash"] = [
        {"left": left.hex(), "right": right.hex(), "node_hash": merkle.node_hash(left, right).hex()},
        {"left": right.hex(), "right": left.hex(), "node_hash": merkle.node_hash(right, left).hex()},
    ]
    out["root"] = []
    for n in (1, 2, 3, 5, 7):
        hashes = content_hashes(n)
        leaves = [merkle.leaf_hash(seq, h) for seq, h in enumerate(hashes, 1)]
        out["root"].append({
            "first_seq": 1, "content_hashes": hashes, "leaf_hashes": [leaf.hex() for leaf in leaves], "root": merkle.root(leaves).hex(),
        })
    hashes = content_hashes(7)
    leaves = [merkle.leaf_hash(seq, h) for seq, h in enumerate(hashes, 1)]
    out["audit_path"] = [
        {"leaves": "root[4] (7 leaves)", "index": index, "path": [{"side": s, "hash": h.hex()} for s, h in merkle.audit_path(index, leaves)]}
        for index in (0, 4, 6)
    ]
    seals = [
        dict(council_id=1, first_seq=1, last_seq=7, root_hex=merkle.root(leaves).hex(), previous_hex=None),
        dict(council_id=1, first_seq=8, last_seq=9, root_hex="11" * 32, previous_hex="22" * 32),
    ]
    out["seal"] = []
    for seal in seals:
        body = {"council": seal["council_id"], "first_seq": seal["first_seq"], "last_seq": seal["last_seq"],
                "previous": seal["previous_hex"], "root": seal["root_hex"]}
        body_bytes = json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
        out["seal"].append({
            "input": body, "body_hex": body_bytes.hex(), "body_text": body_bytes.decode(),
            "seal_hash": merkle.seal_hash(**seal),
        })
    first = out["seal"][0]
    out["proof"] = {
        "format": "carepool-ledger-proof/1", "entry": 104, "seq": 5, "content_hash": hashes[4],
        "path": out["audit_path"][1]["path"],
        "seal": dict(first["input"], hash=first["seal_hash"]),
        "check": list(merkle.check_proof({"seq": 5, "content_hash": hashes[4], "path": out["audit_path"][1]["path"],
                                          "seal": dict(first["input"], hash=first["seal_hash"])})),
    }
    return out


def render(vectors: dict) -> str:
    """Return the file's text."""
    return json.dumps(vectors, indent=2, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Write or check the vectors file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the file instead of writing it")
    args = parser.parse_args(argv)
    text = render(build())
    if args.check:
        same = PATH.exists() and PATH.read_text(encoding="utf-8") == text
        print(f"{PATH.relative_to(ROOT)} {'matches' if same else 'DIFFERS from'} the code")
        return 0 if same else 1
    PATH.write_text(text, encoding="utf-8")
    print(f"wrote {PATH.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
