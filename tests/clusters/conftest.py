"""A council with holders who have accounts, for cluster tests."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from tests import factories as f


@dataclass
class People:
    council: object
    holders: list
    users: list
    rep: object
    broker: object
    outsider: object
    outsider_holder: object
    job: object  # the council's system user: what the weekly and daily jobs act as


@pytest.fixture()
def people(session):
    """Return five holders with accounts, a representative for the first two, a broker, and an outsider."""
    council = f.CouncilFactory(session=session)
    f.claim_districts(session, council, "E1 E2")
    other = f.CouncilFactory(session=session)
    languages = [["so", "en"], ["so"], ["so"], ["en"], ["bn"]]
    holders = [
        f.HolderFactory(session=session, council_id=council.id, name=f"Member {i}", weekly_allocation_pence=20_000, languages=languages[i])
        for i in range(5)
    ]
    users = [f.UserFactory(session=session, role=Role.holder, council_id=council.id, holder_id=h.id) for h in holders]
    rep = f.UserFactory(session=session, role=Role.representative, council_id=council.id)
    for holder in holders[:2]:
        f.RepresentationFactory(session=session, council_id=council.id, representative_id=rep.id, holder_id=holder.id)
    broker = f.UserFactory(session=session, role=Role.broker, council_id=council.id)
    outsider_holder = f.HolderFactory(session=session, council_id=other.id)
    outsider = f.UserFactory(session=session, role=Role.holder, council_id=other.id, holder_id=outsider_holder.id)
    session.flush()
    return People(council, holders, users, rep, broker, outsider, outsider_holder, system_actor(session=session, council_id=council.id))
