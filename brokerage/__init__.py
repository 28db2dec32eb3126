"""Carepool brokerage: pooled direct payments for adult social care."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict | None = None, *, serving: bool = True) -> Flask:
    """Build and configure the Flask application; `serving=False` for commands that serve no web request."""
    # Imported here, not at the top: importing any brokerage module (brokerage.types, brokerage.clock)
    # must not load every blueprint and domain package (STYLE.md habit 1: nothing at import time).
    from brokerage.app import create_app as build

    return build(config, serving=serving)
