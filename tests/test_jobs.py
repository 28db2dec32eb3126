"""Jobs run inline without Redis, and through a real RQ worker with Redis."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid

import pytest

from brokerage import jobs, scheduled
from brokerage.clusters import runs


def test_without_redis_a_job_runs_inline_and_sees_the_database(app, world, session):
    from sqlmodel import func, select

    from brokerage.accounts.models import Council

    councils = session.exec(select(func.count()).select_from(Council)).one()
    with app.app_context():
        handle = jobs.enqueue("ping", message="hello")
    assert handle.status == "finished"
    assert handle.result == {"message": "hello", "councils": councils}
    assert councils >= 2


def test_an_unknown_job_is_refused_before_queueing(app):
    with app.app_context(), pytest.raises(KeyError):
        jobs.enqueue("no-such-job")


def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def redis_available() -> bool:
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    try:
        return bool(Redis.from_url(redis_url(), socket_connect_timeout=1).ping())
    except RedisConnectionError:
        return False


@pytest.mark.redis
def test_with_redis_a_worker_process_runs_the_job(tmp_path):
    if not redis_available():
        pytest.skip(f"no Redis at {redis_url()}")
    from brokerage import create_app
    from brokerage.migrate import upgrade

    database = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    upgrade("head", url=database)
    queue_name = f"carepool-test-{uuid.uuid4().hex[:8]}"
    config = {"ENV_MODE": "testing", "SECRET_KEY": "x" * 32, "DATABASE_URL": database, "REDIS_URL": redis_url(), "JOB_QUEUE": queue_name}
    app = create_app(config)
    with app.app_context():
        handle = jobs.enqueue("ping", message="via redis")
        assert handle.status == "queued"
        env = dict(os.environ, CAREPOOL_ENV="testing", SECRET_KEY="x" * 32, DATABASE_URL=database, REDIS_URL=redis_url(), CAREPOOL_JOB_QUEUE=queue_name)
        worker = subprocess.run(
            [sys.executable, "-m", "brokerage.cli", "worker", "--burst"], env=env, capture_output=True, text=True, timeout=120
        )
        assert worker.returncode == 0, worker.stderr
        deadline = time.monotonic() + 30
        while (result := jobs.fetch(handle.id)).status not in ("finished", "failed") and time.monotonic() < deadline:
            time.sleep(0.2)
    assert result.status == "finished", result.error
    assert result.result == {"message": "via redis", "councils": 0}


def test_a_worker_stops_listening_at_once_when_its_thread_read_the_unsubscribe_before_the_stop():
    # RQ's own Worker waited 60 s here (its thread went back to waiting for a subscription, and redis-py's
    # stop() waits for the thread): `brokerage worker --burst` took a minute to end when the machine was busy.
    # Measured with RQ's Worker in place of ListeningWorker: 59.8 s.
    if not redis_available():
        pytest.skip(f"no Redis at {redis_url()}")
    from redis import Redis
    from rq import Queue

    connection = Redis.from_url(redis_url())
    worker = jobs.ListeningWorker([Queue(f"carepool-test-{uuid.uuid4().hex[:8]}", connection=connection)], connection=connection)
    worker.subscribe()
    try:
        deadline = time.monotonic() + 10
        while not worker.pubsub.subscribed and time.monotonic() < deadline:
            time.sleep(0.01)
        worker.pubsub.unsubscribe()  # the thread reads the reply, then waits for a subscription again
        while worker.pubsub.subscribed and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not worker.pubsub.subscribed
        time.sleep(0.2)
        started = time.monotonic()
        worker.unsubscribe()
        assert time.monotonic() - started < 10
        assert not worker.pubsub_thread.is_alive()
    finally:
        connection.close()


def test_every_job_is_registered_by_its_package_and_a_name_is_never_taken_twice(app):
    assert {"ping", "ledger.verify", "ledger.seal", "clusters.issue_dp", "clusters.collect", "clusters.settle", "matching.run"} <= set(jobs.REGISTRY)
    assert jobs.REGISTRY["ledger.seal"] is scheduled.seal_job
    jobs.register("clusters.settle", runs.settle_job)  # the same function again: fine
    with pytest.raises(ValueError, match="already registered"):
        jobs.register("clusters.settle", runs.issue_dp_job)


def test_a_job_queued_after_commit_runs_once_the_request_committed_and_never_after_a_rollback(app):
    from flask import Blueprint

    from brokerage import jobs
    from brokerage.db import get_session

    seen = []

    def remember(value):
        # Runs inline (no Redis here): the request's write is already committed when it looks.
        from sqlalchemy import text

        with app.extensions["db_sessionmaker"]() as session:
            seen.append((value, session.execute(text("SELECT count(*) FROM council WHERE slug = :s"), {"s": value}).scalar()))

    jobs.register("test_remember", remember)
    blueprint = Blueprint("after_commit_test", __name__)

    @blueprint.post("/_test/after-commit/<slug>/<int:status>")
    def write_then_queue(slug, status):
        from sqlalchemy import text

        get_session().execute(text(
            "INSERT INTO council (slug, name, area_districts, cluster_min_size, cluster_max_size, notice_weeks, surplus_weeks, "
            "quorum_percent, majority_percent, dissolve_numerator, dissolve_denominator, created_at) "
            "VALUES (:s, :s, '', 3, 8, 4, 8, 50, 50, 2, 3, '2026-11-01 00:00:00')"), {"s": slug})
        jobs.enqueue_after_commit("test_remember", value=slug)
        return "", status

    app.register_blueprint(blueprint)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    assert client.post("/_test/after-commit/kept/200").status_code == 200
    assert client.post("/_test/after-commit/dropped/409").status_code == 409
    assert seen == [("kept", 1)]
    jobs.REGISTRY.pop("test_remember")
