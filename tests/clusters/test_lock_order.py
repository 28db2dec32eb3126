"""Deciding two 'change pledges' proposals at once must not deadlock (holders are locked in id order)."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from brokerage.accounts.models import Role, User
from brokerage.clusters import governance
from brokerage.clusters.models import Membership
from brokerage.clusters.rules import Choice, ProposalKind
from brokerage.holders.models import Holder
from tests import factories as f
from tests.races import committed_factory, new_council, pause_after_select, purge_council, race

pytestmark = pytest.mark.postgres_only


def test_two_change_pledge_decisions_sharing_two_holders_do_not_deadlock(engine):
    factory = committed_factory(engine)
    with factory() as session:
        council = new_council(session)
        council_id = council.id
        h1, h2, va, vb = [f.HolderFactory(session=session, council_id=council.id, weekly_allocation_pence=20_000) for _ in range(4)]
        u1, u2, uva, uvb = [f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=h.id) for h in (h1, h2, va, vb)]
        a = f.ClusterFactory(session=session, council_id=council.id, max_size=6)
        b = f.ClusterFactory(session=session, council_id=council.id, max_size=6)
        # Cluster A: H2's membership row first; cluster B: H1's first. The payload is keyed by the ids as text, so
        # the six ids are given one number of digits (past every id the database has made): as text they then sort
        # as numbers, whichever ids earlier tests used (9 and 10 would not).
        base = 10 ** (len(str(session.exec(select(func.max(Membership.id))).one() or 0)) + 1)
        new_ids = iter(range(base + 1, base + 7))
        a2 = f.MembershipFactory(session=session, id=next(new_ids), council_id=council.id, cluster_id=a.id, holder_id=h2.id, weekly_pledge_pence=1_000)
        a1 = f.MembershipFactory(session=session, id=next(new_ids), council_id=council.id, cluster_id=a.id, holder_id=h1.id, weekly_pledge_pence=1_000)
        f.MembershipFactory(session=session, id=next(new_ids), council_id=council.id, cluster_id=a.id, holder_id=va.id, weekly_pledge_pence=1_000)
        b1 = f.MembershipFactory(session=session, id=next(new_ids), council_id=council.id, cluster_id=b.id, holder_id=h1.id, weekly_pledge_pence=1_000)
        b2 = f.MembershipFactory(session=session, id=next(new_ids), council_id=council.id, cluster_id=b.id, holder_id=h2.id, weekly_pledge_pence=1_000)
        f.MembershipFactory(session=session, id=next(new_ids), council_id=council.id, cluster_id=b.id, holder_id=vb.id, weekly_pledge_pence=1_000)
        assert sorted([str(a1.id), str(a2.id)])[0] == str(a2.id) and sorted([str(b1.id), str(b2.id)])[0] == str(b1.id)
        pa = governance.propose(session=session, actor=u1, cluster_id=a.id, kind=ProposalKind.change_pledges, title="A",
                              payload={"pledges": {str(a1.id): 2_000, str(a2.id): 2_000}})
        pb = governance.propose(session=session, actor=u1, cluster_id=b.id, kind=ProposalKind.change_pledges, title="B",
                              payload={"pledges": {str(b1.id): 2_000, str(b2.id): 2_000}})
        governance.cast_vote(session=session, actor=u2, proposal_id=pa.id, holder_id=h2.id, choice=Choice.yes)
        governance.cast_vote(session=session, actor=u2, proposal_id=pb.id, holder_id=h2.id, choice=Choice.yes)
        session.commit()
        ids = dict(pa=pa.id, pb=pb.id, uva=uva.id, uvb=uvb.id, va=va.id, vb=vb.id)

    def decide(proposal, user, holder):
        def job(s):
            pause_after_select(s, Holder.__table__, "id", 0.5, for_update=True)  # just after the first holder lock
            return governance.cast_vote(session=s, actor=s.get(User, ids[user]), proposal_id=ids[proposal], holder_id=ids[holder], choice=Choice.yes).status
        return job

    try:
        results = race(factory, [decide("pa", "uva", "va"), decide("pb", "uvb", "vb")])
        assert all(not isinstance(r, Exception) for r in results), results
    finally:
        purge_council(factory, council_id)
