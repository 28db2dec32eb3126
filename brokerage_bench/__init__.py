"""Benchmarks for carepool: `brokerage bench ledger` and `brokerage bench match`.

This package sits beside `brokerage`, not inside it: the app (`brokerage.create_app`) never imports
it. The `brokerage bench` command group imports a bench module only when one of its commands is
looked up, so listing or running the other commands does not load it either.

- `brokerage_bench.ledger`: ledger posting throughput against plain inserts (needs a scratch database).
- `brokerage_bench.match`: the matching engine on generated instances (no database).
"""
