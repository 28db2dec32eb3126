"""Shared fixtures: a migrated database per run, a rolled-back transaction per test."""

from __future__ import annotations

from contextlib import contextmanager

import os
from pathlib import Path

import pytest
from hypothesis import settings
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from argon2 import PasswordHasher, profiles

from brokerage import create_app
from brokerage.accounts import passwords
from brokerage.db import make_engine, reading_only
from brokerage.wiring import connect_domains

SERVICE_MARKERS = ("postgres_only", "redis", "browser")

# argon2id at its cheapest in this process: thousands of sign-ins and the demo's accounts take
# milliseconds instead of minutes. Still argon2id, still verified for real; the served app keeps the
# default cost (tests/accounts/test_sign_in.py checks it), as do the processes tests start.
passwords.use_hasher(PasswordHasher.from_parameters(profiles.CHEAPEST))

# The local Stripe server and the apps that talk to it (fixtures stripe_server, stripe_app, stripe_client...),
# and the demo loaded once per process (demo_app, demo_database...).
pytest_plugins = ["tests.stripe_support", "tests.demo_support"]


def _compile_each_url_builder_once() -> None:
    """Have werkzeug compile each URL rule's builder once per process, not once per app.

    Every database test makes its own app (`app_in_transaction`), and werkzeug's `Rule.compile`
    generates and compile()s two Python functions per rule: half of `create_app`'s 0.10 s on the
    2-core machine, over two minutes of CPU in each CI run. The function it generates depends only
    on what the key below holds (the rule, its parsed parts and its defaults), and takes its rule as
    an argument, so one compiled function serves every app's copy of the rule. The served app is
    untouched.
    """
    from werkzeug.routing.rules import Rule

    compile_builder = Rule._compile_builder
    compiled: dict[tuple, object] = {}

    def cached(self, append_unknown: bool = True):
        key = (
            self.rule, self.subdomain, self.host, self.map.host_matching, self.merge_slashes, tuple(self._trace),
            tuple(sorted((name, repr(value)) for name, value in (self.defaults or {}).items())), append_unknown,
        )
        if key not in compiled:
            compiled[key] = compile_builder(self, append_unknown)
        return compiled[key]

    Rule._compile_builder = cached


_compile_each_url_builder_once()

# `make mutation` runs each mutant against the same examples, with no example database to carry
# a failure found for one mutant over to the next, and no deadline for a slow mutant to trip.
settings.register_profile("mutation", derandomize=True, database=None, deadline=None)
# Every run has no per-example deadline either: tests must not fail because the machine is slow (a pure FIFO property
# test failed once on Hypothesis's 200 ms deadline while other suites ran on both cores). Speed is the benchmarks' job.
settings.register_profile("carepool", deadline=None)
settings.load_profile("carepool")


def database_url(tmp_root: Path) -> str:
    """Return TEST_DATABASE_URL, or a fresh SQLite file for this run.

    Under pytest-xdist each PostgreSQL worker gets its own database beside the given one (`test_gw0`,
    `test_gw1`, ...), created on first use: the run rebuilds its schema, so workers cannot share one.
    """
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        return f"sqlite:///{tmp_root / 'test.sqlite'}"
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if url.startswith("postgresql") and worker:
        url = _worker_database(url, worker)
    return url


def _worker_database(url: str, worker: str) -> str:
    """Return the URL of this xdist worker's own PostgreSQL database, creating it if it is missing."""
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    engine = make_engine(url).execution_options(isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return base.set(database=name).render_as_string(hide_password=False)


def reset_database(url: str) -> None:
    """Empty the test database so the migrations build it from nothing."""
    if url.startswith("postgresql"):
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture()
def scratch_url(db_url, tmp_path):
    """An empty database of this test's own for migration tests: a SQLite file, or a PostgreSQL database beside the run's.

    Emptied again afterwards (the test disposes of its engines first).
    """
    if not db_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'scratch.sqlite'}"
        return
    base = make_url(db_url)
    name = f"{base.database}_hours"  # the run's database is already its worker's own
    admin = make_engine(db_url).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first():
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    url = base.set(database=name).render_as_string(hide_password=False)
    reset_database(url)
    yield url
    reset_database(url)


@pytest.fixture(scope="session")
def db_url(tmp_path_factory) -> str:
    """Create the schema through the Alembic migrations once per run."""
    from brokerage.migrate import upgrade

    url = database_url(tmp_path_factory.mktemp("db"))
    reset_database(url)
    upgrade("head", url=url)
    return url


@pytest.fixture(scope="session")
def engine(db_url):
    """Return the engine shared by the run, with the domains' hooks connected as create_app connects them."""
    # Race tests post to the ledger on this engine with no app: the ledger still needs its owner checks.
    connect_domains()
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


_committed_tables: list[str] = []


def committed_counts(engine, *, cache: bool = True) -> dict[str, int]:
    """Return how many committed rows each table holds, as any other connection sees them.

    The table names are read once per run for the run's own database (`cache`), every time otherwise.
    """
    from sqlalchemy import inspect

    if not cache:
        tables = sorted(inspect(engine).get_table_names())
    else:
        if not _committed_tables:
            _committed_tables.extend(sorted(inspect(engine).get_table_names()))
        tables = _committed_tables
    query = " UNION ALL ".join(f"SELECT '{name}', COUNT(*) FROM {engine.dialect.identifier_preparer.quote(name)}" for name in tables)
    # Deferred: it only reads, so it never waits for a transaction that holds the write lock.
    with reading_only(), engine.connect() as other:
        return dict(other.execute(text(query)).all())


_counts_after_last_test: dict[str, int] = {}


@contextmanager
def no_committed_rows_left(engine):
    """Fail (AssertionError) if the block leaves committed rows behind that were not there after the last block checked."""
    # What the last database test of this process left is what this one starts from (counting about 80
    # tables takes 7-18 ms on PostgreSQL). No fixture commits rows between two tests; one that did (a
    # module- or session-scoped fixture) fails the next test here, and the message says it may be the cause.
    before = dict(_counts_after_last_test) or committed_counts(engine)  # a copy: the cache is refilled below
    yield
    after = committed_counts(engine)
    _counts_after_last_test.clear()
    _counts_after_last_test.update(after)
    left = {name: after[name] - before.get(name, 0) for name in after if after[name] != before.get(name, 0)}
    assert not left, (
        f"the test left committed rows behind (table: rows added): {left}; if the test commits nothing, look at the fixtures "
        "of wider scope it uses: rows committed or deleted since the last database test of this process count here too"
    )


@pytest.fixture(autouse=True)
def leaves_no_committed_rows(request):
    """Fail a database test that leaves committed rows behind, so the order tests run in never matters."""
    if "db_url" not in request.fixturenames:
        yield
        return
    # Checked after the test's own fixtures are torn down (autouse fixtures are set up first).
    with no_committed_rows_left(request.getfixturevalue("engine")):
        yield


@pytest.fixture()
def connection(engine):
    """Open a connection whose outer transaction is rolled back after the test."""
    connection = engine.connect()
    transaction = connection.begin()
    yield connection
    transaction.rollback()
    connection.close()


TEST_CONFIG = {
    "ENV_MODE": "testing",
    "TESTING": True,
    "SECRET_KEY": "test-secret-key-not-for-production",
    "REDIS_URL": None,
    "SESSION_COOKIE_SECURE": False,
    "WTF_CSRF_ENABLED": False,
    # A page that would print the word "None" for a missing value fails its test (in service it prints nothing).
    "TEMPLATES_REFUSE_NONE": True,
}


def app_in_transaction(db_url: str, connection, **config):
    """Return a test app whose request sessions join `connection`'s rolled-back transaction."""
    app = create_app({**TEST_CONFIG, "DATABASE_URL": db_url, **config})
    app.extensions["db_engine"].dispose()
    app.extensions["db_sessionmaker"] = sessionmaker(
        bind=connection, class_=Session, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    return app


@pytest.fixture()
def app(db_url, connection):
    """Return an app whose request sessions join the test's rolled-back transaction."""
    return app_in_transaction(db_url, connection)


@pytest.fixture()
def session(app, connection):
    """Return a session for arranging and checking data inside the test's transaction."""
    session = app.extensions["db_sessionmaker"]()
    yield session
    session.close()


@pytest.fixture()
def client(app):
    """Return a test client."""
    return app.test_client()


@pytest.fixture()
def runner(app):
    """Return a CLI runner."""
    return app.test_cli_runner()


@pytest.fixture()
def is_postgres(db_url) -> bool:
    """Tell whether the tests run on PostgreSQL."""
    return db_url.startswith("postgresql")


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgres_only") and not os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"):
        pytest.skip("needs PostgreSQL (set TEST_DATABASE_URL)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """With CAREPOOL_REQUIRE_SERVICES=1, a skipped PostgreSQL or Redis test is a failure."""
    report = yield
    if (
        os.environ.get("CAREPOOL_REQUIRE_SERVICES") == "1"
        and report.skipped
        and any(item.get_closest_marker(m) for m in SERVICE_MARKERS)
        and (os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql") or not item.get_closest_marker("postgres_only"))
    ):
        report.outcome = "failed"
        report.longrepr = f"{item.nodeid} was skipped, but CAREPOOL_REQUIRE_SERVICES=1 requires it to run"
    return report


class World:
    """Two councils, each with one user per role and one record of each kind."""

    def __init__(self, session):
        from tests import factories as f
        from brokerage.accounts.models import Role
        from brokerage.clusters.models import ClusterStatus
        from datetime import timedelta

        from brokerage.clusters.models import Proposal
        from brokerage.clusters.rules import ProposalKind
        from brokerage.ledger import rules
        from brokerage.matching.models import MatchRun
        from brokerage.types import utcnow
        from brokerage.accounts.system import system_actor
        from brokerage.ledger.integrity import seal
        from brokerage.ledger.services import post_entry
        from brokerage.contracts.models import Contract
        from brokerage.timesheets.models import Timesheet, Visit
        from datetime import date, time

        self.councils = {}
        self.users = {}
        self.records = {}
        self.admin = f.UserFactory(session=session, role=Role.admin, council_id=None, email="admin@example.org")
        f.load_places(session)
        for key in ("a", "b"):
            council = f.CouncilFactory(session=session, slug=f"council-{key}", name=f"Council {key.upper()}")
            f.claim_districts(session, council, "E3 E14" if key == "a" else "LS6")
            holder = f.HolderFactory(session=session, council_id=council.id, name=f"Holder {key}")
            other_holder = f.HolderFactory(session=session, council_id=council.id, name=f"Neighbour {key}")
            provider = f.ProviderFactory(session=session, council_id=council.id, name=f"Co-op {key}")
            other_provider = f.ProviderFactory(session=session, council_id=council.id, name=f"Other co-op {key}")
            cluster = f.ClusterFactory(session=session, council_id=council.id, name=f"Cluster {key}", status=ClusterStatus.active)
            membership = f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id)
            private_cluster = f.ClusterFactory(session=session, council_id=council.id, name=f"Private cluster {key}", status=ClusterStatus.active)
            other_membership = f.MembershipFactory(session=session, council_id=council.id, cluster_id=private_cluster.id, holder_id=other_holder.id)
            users = {
                Role.holder: f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=holder.id, email=f"holder-{key}@example.org"),
                Role.representative: f.UserFactory(session=session, role=Role.representative, council_id=council.id, email=f"rep-{key}@example.org"),
                Role.broker: f.UserFactory(session=session, role=Role.broker, council_id=council.id, email=f"broker-{key}@example.org"),
                Role.council_officer: f.UserFactory(session=session, role=Role.council_officer, council_id=council.id, email=f"officer-{key}@example.org"),
                Role.provider: f.UserFactory(session=session, role=Role.provider, council_id=council.id, provider_id=provider.id, email=f"provider-{key}@example.org"),
            }
            f.RepresentationFactory(session=session, council_id=council.id, representative_id=users[Role.representative].id, holder_id=holder.id)
            # The weekly money run posts these: it acts as the council's system user.
            job = system_actor(session=session, council_id=council.id)
            entry = post_entry(session=session, actor=job, council_id=council.id, kind="dp_issued", memo="Direct payment",
                               postings=[(rules.funding_code(council.id), -50_000), (rules.wallet_code(holder.id), 50_000)], idempotency_key="dp")
            other_entry = post_entry(session=session, actor=job, council_id=council.id, kind="dp_issued", memo="Direct payment",
                                     postings=[(rules.funding_code(council.id), -40_000), (rules.wallet_code(other_holder.id), 40_000)], idempotency_key="dp-2")
            seal(session=session, actor=job, council_id=council.id)
            proposal = Proposal(council_id=council.id, cluster_id=cluster.id, kind=ProposalKind.free_text, title="Afternoon visits",
                                deadline=utcnow() + timedelta(days=7))
            other_proposal = Proposal(council_id=council.id, cluster_id=private_cluster.id, kind=ProposalKind.free_text, title="Private",
                                      deadline=utcnow() + timedelta(days=7))
            session.add_all([proposal, other_proposal])
            run = MatchRun(council_id=council.id, lines=0, suppliers=0)
            session.add(run)
            # A released payment run paying both providers, and a cancelled one (its neighbour in the council).
            from brokerage.payments.run_models import PaymentLine, PaymentRun

            payment_run = PaymentRun(council_id=council.id, status="released", prepared_by_id=users[Role.broker].id,
                                     released_by_id=users[Role.council_officer].id, released_at=utcnow(), total_pence=3000)
            other_payment_run = PaymentRun(council_id=council.id, status="cancelled", prepared_by_id=users[Role.broker].id, total_pence=100)
            session.add_all([payment_run, other_payment_run])
            session.flush()
            payment_line = PaymentLine(council_id=council.id, run_id=payment_run.id, provider_id=provider.id, amount_pence=2000)
            other_payment_line = PaymentLine(council_id=council.id, run_id=payment_run.id, provider_id=other_provider.id, amount_pence=1000)
            session.add_all([payment_line, other_payment_line])
            # A contract for each group, each with a draft timesheet holding one visit.
            contract = Contract(council_id=council.id, provider_id=provider.id, cluster_id=cluster.id, service="home_care",
                                member_shares={str(holder.id): 1}, hours_per_week=10, rate_pence=2200, start_date=date(2026, 1, 5))
            other_contract = Contract(council_id=council.id, provider_id=other_provider.id, cluster_id=private_cluster.id, service="home_care",
                                      member_shares={str(other_holder.id): 1}, hours_per_week=10, rate_pence=2200, start_date=date(2026, 1, 5))
            session.add_all([contract, other_contract])
            session.flush()
            timesheet = Timesheet(council_id=council.id, contract_id=contract.id, provider_id=provider.id, cluster_id=cluster.id, week="2026-W02")
            other_timesheet = Timesheet(council_id=council.id, contract_id=other_contract.id, provider_id=other_provider.id,
                                        cluster_id=private_cluster.id, week="2026-W02")
            session.add_all([timesheet, other_timesheet])
            session.flush()
            visit = Visit(council_id=council.id, timesheet_id=timesheet.id, holder_id=holder.id, visit_date=date(2026, 1, 5), start_time=time(9),
                          minutes=60)
            other_visit = Visit(council_id=council.id, timesheet_id=other_timesheet.id, holder_id=other_holder.id, visit_date=date(2026, 1, 5),
                                start_time=time(9), minutes=60)
            session.add_all([visit, other_visit])
            # What each group asked for, already withdrawn: the broker's edit page has a record to open, and no
            # other test's matching or demand sees them (a withdrawn line is never matched or listed as wanted).
            from brokerage.matching.models import DemandLine
            from brokerage.matching.rules import DemandLineStatus

            demand_line, other_demand_line = (
                DemandLine(council_id=council.id, cluster_id=group.id, service="home_care", hours=4, slots=["mon_am"], lat=51.5, lon=-0.05,
                           max_rate_pence=2500, status=DemandLineStatus.withdrawn)
                for group in (cluster, private_cluster)
            )
            session.add_all([demand_line, other_demand_line])
            session.flush()
            # A proposed part of the run, for the page that changes its times (its line is withdrawn, as above).
            from brokerage.matching.models import MatchAssignment

            assignment = MatchAssignment(council_id=council.id, run_id=run.id, demand_line_id=demand_line.id, cluster_id=cluster.id,
                                         provider_id=provider.id, hours=4, solver_hours=4, rate_pence=2200, distance_km=1.0,
                                         explanation="Near", slot_hours={"mon_am": 4})
            session.add(assignment)
            session.flush()
            self.councils[key] = council
            self.users[key] = users
            self.records[key] = {
                "holder": holder, "other_holder": other_holder, "provider": provider, "other_provider": other_provider,
                "cluster": cluster, "private_cluster": private_cluster, "entry": entry, "other_entry": other_entry,
                "proposal": proposal, "other_proposal": other_proposal, "run": run,
                "membership": membership, "other_membership": other_membership,
                "payment_run": payment_run, "other_payment_run": other_payment_run,
                "payment_line": payment_line, "other_payment_line": other_payment_line,
                "contract": contract, "other_contract": other_contract, "timesheet": timesheet, "other_timesheet": other_timesheet,
                "visit": visit, "other_visit": other_visit, "demand_line": demand_line, "other_demand_line": other_demand_line,
                "assignment": assignment,
            }
        session.commit()


@pytest.fixture()
def world(session):
    """Return two councils with a user per role and records of each kind."""
    return World(session)


class Auth:
    """Sign in and out through the real form."""

    def __init__(self, client):
        self.client = client

    def sign_in(self, email, password=None):
        from tests.factories import PASSWORD

        return self.client.post("/sign-in", data={"email": email, "password": password or PASSWORD})

    def sign_out(self):
        return self.client.post("/sign-out")


@pytest.fixture()
def auth(client):
    """Return a helper that signs in through the form."""
    return Auth(client)


@pytest.fixture()
def freeze_clock(monkeypatch):
    """Return a function that stops brokerage.clock at a given aware moment (the one source of time)."""
    from brokerage import clock

    def freeze(moment):
        assert moment.tzinfo is not None, "freeze the clock at an aware moment"
        monkeypatch.setattr(clock, "now", lambda: moment)
        return moment

    return freeze


@pytest.fixture()
def places(session):
    """Store the test places (tests.factories.PLACES) in the postcode table, in the test's transaction."""
    from tests.factories import load_places  # as the world fixture imports the factories: only the tests that use them load them

    load_places(session)


def pytest_collection_modifyitems(config, items):
    """Run the long tests first; with CAREPOOL_DATABASE_TESTS_ONLY=1 (`make test-postgres`), only the tests that use a database.

    `make test` runs the suite on SQLite first, then again on PostgreSQL; a test with no database
    fixture (db_url, directly or through app, session, client, runner…) and no PostgreSQL or Redis
    marker gives the same result both times, so the second run leaves it out (deselected, not skipped).
    """
    # The long tests first (a stable sort, after pytest-randomly's shuffle): xdist hands tests out in
    # this order, so the two workers start on them together instead of one finishing the run alone.
    items.sort(key=lambda item: item.get_closest_marker("long") is None)
    if os.environ.get("CAREPOOL_DATABASE_TESTS_ONLY") != "1":
        return
    keep, drop = [], []
    for item in items:
        uses_database = "db_url" in getattr(item, "fixturenames", ()) or any(item.get_closest_marker(m) for m in ("postgres_only", "redis"))
        (keep if uses_database else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep
