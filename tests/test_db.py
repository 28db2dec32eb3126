"""SQLite: pages that only read never wait for a writer, and a write that finds the database busy says so (503)."""

from __future__ import annotations

import os
import sqlite3
import time

import pytest

from brokerage import create_app
from brokerage.accounts.models import Role
from tests import factories as f

pytestmark = pytest.mark.skipif(
    os.environ.get("TEST_DATABASE_URL", "").startswith("postgresql"), reason="about SQLite's database-wide write lock"
)


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory):
    """Return a migrated SQLite file of its own, so another connection can really hold its write lock."""
    from brokerage.migrate import upgrade

    path = tmp_path_factory.mktemp("busy") / "busy.sqlite"
    upgrade("head", url=f"sqlite:///{path}")
    return path


@pytest.fixture()
def busy_app(sqlite_file):
    app = create_app({
        "ENV_MODE": "testing", "TESTING": True, "SECRET_KEY": "test-secret-key-not-for-production", "DATABASE_URL": f"sqlite:///{sqlite_file}",
        "REDIS_URL": None, "SESSION_COOKIE_SECURE": False, "WTF_CSRF_ENABLED": False, "SQLITE_REQUEST_BUSY_SECONDS": 0.5,
    })
    with app.extensions["db_sessionmaker"]() as session:
        council = f.CouncilFactory(session=session)
        holder = f.HolderFactory(session=session, council_id=council.id)
        user = f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=holder.id)
        session.commit()
        app.config["TEST_USER"] = (user.email, holder.id)
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture()
def signed_in(busy_app):
    client = busy_app.test_client()
    email, _ = busy_app.config["TEST_USER"]
    assert client.post("/sign-in", data={"email": email, "password": f.PASSWORD}).status_code == 302
    return client


@pytest.fixture()
def writer(sqlite_file):
    """Hold SQLite's write lock from another connection, as a long payment run would."""
    connection = sqlite3.connect(sqlite_file, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    yield connection
    connection.execute("ROLLBACK")
    connection.close()


def new_group_form(holder_id: int) -> dict:
    return {"name": "Busy day", "kinds": ["goal"], "min_size": "2", "max_size": "6", "holder_id": str(holder_id), "pledge": "10"}


def test_a_page_that_only_reads_opens_at_once_while_another_connection_holds_the_write_lock(signed_in, writer):
    # The writer holds the lock for the whole test, and a request that wanted it would give up with a 503 after
    # busy_app's 0.5 s: a 200 shows the page never asked for it (no stopwatch, which a busy machine would fail).
    response = signed_in.get("/clusters/find")
    assert response.status_code == 200


def test_a_form_sent_while_the_database_is_busy_answers_503_with_retry_after_and_saves_nothing(busy_app, signed_in, writer):
    _, holder_id = busy_app.config["TEST_USER"]
    page = signed_in.post("/clusters/new", data=new_group_form(holder_id))
    assert page.status_code == 503
    assert page.headers["Retry-After"] == "5"
    assert "The service is busy with other changes. Nothing was saved. Please try again in a few seconds." in page.data.decode()
    as_json = signed_in.post("/clusters/new", data=new_group_form(holder_id), headers={"Accept": "application/json"})
    assert as_json.status_code == 503 and as_json.headers["Retry-After"] == "5"
    assert as_json.get_json() == {"error": "The service is busy with other changes. Nothing was saved. Please try again in a few seconds."}
    writer.execute("ROLLBACK")
    writer.execute("BEGIN")  # the fixture's ROLLBACK needs a transaction to end
    again = signed_in.post("/clusters/new", data=new_group_form(holder_id))
    assert again.status_code == 302


def test_commands_and_jobs_take_the_write_lock_when_they_begin(busy_app, sqlite_file):
    from brokerage.db import session_scope

    with busy_app.app_context(), session_scope(busy_app) as session:
        session.connection()
        other = sqlite3.connect(sqlite_file, isolation_level=None, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()


def test_a_staff_page_that_records_the_read_waits_for_a_writer_instead_of_failing(busy_app, sqlite_file):
    import threading

    from sqlmodel import select

    from brokerage.audit.models import AccessLog

    _, holder_id = busy_app.config["TEST_USER"]
    with busy_app.extensions["db_sessionmaker"]() as session:
        council_id = session.get(f.HolderFactory._meta.model, holder_id).council_id
        broker = f.UserFactory(session=session, role=Role.broker, council_id=council_id)
        session.commit()
        broker_email = broker.email
    client = busy_app.test_client()
    assert client.post("/sign-in", data={"email": broker_email, "password": f.PASSWORD}).status_code == 302

    # Another connection writes for a moment (shorter than the request's 0.5 s wait), as a short run would.
    writer = sqlite3.connect(sqlite_file, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    release = threading.Timer(0.2, lambda: writer.execute("COMMIT"))
    release.start()
    try:
        page = client.get(f"/holders/{holder_id}")
    finally:
        release.join()
        writer.close()
    # A deferred read upgraded to a write fails at once under WAL; beginning with the write lock waits.
    assert page.status_code == 200
    with busy_app.extensions["db_sessionmaker"]() as session:
        assert session.exec(select(AccessLog).where(AccessLog.holder_id == holder_id, AccessLog.what == "record")).first() is not None


def test_a_form_whose_job_does_the_writing_lets_an_inline_job_take_the_write_lock_at_once(busy_app):
    # The view holds no write lock while its job runs (db.only_jobs_write); were it to hold one, the
    # inline job would wait its 30 s for the lock and fail.
    _, holder_id = busy_app.config["TEST_USER"]
    with busy_app.extensions["db_sessionmaker"]() as session:
        council_id = session.get(f.HolderFactory._meta.model, holder_id).council_id
        officer = f.UserFactory(session=session, role=Role.council_officer, council_id=council_id)
        session.commit()
        officer_email = officer.email
    client = busy_app.test_client()
    assert client.post("/sign-in", data={"email": officer_email, "password": f.PASSWORD}).status_code == 302
    started = time.monotonic()
    page = client.post("/ledger/verify", follow_redirects=True)
    assert time.monotonic() - started < 10
    assert page.status_code == 200
    assert "The ledger checks out" in page.get_data(as_text=True)
