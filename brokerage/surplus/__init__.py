"""Surplus rules and clawback: flags on pool shares whose money sits unspent, and taking it back with two officers."""
