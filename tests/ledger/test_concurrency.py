"""Many writers in many processes: no overdraft, no duplicates, and retries after faults post once."""

from __future__ import annotations

import multiprocessing
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from brokerage.accounts.system import system_actor
from brokerage.ledger import rules, services
from brokerage.ledger.errors import Overdraft
from brokerage.ledger.models import JournalEntry
from tests.races import purge_council

DRAW = 7
POOL = 10_000
WORKERS = 8


@pytest.fixture()
def make_committed_world(engine):
    """Return a maker of committed worlds (for other processes to see); delete them after the test."""
    made: list[tuple[int, sessionmaker]] = []

    def make(engine):
        """Create a council with one holder in a cluster and a provider, committed for other processes to see."""
        from tests import factories as f

        factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
        with factory() as session:
            council = f.CouncilFactory(session=session, slug=f"race-{uuid.uuid4().hex[:10]}")
            holder = f.HolderFactory(session=session, council_id=council.id)
            cluster = f.ClusterFactory(session=session, council_id=council.id)
            provider = f.ProviderFactory(session=session, council_id=council.id)
            session.commit()
            made.append((council.id, factory))
            return council.id, holder.id, cluster.id, provider.id, factory

    yield make
    for council_id, factory in made:
        purge_council(factory, council_id)


def draw_until_empty(url: str, council_id: int, pool: str, payable: str, worker: int, queue) -> None:
    """Draw 7p at a time from the pool until it runs dry; report the keys that went through."""
    from brokerage.db import make_engine
    from brokerage.wiring import connect_domains

    connect_domains()  # a spawned process starts with the ledger's registries empty, as create_app would fill them
    engine = make_engine(url)
    factory = sessionmaker(bind=engine, class_=Session, expire_on_commit=False)
    with factory() as session:
        actor = system_actor(session=session, council_id=council_id)
    done = []
    attempt = 0
    while True:
        attempt += 1
        key = f"draw-{worker}-{attempt}"
        with factory() as session:
            try:
                services.post_entry(session=session, actor=actor, council_id=council_id, kind="care_cost",
                                    postings=[(pool, -DRAW), (payable, DRAW)], idempotency_key=key)
                session.commit()
                done.append(key)
            except Overdraft:
                break
    engine.dispose()
    queue.put(done)


@pytest.mark.long
@pytest.mark.postgres_only
def test_eight_processes_drawing_7p_from_10000p_succeed_exactly_1428_times(engine, db_url, make_committed_world):
    council_id, holder_id, cluster_id, provider_id, factory = make_committed_world(engine)
    pool, payable = rules.pool_code(cluster_id, holder_id), rules.payable_code(provider_id)
    with factory() as session:
        actor = system_actor(session=session, council_id=council_id)  # committed with the seed, for the workers to find
        services.post_entry(session=session, actor=actor, council_id=council_id, kind="dp_issued",
                            postings=[(rules.funding_code(council_id), -POOL), (rules.wallet_code(holder_id), POOL)], idempotency_key="seed-dp")
        services.post_entry(session=session, actor=actor, council_id=council_id, kind="pledge_collected",
                            postings=[(rules.wallet_code(holder_id), -POOL), (pool, POOL)], idempotency_key="seed-pledge")
        session.commit()

    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    processes = [context.Process(target=draw_until_empty, args=(db_url, council_id, pool, payable, i, queue)) for i in range(WORKERS)]
    for process in processes:
        process.start()
    results = [queue.get(timeout=240) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    keys = [key for result in results for key in result]
    assert len(keys) == POOL // DRAW == 1428
    assert len(set(keys)) == len(keys)
    with factory() as session:
        actor = system_actor(session=session, council_id=council_id)
        assert services.balance(session=session, actor=actor, council_id=council_id, code=pool) == POOL % DRAW == 4
        assert services.balance(session=session, actor=actor, council_id=council_id, code=payable) == 1428 * DRAW
        draws = session.execute(select(func.count()).select_from(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.kind == "care_cost")).scalar_one()
        assert draws == 1428
        from brokerage.ledger.integrity import verify

        assert verify(session=session, actor=actor, council_id=council_id).ok
        assert {row for row in session.execute(select(JournalEntry.actor_id).where(JournalEntry.council_id == council_id)).scalars()} == {actor.id}


def kill_connection(session: Session, engine) -> None:
    """Break the session's database connection the way a network failure would."""
    connection = session.connection()
    if engine.dialect.name == "postgresql":
        pid = connection.execute(text("SELECT pg_backend_pid()")).scalar()
        with engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
            other.commit()
    else:
        connection.connection.dbapi_connection.close()


def count_entries(factory, council_id: int, key: str) -> int:
    with factory() as session:
        return session.execute(
            select(func.count()).select_from(JournalEntry).where(JournalEntry.council_id == council_id, JournalEntry.idempotency_key == key)
        ).scalar_one()


def test_a_connection_lost_before_commit_then_a_retry_posts_exactly_once(engine, make_committed_world):
    council_id, holder_id, _, _, factory = make_committed_world(engine)
    legs = [(rules.funding_code(council_id), -500), (rules.wallet_code(holder_id), 500)]
    with factory() as setup:
        actor = system_actor(session=setup, council_id=council_id)
        setup.commit()
    session = factory()
    services.post_entry(session=session, actor=actor, council_id=council_id, kind="dp_issued", postings=legs, idempotency_key="dp-fault-1")
    kill_connection(session, engine)
    with pytest.raises(Exception):
        session.commit()
    session.invalidate()
    engine.dispose()  # drop the broken connection from the pool
    assert count_entries(factory, council_id, "dp-fault-1") == 0
    with factory() as retry:
        services.post_entry(session=retry, actor=actor, council_id=council_id, kind="dp_issued", postings=legs, idempotency_key="dp-fault-1")
        retry.commit()
    assert count_entries(factory, council_id, "dp-fault-1") == 1


def test_a_connection_lost_after_commit_then_a_retry_returns_the_first_entry(engine, make_committed_world):
    council_id, holder_id, _, _, factory = make_committed_world(engine)
    legs = [(rules.funding_code(council_id), -500), (rules.wallet_code(holder_id), 500)]
    with factory() as setup:
        actor = system_actor(session=setup, council_id=council_id)
        setup.commit()
    session = factory()
    first = services.post_entry(session=session, actor=actor, council_id=council_id, kind="dp_issued", postings=legs, idempotency_key="dp-fault-2")
    first_id = first.id
    session.commit()
    # The commit reached the database but the caller never heard back.
    kill_connection(session, engine)
    session.invalidate()
    engine.dispose()
    with factory() as retry:
        again = services.post_entry(session=retry, actor=actor, council_id=council_id, kind="dp_issued", postings=legs, idempotency_key="dp-fault-2")
        retry.commit()
        assert again.id == first_id
        assert services.balance(session=retry, actor=actor, council_id=council_id, code=rules.wallet_code(holder_id)) == 500
    assert count_entries(factory, council_id, "dp-fault-2") == 1


@pytest.mark.postgres_only
def test_two_writers_racing_for_one_key_with_different_entries_give_one_entry_and_one_conflict(engine, make_committed_world):
    """The second writer's claim waits on the first's uncommitted key, finds it taken, and is refused by name."""
    import threading

    from brokerage.ledger.errors import IdempotencyConflict
    from tests import factories as f

    council_id, holder_id, _, _, factory = make_committed_world(engine)
    with factory() as setup:
        other = f.HolderFactory(session=setup, council_id=council_id)
        actor = system_actor(session=setup, council_id=council_id)
        setup.commit()
    first = factory()
    services.post_entry(session=first, actor=actor, council_id=council_id, kind="dp_issued", idempotency_key="raced",
                        postings=[(rules.funding_code(council_id), -300), (rules.wallet_code(holder_id), 300)])
    outcome: dict = {}

    def second_writer():
        with factory() as session:
            try:  # another holder's wallet: nothing locked in common, so only the key is contended
                services.post_entry(session=session, actor=actor, council_id=council_id, kind="dp_issued", idempotency_key="raced",
                                    postings=[(rules.funding_code(council_id), -400), (rules.wallet_code(other.id), 400)])
                session.commit()
                outcome["posted"] = True
            except Exception as error:  # the outcome under test
                session.rollback()
                outcome["error"] = error

    thread = threading.Thread(target=second_writer)
    thread.start()
    thread.join(timeout=1.0)
    assert thread.is_alive(), "the second writer should wait for the first writer's key"
    first.commit()
    first.close()
    thread.join(timeout=30)
    assert isinstance(outcome.get("error"), IdempotencyConflict), outcome
    assert count_entries(factory, council_id, "raced") == 1
