"""A month-by-month spend report read while money moves still adds up (PostgreSQL, a posting committed mid-report).

The report of recent months reads what moved in each month and what the pool shares hold now, and works
back from the second to what they held at the end of each month. Read in two statements, a pledge committed
between them was in what the shares hold but in no month: the report said the shares held £25 before any
money had moved, and each month's closing balance was £25 above its opening plus what moved.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session as OrmSession

from brokerage import clock
from brokerage.accounts.models import Role, User
from brokerage.accounts.system import system_actor
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.services import post_entry
from brokerage.spending import services
from brokerage.spending.rules import add_months
from tests import factories as f
from tests.races import council_factory  # noqa: F401  (the `factory` fixture)

pytestmark = pytest.mark.postgres_only


def _pledge(session, council_id: int, holder_id: int, cluster_id: int, pence: int, key: str) -> None:
    job = system_actor(session=session, council_id=council_id)
    post_entry(session=session, actor=job, council_id=council_id, kind="dp_issued", idempotency_key=f"dp:{key}",
               postings=[(ledger_rules.funding_code(council_id), -pence), (ledger_rules.wallet_code(holder_id), pence)])
    post_entry(session=session, actor=job, council_id=council_id, kind="pledge_collected", idempotency_key=f"pledge:{key}",
               postings=[(ledger_rules.wallet_code(holder_id), -pence), (ledger_rules.pool_code(cluster_id, holder_id), pence)])


def test_a_month_report_read_while_a_pledge_lands_adds_up(factory):
    with factory() as session:
        council = f.CouncilFactory(session=session)
        session.flush()
        factory.councils.append(council.id)
        officer = f.UserFactory(session=session, council_id=council.id, role=Role.council_officer)
        holder = f.HolderFactory(session=session, council_id=council.id)
        cluster = f.ClusterFactory(session=session, council_id=council.id)
        session.flush()
        _pledge(session, council.id, holder.id, cluster.id, 10_000, "first")
        session.commit()
        ids = dict(council=council.id, officer=officer.id, holder=holder.id, cluster=cluster.id)

    landed = []

    def a_pledge_lands_after_the_months_are_read(state):
        # Right after the report's first read of the months' figures, another request commits a £25 pledge.
        if landed or not state.is_select or "ledger_pool_month.month >=" not in str(state.statement):
            return None
        frozen = state.invoke_statement().freeze()
        with factory() as other:
            _pledge(other, ids["council"], ids["holder"], ids["cluster"], 2_500, "meanwhile")
            other.commit()
        landed.append(True)
        return frozen()

    this_month = clock.today().replace(day=1)
    event.listen(OrmSession, "do_orm_execute", a_pledge_lands_after_the_months_are_read)
    try:
        with factory() as session:
            report = services.spend_by(session=session, actor=session.get(User, ids["officer"]), dimension="month",
                                       start=add_months(this_month, -2), end=this_month)
    finally:
        event.remove(OrmSession, "do_orm_execute", a_pledge_lands_after_the_months_are_read)
    assert landed
    # Nothing had moved before the period, and each month closes at what it opened with plus what moved in it.
    assert report.opening_pence == 0, (report.opening_pence, report.unspent_pence, report.totals.net_pence)
    opening = 0
    for row in report.rows:
        assert row.unspent_pence == opening + row.figures.net_pence, (row.name, row.unspent_pence, opening, row.figures.net_pence)
        opening = row.unspent_pence
    assert report.unspent_pence in (10_000, 12_500)
