"""The demo loads realistic data once, and every demo login works."""

from __future__ import annotations

from sqlmodel import func, select

from brokerage.accounts.models import Council, User
from brokerage.clusters.models import Cluster, ClusterKind, ClusterStatus, Membership, MembershipStatus
from brokerage.demo.services import load_demo
from brokerage.holders.models import Holder
from brokerage.providers.models import Provider, ProviderKind
from brokerage.types import PERSON_ROLES

PASSWORD = "demo password for tests"


def test_the_demo_has_every_role_kind_and_stage(session):
    logins = load_demo(session=session, password=PASSWORD)
    session.commit()
    assert {login.role for login in logins} == {r.label for r in PERSON_ROLES}  # the system actor is nobody's login
    council = session.exec(select(Council).where(Council.slug == "riverside")).one()
    holders = session.exec(select(Holder).where(Holder.council_id == council.id)).all()
    assert len(holders) >= 30
    assert len({h.languages[0] for h in holders}) >= 5
    assert len({h.weekly_allocation_pence for h in holders}) > 10
    clusters = session.exec(select(Cluster).where(Cluster.council_id == council.id)).all()
    assert {k for c in clusters for k in c.kinds} == {k.value for k in ClusterKind}
    assert {c.status for c in clusters} == set(ClusterStatus)
    kinds = {p.kind for p in session.exec(select(Provider).where(Provider.council_id == council.id))}
    assert kinds == set(ProviderKind)
    on_notice = session.exec(select(func.count()).select_from(Membership).where(Membership.status == MembershipStatus.leaving)).one()
    assert on_notice >= 1


def test_no_holder_pledges_more_than_their_allocation_in_the_demo(session):
    load_demo(session=session, password=PASSWORD)
    for holder in session.exec(select(Holder)):
        pledged = sum(
            m.weekly_pledge_pence
            for m in session.exec(select(Membership).where(Membership.holder_id == holder.id))
            if m.status in (MembershipStatus.admitted, MembershipStatus.active, MembershipStatus.leaving)
        )
        assert pledged <= holder.weekly_allocation_pence, holder.name


def test_the_demo_ledger_balances_and_verifies(session):
    from brokerage.accounts.system import system_actor
    from brokerage.ledger.integrity import verify
    from brokerage.ledger.services import trial_balance

    load_demo(session=session, password=PASSWORD)
    council = session.exec(select(Council).where(Council.slug == "riverside")).one()
    actor = system_actor(session=session, council_id=council.id)
    report = verify(session=session, actor=actor, council_id=council.id)
    assert report.ok, [str(p) for p in report.problems]
    assert report.entries > 100 and report.unsealed == 0
    accounts, total = trial_balance(session=session, actor=actor, council_id=council.id)
    assert total == 0 and any(a.code.startswith("pool:") and a.balance_pence > 0 for a in accounts)


def test_loading_the_demo_twice_adds_nothing(session):
    load_demo(session=session, password=PASSWORD)
    users = session.exec(select(func.count()).select_from(User)).one()
    load_demo(session=session, password=PASSWORD)
    assert session.exec(select(func.count()).select_from(User)).one() == users


def test_every_demo_login_reaches_its_dashboard(client, session):
    logins = load_demo(session=session, password=PASSWORD)
    session.commit()
    for login in logins:
        response = client.post("/sign-in", data={"email": login.email, "password": PASSWORD})
        assert response.status_code == 302, login.email
        assert client.get("/dashboard").status_code == 200, login.email
        client.post("/sign-out")


def test_the_demo_command_prints_the_logins(runner, app):
    app.config["ENV_MODE"] = "development"
    result = runner.invoke(args=["demo", "--password", PASSWORD])
    assert result.exit_code == 0, result.output
    assert "broker@riverside.example" in result.output and PASSWORD in result.output


def test_the_demo_command_refuses_production(runner, app):
    app.config["ENV_MODE"] = "production"
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 2
