"""Fixtures of the matching tests that start from the demo: import them into a test module (`app`, `demo`)."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Council, User


@pytest.fixture()
def app(demo_app):
    """Every test of a module that imports this starts from the demo, loaded once per process (tests/demo_support.py), in a rolled-back transaction."""
    return demo_app


@pytest.fixture()
def demo(session):
    """Return Riverside council and its broker (broker@riverside.example)."""
    council = session.exec(select(Council).where(Council.slug == "riverside")).one()
    broker = session.exec(select(User).where(User.email == "broker@riverside.example")).one()
    return council, broker
