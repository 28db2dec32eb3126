"""Payment runs under real concurrency on PostgreSQL: released once, and one open run per council."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import User
from brokerage.errors import AlreadyDone, BrokerageError
from brokerage.payments import runs
from brokerage.payments.run_models import PaymentRun
from brokerage.payments.run_rules import RunStatus
from tests.payments.runs_support import make_world
from tests.races import committed_factory, purge_council, race

pytestmark = pytest.mark.postgres_only

TRIALS = 4


@pytest.fixture()
def factory(engine):
    """Return a committing session factory, and delete every council the test made afterwards."""
    made = committed_factory(engine)
    made.councils = []
    yield made
    for council_id in made.councils:
        purge_council(made, council_id)


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
