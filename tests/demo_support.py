"""The demo, loaded once per test process into a database of its own, for the many tests that start from it.

Loading the 30-week demo takes seconds; a dozen modules' tests each loading it again made up a large
part of the suite's time. Here it is loaded and committed once per process (per xdist worker), into a
database beside the run's own (`<test db>_demo` on PostgreSQL, another file on SQLite), with the local
Stripe server of the run. Each test then works inside a transaction on that database that is rolled
back afterwards, exactly as other tests do on the run's database, so what one test changes the next
never sees.

Fixtures: `demo_database` (its url, the logins load_demo returned, and their password), `demo_engine`,
and per test `demo_connection` and `demo_app`. A module whose every test starts from the demo makes its
`app` fixture return `demo_app` (tests/matching/test_workflow.py); `session` and `client` then follow it.
Tests that load the demo themselves (under a frozen clock, twice, or with Stripe's records kept) stay
on the run's database.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import text

from brokerage.db import make_engine

PASSWORD = "demo password for tests"


@dataclass(frozen=True)
class DemoDatabase:
    """The shared demo's database: its URL, the logins load_demo returned, and their password."""

    url: str
    logins: list
    password: str = PASSWORD


def _sibling_url(db_url: str, tmp_path_factory) -> str:
    """Return a URL for a database beside the run's own, created empty."""
    if not db_url.startswith("postgresql"):
        return f"sqlite:///{tmp_path_factory.mktemp('demo') / 'demo.sqlite'}"
    from sqlalchemy.engine import make_url

    base = make_url(db_url)
    name = f"{base.database}_demo"
    engine = make_engine(db_url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def demo_database(db_url, tmp_path_factory, _stripe_server_for_run) -> DemoDatabase:
    """Load the demo once for this process into a database of its own, and commit it."""
    from brokerage import create_app
    from brokerage.db import session_scope
    from brokerage.demo.services import load_demo
    from brokerage.migrate import upgrade
    from tests.conftest import TEST_CONFIG, reset_database
    from tests.stripe_support import stripe_config

    url = _sibling_url(db_url, tmp_path_factory)
    reset_database(url)
    upgrade("head", url=url)
    _stripe_server_for_run.flush()
    app = create_app({**TEST_CONFIG, "DATABASE_URL": url, **stripe_config(_stripe_server_for_run.url)})
    with app.app_context(), session_scope(app) as session:
        logins = load_demo(session=session, password=PASSWORD, stripe_config=app.config)
    app.extensions["db_engine"].dispose()
    return DemoDatabase(url=url, logins=logins)


@pytest.fixture(scope="session")
def demo_engine(demo_database):
    """Return an engine on the shared demo's database."""
    engine = make_engine(demo_database.url)
    yield engine
    engine.dispose()


@pytest.fixture()
def demo_connection(demo_engine):
    """Open a connection to the shared demo whose outer transaction is rolled back after the test.

    Fails a test that committed anything to the shared demo some other way (a connection of its own),
    since every later test would read it.
    """
    from tests.conftest import committed_counts

    before = committed_counts(demo_engine, cache=False)
    connection = demo_engine.connect()
    transaction = connection.begin()
    yield connection
    transaction.rollback()
    connection.close()
    after = committed_counts(demo_engine, cache=False)
    assert after == before, {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}


@pytest.fixture()
def demo_app(demo_database, demo_connection, stripe_server):
    """Return an app on the shared demo, inside the test's rolled-back transaction, talking to the local Stripe server."""
    from tests.conftest import app_in_transaction
    from tests.stripe_support import stripe_config

    return app_in_transaction(demo_database.url, demo_connection, **stripe_config(stripe_server.url))

