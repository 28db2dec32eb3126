"""Payment runs under real concurrency on PostgreSQL: released once, one open run per council, and paid once by two jobs."""

from __future__ import annotations

import threading

import pytest
from sqlmodel import select

from brokerage.accounts.models import User
from brokerage.errors import AlreadyDone, BrokerageError
from brokerage.payments import runs, transfers
from brokerage.payments.run_models import PaymentLine, PaymentRun
from brokerage.payments.run_rules import LineStatus, RunStatus
from tests.payments.runs_support import fast_retries, make_world, payout_entries  # noqa: F401
from tests.races import council_factory, race  # noqa: F401  (council_factory is the `factory` fixture)

pytestmark = pytest.mark.postgres_only

TRIALS = 4


def _world(factory):
    with factory() as session:
        world = make_world(session)
        session.commit()
        factory.councils += [world.council.id, world.other_council.id]
        return world


def _as(session, user_id: int) -> User:
    return session.get(User, user_id)


def test_two_officers_releasing_at_once_release_it_once(factory):
    for _ in range(TRIALS):
        world = _world(factory)
        with factory() as session:
            run_id = runs.prepare_run(session=session, actor=_as(session, world.broker.id)).id
            session.commit()

        results = race(factory, [
            lambda s, who=who: runs.release_run(session=s, actor=_as(s, who), run_id=run_id).released_by_id
            for who in (world.officer.id, world.other_officer.id)
        ])

        released = [r for r in results if isinstance(r, int)]
        refused = [r for r in results if isinstance(r, BrokerageError)]
        assert len(released) == 1 and len(refused) == 1, results
        assert "not waiting for release" in refused[0].message
        with factory() as session:
            run = session.get(PaymentRun, run_id)
            assert (run.status, run.released_by_id) == (RunStatus.released, released[0])


def test_two_people_preparing_at_once_make_one_open_run(factory):
    for _ in range(TRIALS):
        world = _world(factory)
        results = race(factory, [
            lambda s, who=who: runs.prepare_run(session=s, actor=_as(s, who)).id
            for who in (world.broker.id, world.officer.id)
        ])
        made = [r for r in results if isinstance(r, int)]
        refused = [r for r in results if isinstance(r, (runs.RunStillOpen, AlreadyDone))]
        assert len(made) == 1 and len(refused) == 1, results
        with factory() as session:
            assert len(session.exec(select(PaymentRun).where(PaymentRun.council_id == world.council.id)).all()) == 1


@pytest.fixture()
def paying(factory, db_url, stripe_server, stripe_sdk, fast_retries):
    """A committed council whose released run waits to be paid, and an app on the real database and the local Stripe server."""
    from brokerage import create_app
    from tests.conftest import TEST_CONFIG
    from tests.stripe_support import stripe_config

    with factory() as session:
        world = make_world(session, stripe_sdk, stripe_server)
        session.commit()
        factory.councils += [world.council.id, world.other_council.id]
        run_id = runs.prepare_run(session=session, actor=_as(session, world.broker.id)).id
        runs.release_run(session=session, actor=_as(session, world.officer.id), run_id=run_id)
        session.commit()
    app = create_app({**TEST_CONFIG, "DATABASE_URL": db_url, **stripe_config(stripe_server.url)})
    yield app, world, run_id
    app.extensions["db_engine"].dispose()


def test_two_jobs_paying_one_run_at_once_pay_each_provider_once(paying, factory, stripe_sdk, monkeypatch):
    app, world, run_id = paying
    original = transfers.send_transfer
    one_finished = threading.Event()

    def send_after_the_other_job(client, sending):
        # Whichever job sends first waits until the other job has returned, so the two truly overlap.
        one_finished.wait(timeout=30)
        return original(client, sending)

    monkeypatch.setattr(transfers, "send_transfer", send_after_the_other_job)
    barrier = threading.Barrier(2)
    results: list = [None, None]

    def job(index: int) -> None:
        with app.app_context():
            barrier.wait(timeout=30)
            try:
                results[index] = transfers.execute_run(council_id=world.council.id, run_id=run_id)
            except Exception as error:  # the outcome under test
                results[index] = error
            finally:
                one_finished.set()

    threads = [threading.Thread(target=job, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
        assert not thread.is_alive()

    assert all(isinstance(r, transfers.RunResult) for r in results), results
    busy = [r for r in results if r.busy]
    paid = [r for r in results if not r.busy]
    assert len(busy) == 1 and len(paid) == 1, [r.as_dict() for r in results]
    assert busy[0].sent == [] and len(paid[0].sent) == 3
    made = [t for t in stripe_sdk.v1.transfers.list(params={"transfer_group": f"payrun-{run_id}", "limit": 100}).auto_paging_iter()]
    assert sorted(t.metadata["provider"] for t in made) == sorted(str(p.id) for p in world.providers)
    with factory() as session:
        lines = session.exec(select(PaymentLine).where(PaymentLine.run_id == run_id)).all()
        assert {line.status for line in lines} == {LineStatus.sent}
        assert len(payout_entries(session, world.council.id)) == 3
        run = session.get(PaymentRun, run_id)
        assert (run.status, run.claim_token) == (RunStatus.paid, None)
