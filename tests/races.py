"""Helpers for racing real transactions: committed data, threads that start together, and a row that appears mid-request."""

from __future__ import annotations

import threading
import uuid
from contextlib import contextmanager
from typing import Callable

import pytest

from sqlalchemy import delete, event, insert, select, text
from sqlalchemy.orm import Session as OrmSession
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, SQLModel


def committed_factory(engine) -> sessionmaker:
    """Return a session factory whose commits other connections see (outside the test's rolled-back transaction)."""
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


def councils_cleaned_up(engine):
    """Yield a committing session factory, then delete every council the test made (`factory.councils`): a fixture's body."""
    made = committed_factory(engine)
    made.councils = []
    yield made
    for council_id in made.councils:
        purge_council(made, council_id)


@pytest.fixture(name="factory")
def council_factory(engine):
    """Return a committing session factory, and delete every council the test made afterwards (`factory.councils`).

    A race test module imports this (`from tests.races import council_factory`) and asks for `factory`.
    """
    yield from councils_cleaned_up(engine)


def new_council(session):
    """Add a council with a unique slug."""
    from tests import factories as f

    return f.CouncilFactory(session=session, slug=f"race-{uuid.uuid4().hex[:10]}")


def council_with_broker(session, factory):
    """Add a council that `factory` deletes after the test, and a broker of it; return (council, broker)."""
    from brokerage.accounts.models import Role
    from tests import factories as f

    council = new_council(session)
    session.flush()
    factory.councils.append(council.id)
    return council, f.UserFactory(session=session, council_id=council.id, role=Role.broker)


def race(factory: sessionmaker, jobs: list[Callable[[Session], object]]) -> list[object]:
    """Run each job in its own thread, session and transaction, all starting at once; return each result or exception.

    A job returns normally to commit; an exception rolls its transaction back and is returned.
    """
    barrier = threading.Barrier(len(jobs))
    results: list[object] = [None] * len(jobs)

    def run(index: int, job) -> None:
        with factory() as session:
            # Connect before the barrier, so the jobs really start their work together.
            session.connection()
            barrier.wait(timeout=30)
            try:
                results[index] = job(session)
                session.commit()
            except Exception as error:  # the result under test, not a failure of the helper
                session.rollback()
                results[index] = error

    threads = [threading.Thread(target=run, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a racing transaction never finished (deadlock?)"
    return results


def purge_council(factory: sessionmaker, council_id: int) -> None:
    """Delete everything a test committed for one council, its append-only ledger rows included.

    The ledger's triggers refuse DELETE, so they are switched off for this one transaction only:
    PostgreSQL skips them under `session_replication_role = replica`; SQLite drops them and makes
    them again before the commit (its schema changes are transactional).
    """
    from brokerage.accounts.models import Council

    tables = [t for t in reversed(SQLModel.metadata.sorted_tables) if "council_id" in t.c]
    with factory() as session:
        connection = session.connection()
        triggers = []
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET LOCAL session_replication_role = replica"))
        else:
            names = [t.name for t in tables]
            triggers = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({})".format(", ".join(f"'{n}'" for n in names)))
            ).all()
            for name, _ in triggers:
                connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
        for table in tables:
            connection.execute(delete(table).where(table.c.council_id == council_id))
        connection.execute(delete(Council).where(Council.id == council_id))
        for _, sql in triggers:
            connection.exec_driver_sql(sql)
        session.commit()


@contextmanager
def row_appears_after_check(row, where_columns: tuple[str, ...]):
    """Insert a copy of the unsaved model `row` right after the first SELECT on its table that filters on these columns.

    This is another request committing the same row between a service's "does it exist yet?" check
    and its own insert, the window a unique constraint guards. Yields a list that records the insert.
    """
    table = type(row).__table__
    values = {c.name: getattr(row, c.name) for c in table.columns if getattr(row, c.name) is not None}
    inserted: list[dict] = []

    def after_check(state):
        if inserted or not state.is_select:
            return None
        statement = state.statement
        froms = {getattr(t, "name", None) for t in statement.get_final_froms()}
        where = str(statement.whereclause) if statement.whereclause is not None else ""
        if table.name not in froms or not all(f"{table.name}.{column}" in where for column in where_columns):
            return None
        frozen = state.invoke_statement().freeze()
        state.session.connection().execute(insert(table).values(**values))
        inserted.append(values)
        return frozen()

    event.listen(OrmSession, "do_orm_execute", after_check)
    try:
        yield inserted
    finally:
        event.remove(OrmSession, "do_orm_execute", after_check)


def pause_after_select(session, table, where_column: str, seconds: float, *, for_update: bool = False) -> None:
    """Make this session wait `seconds` right after its first SELECT on `table` (or on any of a list of tables) filtering on `where_column`.

    Holds a transaction open just after it has read what a rule depends on, so a racing request
    surely runs in that window: with the row lock it must wait, without it the rule breaks.
    """
    import time

    tables = table if isinstance(table, (list, tuple)) else [table]
    done: list[bool] = []

    def after(state):
        if done or not state.is_select or (for_update and state.statement._for_update_arg is None):
            return None
        froms = {getattr(t, "name", None) for t in state.statement.get_final_froms()}
        where = str(state.statement.whereclause) if state.statement.whereclause is not None else ""
        if not any(t.name in froms and f"{t.name}.{where_column}" in where for t in tables):
            return None
        done.append(True)
        frozen = state.invoke_statement().freeze()
        time.sleep(seconds)
        return frozen()

    event.listen(session, "do_orm_execute", after)


def count_rows(session, model, **where) -> int:
    """Count the rows of a model matching these column values."""
    query = select(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return len(session.execute(query).all())


def contract_change(session, council_id: int, cluster, provider, *, hours: int = 2, deadline=None, to: str = "thu_am"):
    """Add a contract of `hours` a week on Monday mornings with `provider` for `cluster`, and a proposal moving them to `to`.

    The proposal is due in a week unless `deadline` is given. Returns the proposal (its payload names the contract).
    """
    from datetime import date, timedelta

    from brokerage.clusters.models import Proposal
    from brokerage.clusters.rules import ProposalKind
    from brokerage.contracts.models import Contract
    from brokerage.types import utcnow

    contract = Contract(council_id=council_id, provider_id=provider.id, cluster_id=cluster.id, service="home_care", hours_per_week=hours,
                        rate_pence=2_200, start_date=date(2026, 11, 2), member_shares={"1": 1}, slot_hours={"mon_am": hours})
    session.add(contract)
    session.flush()
    proposal = Proposal(council_id=council_id, cluster_id=cluster.id, kind=ProposalKind.change_contract, title="Change the times",
                        deadline=deadline or utcnow() + timedelta(days=7),
                        payload={"contract_id": contract.id, "changes": {"slot_hours": {to: hours}}, "was": {"slot_hours": {"mon_am": hours}}})
    session.add(proposal)
    session.flush()
    return proposal


def a_group_voting_to_close(session, factory, *, share_pence: int = 0):
    """Commit a new council with an active group of two members, their wallets paid this week and each share holding
    `share_pence` (none opened at 0), and a vote to close the group with the first member's yes; return their ids.
    """
    from datetime import timedelta

    from brokerage import clock
    from brokerage.accounts.models import Role
    from brokerage.accounts.system import system_actor
    from brokerage.clusters import governance, runs
    from brokerage.clusters.models import ClusterStatus, MembershipStatus
    from brokerage.clusters.rules import Choice, ProposalKind
    from brokerage.ledger import kinds
    from brokerage.ledger import rules as ledger_rules
    from brokerage.ledger.services import post_entry
    from tests import factories as f

    council, broker = council_with_broker(session, factory)
    holders = [f.HolderFactory(session=session, council_id=council.id, weekly_allocation_pence=20_000) for _ in range(2)]
    users = [f.UserFactory(session=session, council_id=council.id, role=Role.holder, holder_id=h.id) for h in holders]
    provider = f.ProviderFactory(session=session, council_id=council.id)
    cluster = f.ClusterFactory(session=session, council_id=council.id, status=ClusterStatus.active, min_size=2, max_size=6)
    session.flush()
    for holder in holders:
        f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id,
                            status=MembershipStatus.active, weekly_pledge_pence=1_000, start_date=clock.today() - timedelta(days=21))
    job = system_actor(session=session, council_id=council.id)
    runs.issue_dp(session=session, actor=job, council_id=council.id, period=runs.rules.period_of(runs.today()))
    for holder in holders if share_pence else []:
        post_entry(session=session, actor=job, council_id=council.id, kind=kinds.EntryKind.pledge_collected, idempotency_key=f"earlier-{holder.id}",
                   postings=[(ledger_rules.wallet_code(holder.id), -share_pence), (ledger_rules.pool_code(cluster.id, holder.id), share_pence)])
    proposal = governance.propose(session=session, actor=users[0], cluster_id=cluster.id, kind=ProposalKind.dissolve, title="Close")
    governance.cast_vote(session=session, actor=users[0], proposal_id=proposal.id, holder_id=holders[0].id, choice=Choice.yes)
    session.commit()
    return dict(council=council.id, cluster=cluster.id, proposal=proposal.id, users=[u.id for u in users], holders=[h.id for h in holders],
                provider=provider.id, broker=broker.id)
