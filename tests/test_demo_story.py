"""What the demo holds, read from one demo loaded per test process (tests/demo_support.py), each test in a rolled-back transaction.

The tests that load the demo themselves (twice, under a frozen clock, with Stripe's records kept, or
against this week's date) are in tests/test_demo.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import func, select

from brokerage.accounts.models import Council, User
from brokerage.clusters.models import Cluster, ClusterKind, ClusterStatus, Membership, MembershipStatus, Proposal, Vote
from brokerage.clusters.rules import ProposalKind, ProposalStatus
from brokerage.demo.data import HISTORY_WEEKS
from brokerage.holders.models import Holder
from brokerage.providers.models import Provider, ProviderKind
from brokerage.types import PERSON_ROLES
from tests.test_demo import _care_spend, _months, _previous_quarter, _riverside


@pytest.fixture()
def app(demo_app):
    """Every test here reads the demo loaded once per process."""
    return demo_app


def test_the_demo_has_every_role_kind_and_stage(demo_database, session):
    logins = demo_database.logins
    assert {login.role for login in logins} == {r.label for r in PERSON_ROLES}  # the system actor is nobody's login
    council = session.exec(select(Council).where(Council.slug == "riverside")).one()
    holders = session.exec(select(Holder).where(Holder.council_id == council.id)).all()
    assert len(holders) >= 30
    assert len({h.languages[0] for h in holders}) >= 5
    assert len({h.weekly_allocation_pence for h in holders}) > 10
    clusters = session.exec(select(Cluster).where(Cluster.council_id == council.id)).all()
    assert {k for c in clusters for k in c.kinds} == {k.value for k in ClusterKind}
    # Every status a group rests in. "Closing" lasts only inside the transaction in which a dissolve vote
    # passes (the pool shares are refunded and the group closed at once), so the demo's closing group is
    # an active one whose members are voting to close it.
    assert {c.status for c in clusters} == set(ClusterStatus) - {ClusterStatus.closing}
    closing = session.exec(select(Proposal).where(Proposal.kind == ProposalKind.dissolve, Proposal.status == ProposalStatus.open)).all()
    assert [session.get(Cluster, p.cluster_id).name for p in closing] == ["Stratford Turkish families"]
    assert session.get(Cluster, closing[0].cluster_id).status == ClusterStatus.active
    kinds = {p.kind for p in session.exec(select(Provider).where(Provider.council_id == council.id))}
    assert kinds == set(ProviderKind)
    on_notice = session.exec(select(func.count()).select_from(Membership).where(Membership.status == MembershipStatus.leaving)).one()
    assert on_notice >= 1


def test_no_holder_pledges_more_than_their_allocation_in_the_demo(session):
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

    council = session.exec(select(Council).where(Council.slug == "riverside")).one()
    actor = system_actor(session=session, council_id=council.id)
    report = verify(session=session, actor=actor, council_id=council.id)
    assert report.ok, [str(p) for p in report.problems]
    assert report.entries > 100 and report.unsealed == 0
    accounts, total = trial_balance(session=session, actor=actor, council_id=council.id)
    assert total == 0 and any(a.code.startswith("pool:") and a.balance_pence > 0 for a in accounts)


def test_every_demo_login_reaches_its_dashboard(demo_database, client, session):
    logins = demo_database.logins
    for login in logins:
        response = client.post("/sign-in", data={"email": login.email, "password": demo_database.password})
        assert response.status_code == 302, login.email
        assert client.get("/dashboard").status_code == 200, login.email
        client.post("/sign-out")


def test_the_demo_posts_only_what_the_product_posts(session):
    from brokerage.accounts.system import system_actor
    from brokerage.ledger.models import JournalEntry
    from brokerage.payments.run_models import PaymentLine, PaymentRun
    from brokerage.payments.run_rules import RunStatus
    from brokerage.timesheets.models import Timesheet
    from brokerage.timesheets.rules import TimesheetStatus

    council = _riverside(session)
    job = system_actor(session=session, council_id=council.id)
    entries = session.exec(select(JournalEntry).where(JournalEntry.council_id == council.id)).all()
    by_kind = {}
    for entry in entries:
        by_kind.setdefault(entry.kind, []).append(entry)
    # 27 weeks of the weekly runs, the refunds of the group that voted to close, every approved week of
    # care, and the payment runs released: each payout sent, and confirmed by Stripe's event.
    assert set(by_kind) == {"dp_issued", "pledge_collected", "member_refund", "care_cost", "payout_sent", "payout_paid"}
    approved = session.exec(select(Timesheet).where(Timesheet.council_id == council.id, Timesheet.status == TimesheetStatus.approved)).all()
    assert sorted(e.id for e in by_kind["care_cost"]) == sorted(s.care_entry_id for s in approved)
    paid_lines = session.exec(select(PaymentLine).join(PaymentRun, PaymentRun.id == PaymentLine.run_id).where(
        PaymentLine.council_id == council.id, PaymentRun.status == RunStatus.paid)).all()
    assert len(by_kind["payout_sent"]) == len(by_kind["payout_paid"]) == len(paid_lines) > 10
    assert all(e.idempotency_key.startswith("stripe:evt_") for e in by_kind["payout_paid"])
    holders = session.exec(select(func.count()).select_from(Holder).where(Holder.council_id == council.id)).one()
    # 27 ISO weeks before this one, and this one once its Monday-morning run time has passed.
    from brokerage import clock
    from brokerage.demo import money

    today = clock.london(clock.now()).date()
    weeks = HISTORY_WEEKS + money.week_run_by_now(today - timedelta(days=today.weekday()))
    assert len(by_kind["dp_issued"]) == weeks * holders
    assert len({e.idempotency_key.rsplit(":", 1)[1] for e in by_kind["dp_issued"]}) == weeks
    # The runs post as the council's system user, as the jobs do; so do the refunds of the group the members voted to close.
    assert {e.actor_id for e in by_kind["dp_issued"] + by_kind["pledge_collected"] + by_kind["member_refund"]} == {job.id}


def test_every_member_was_voted_in_and_the_closed_group_voted_to_close(session):
    council = _riverside(session)
    proposals = session.exec(select(Proposal).where(Proposal.council_id == council.id)).all()
    admitted = {p.payload["membership_id"] for p in proposals if p.kind == ProposalKind.admit_member and p.status == ProposalStatus.passed}
    memberships = session.exec(select(Membership).where(Membership.council_id == council.id).order_by(Membership.id)).all()
    founders = {}
    for membership in memberships:
        founders.setdefault(membership.cluster_id, membership.id)
    joined = [m for m in memberships if m.id not in founders.values() and m.status != MembershipStatus.requested]
    assert joined and {m.id for m in joined} <= admitted
    closed = session.exec(select(Cluster).where(Cluster.council_id == council.id, Cluster.status == ClusterStatus.closed)).one()
    (decision,) = [p for p in proposals if p.cluster_id == closed.id and p.kind == ProposalKind.dissolve]
    assert decision.status == ProposalStatus.passed and "went back to members' wallets" in decision.outcome


def test_every_contract_is_a_match_a_group_voted_through_and_the_latest_run_waits_for_the_broker(session):
    from brokerage.contracts.models import Contract
    from brokerage.matching.models import MatchAssignment, MatchRun

    council = _riverside(session)
    contracts = session.exec(select(Contract).where(Contract.council_id == council.id).order_by(Contract.id)).all()
    for contract in contracts:
        decision = session.get(Proposal, contract.proposal_id)
        assert decision.kind == ProposalKind.accept_match and decision.status == ProposalStatus.passed
    made = [(session.get(Cluster, c.cluster_id).name, session.get(Provider, c.provider_id).name) for c in contracts]
    assert made == [
        ("Somali elders of Whitechapel", "Hooyo Care Co-operative"), ("Bow carers' respite group", "Bow Friends Day Club"),
        ("Bengali women's care circle", "Sylhet Sisters Homecare CIC"), ("Bengali women's care circle", "Nasima Khatun (PA)"),
    ]
    latest = session.exec(select(MatchRun).where(MatchRun.council_id == council.id).order_by(MatchRun.id.desc())).first()
    assert latest.covered_hours == 44 and latest.demanded_hours == 48
    assert {a.status for a in session.exec(select(MatchAssignment).where(MatchAssignment.run_id == latest.id))} == {"proposed"}


def test_the_representative_voted_and_the_shared_details_have_the_holders_consent(session):
    from brokerage.holders.models import SensitiveDetail

    rep = session.exec(select(User).where(User.email == "rep@riverside.example")).one()
    votes = session.exec(select(Vote).where(Vote.cast_by_id == rep.id)).all()
    assert [session.get(Holder, v.holder_id).name for v in votes] == ["Hodan Warsame"]
    details = session.exec(select(SensitiveDetail)).all()
    assert len(details) == 4
    for detail in details:
        assert session.get(User, detail.consent_recorded_by_id).holder_id == detail.holder_id


def test_the_pages_that_showed_care_costs_and_payouts_still_open(client, session, demo_database):
    from brokerage.ledger.models import JournalEntry

    council = _riverside(session)
    holder = {h.name: h.id for h in session.exec(select(Holder).where(Holder.council_id == council.id))}
    provider = {p.name: p.id for p in session.exec(select(Provider).where(Provider.council_id == council.id))}
    group = {c.name: c.id for c in session.exec(select(Cluster).where(Cluster.council_id == council.id))}
    entry = session.exec(select(JournalEntry.id).where(JournalEntry.council_id == council.id).order_by(JournalEntry.id)).first()
    proposal = session.exec(select(Proposal.id).where(Proposal.council_id == council.id).order_by(Proposal.id)).first()
    bengali = group["Bengali women's care circle"]
    # Pages that show the demo's money, groups and matching (the browser tests walk the same ones on a fresh database).
    pages = {
        "broker@riverside.example": [
            "/ledger/", f"/ledger/entries/{entry}", f"/ledger/holders/{holder['Amina Hassan']}", f"/providers/{provider['Sylhet Sisters Homecare CIC']}",
            f"/providers/{provider['Docklands Reablement Ltd']}", f"/clusters/{bengali}",
            f"/clusters/{group['Stratford Turkish families']}", f"/clusters/{group['Bethnal Green lunch club']}", "/matching/", "/matching/gaps",
        ],
        "officer@riverside.example": ["/ledger/", "/holders/", f"/providers/{provider['Nasima Khatun (PA)']}", f"/clusters/{group['Somali elders of Whitechapel']}"],
        "holder@riverside.example": [f"/ledger/holders/{holder['Amina Hassan']}", f"/clusters/{group['Somali elders of Whitechapel']}", f"/clusters/proposals/{proposal}"],
        "rep@riverside.example": [f"/clusters/proposals/{proposal}", f"/ledger/holders/{holder['Hodan Warsame']}"],
        "provider@riverside.example": [f"/providers/{provider['Nasima Khatun (PA)']}", "/timesheets/", "/payments/mine"],
    }
    for email, paths in pages.items():
        client.post("/sign-in", data={"email": email, "password": demo_database.password})
        for path in paths:
            assert client.get(path).status_code == 200, f"{email} {path}"
        client.post("/sign-out")


def test_bean_check_accepts_the_demo_ledger_with_its_care_and_payouts(session, tmp_path):
    from brokerage.ledger import services
    from tests.ledger.test_export import assert_clean, bean_check, beancount_balances, our_balances, write_beancount

    council = _riverside(session)
    path = tmp_path / "demo.beancount"
    text = write_beancount(session, path, council_id=council.id)
    assert ":Paid:P" in text and ":Payable:P" in text and "Clearing" in text
    assert_clean(bean_check(path))
    assert beancount_balances(path) == our_balances(session, [council.id])
    assert council.id in services.council_ids_with_entries(session=session)


def test_an_officer_finds_care_spend_with_a_coop_in_every_month_of_last_quarter(session):
    from brokerage import clock

    council = _riverside(session)
    start, end = _previous_quarter(clock.london(clock.now()).date())
    spend = _care_spend(session, council.id)
    quarter = _months(start, end)
    assert len(quarter) == 3 and all(spend.get((month, ProviderKind.coop), 0) > 0 for month in quarter)
    # Spend with other kinds of provider too, so a co-op's share is a share, not the whole; the spend runs for months.
    assert sum(spend.get((month, ProviderKind.charity), 0) for month in quarter) > 0
    assert {kind for _, kind in spend} == {ProviderKind.coop, ProviderKind.charity, ProviderKind.cic, ProviderKind.pa}
    assert len({month for month, _ in spend}) >= 6
    other = session.exec(select(Council).where(Council.slug == "northfield")).one()
    assert _care_spend(session, other.id) == {}


def test_a_group_that_asked_for_no_care_holds_pledges_unspent_for_more_than_8_weeks(session):
    from brokerage import clock
    from brokerage.ledger.models import JournalEntry, LedgerAccount, PoolMonth, Posting
    from brokerage.ledger.rules import AccountType

    council = _riverside(session)
    group = session.exec(select(Cluster).where(Cluster.council_id == council.id, Cluster.name == "Urdu speakers' home help")).one()
    today = clock.london(clock.now()).date()
    assert group.status == ClusterStatus.active and clock.london(group.created_at).date() < today - timedelta(weeks=8)
    assert session.exec(select(PoolMonth).where(PoolMonth.cluster_id == group.id, PoolMonth.kind != "pledge_collected")).all() == []
    shares = session.exec(select(LedgerAccount).where(LedgerAccount.cluster_id == group.id, LedgerAccount.account_type == AccountType.pool)).all()
    assert len(shares) == 4
    for share in shares:
        # Spending takes the oldest money first, so what is left beyond the last 8 weeks' pledges came in more than 8 weeks ago.
        came_in = session.exec(
            select(JournalEntry.created_at, Posting.amount_pence).join(JournalEntry, JournalEntry.id == Posting.entry_id)
            .where(Posting.account_id == share.id, Posting.amount_pence > 0)
        ).all()
        recent = sum(amount for moment, amount in came_in if clock.london(moment).date() >= today - timedelta(weeks=8))
        assert recent > 0 and share.balance_pence - recent > 0, share.code


def test_the_demo_review_flags_the_unspent_shares_and_the_officer_dashboard_says_so(client, session, demo_database):
    from brokerage.surplus.models import SurplusFlag
    from brokerage.surplus.rules import FlagStatus

    council = _riverside(session)
    group = session.exec(select(Cluster).where(Cluster.council_id == council.id, Cluster.name == "Urdu speakers' home help")).one()
    flags = session.exec(select(SurplusFlag).where(SurplusFlag.council_id == council.id, SurplusFlag.status == FlagStatus.open)).all()
    assert {flag.cluster_id for flag in flags} >= {group.id} and all(flag.amount_pence > 0 for flag in flags)
    client.post("/sign-in", data={"email": "officer@riverside.example", "password": demo_database.password})
    page = client.get("/dashboard").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", page.replace("&#39;", "'"))
    assert "could be taken back under the council" in text, text[text.find("Unspent for longer"):][:400]
    assert "Last quarter's spend by kind of provider" in text


def test_the_demo_invites_through_the_outbox_and_the_admin_login_reads_it(client, session, demo_database):
    from brokerage.holders.models import Power, Representation
    from brokerage.invitations.models import Invitation
    from brokerage.invitations.rules import InvitationKind, InvitationStatus
    from brokerage.mail.models import OutboxMessage

    # Idil made her account from Amina's invitation and accepted Hodan's signed in; a holder's invitation waits, and a PA's.
    invitations = session.exec(select(Invitation).order_by(Invitation.id)).all()
    assert [(i.kind, i.status) for i in invitations] == [
        (InvitationKind.representative, InvitationStatus.accepted), (InvitationKind.representative, InvitationStatus.accepted),
        (InvitationKind.holder, InvitationStatus.pending), (InvitationKind.provider, InvitationStatus.pending),
    ]
    idil = session.exec(select(User).where(User.email == "rep@riverside.example")).one()
    assert {r.holder_id for r in session.exec(select(Representation).where(Representation.representative_id == idil.id))} == {
        i.holder_id for i in invitations[:2]}
    assert all(r.powers == frozenset(Power) for r in session.exec(select(Representation)))
    waiting = invitations[2]
    assert session.exec(select(User).where(User.holder_id == waiting.holder_id)).first() is None
    pa = invitations[3]
    assert pa.name == "Bilal Iqbal (PA)" and session.exec(select(User).where(User.provider_id == pa.provider_id)).first() is None
    assert [m.recipient for m in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))] == (
        ["rep@riverside.example"] * 2 + [waiting.email, pa.email])
    assert client.post("/sign-in", data={"email": "admin@carepool.example", "password": demo_database.password}).status_code == 302
    outbox = client.get("/admin/outbox/").get_data(as_text=True)
    assert waiting.email.split("@")[0] in outbox and "make your carepool account" in outbox


def test_the_somali_elders_chose_amina_to_approve_timesheets_and_last_weeks_waits_on_her_dashboard(client, session, demo_database):
    from brokerage.ledger.models import JournalEntry
    from brokerage.timesheets.approvers import approver_of
    from brokerage.timesheets.models import Timesheet
    from brokerage.timesheets.rules import TimesheetStatus

    council = _riverside(session)
    group = session.exec(select(Cluster).where(Cluster.council_id == council.id, Cluster.name == "Somali elders of Whitechapel")).one()
    amina = session.exec(select(User).where(User.email == "holder@riverside.example")).one()
    assert approver_of(session=session, cluster_id=group.id).id == amina.holder_id
    (chosen,) = session.exec(select(Proposal).where(Proposal.cluster_id == group.id, Proposal.kind == ProposalKind.choose_approver)).all()
    assert chosen.status == ProposalStatus.passed
    sheets = session.exec(select(Timesheet).where(Timesheet.cluster_id == group.id).order_by(Timesheet.week)).all()
    assert [s.status for s in sheets] == [TimesheetStatus.approved] * (len(sheets) - 1) + [TimesheetStatus.submitted] and len(sheets) >= 20
    # Every week since she was chosen was approved by her, not by the broker.
    approvers = {session.get(JournalEntry, s.care_entry_id).actor_id for s in sheets[:-1]}
    assert approvers == {amina.id}
    client.post("/sign-in", data={"email": "holder@riverside.example", "password": demo_database.password})
    page = re.sub(r"<[^>]+>", "", client.get("/dashboard").get_data(as_text=True).replace("&#39;", "'"))
    assert "to approve the providers' weekly timesheets" in page and "Hooyo Care Co-operative" in page
    # Her daughter Idil acts for her with every power, so she may approve them too, and her dashboard says for whom.
    client.post("/sign-out")
    client.post("/sign-in", data={"email": "rep@riverside.example", "password": demo_database.password})
    page = re.sub(r"<[^>]+>", "", client.get("/dashboard").get_data(as_text=True).replace("&#39;", "'"))
    assert "Timesheets waiting for Amina Hassan" in page and "Their group chose Amina Hassan, whom you act for, to approve the providers' weekly timesheets" in page and "Hooyo Care Co-operative" in page


def test_a_match_waiting_for_the_broker_is_said_to_members_and_to_staff_each_in_their_own_voice(client, session, demo_database):
    # The broker's own matching page said "The broker is checking a match", as if about someone else.
    council = _riverside(session)
    group = session.exec(select(Cluster).where(Cluster.council_id == council.id, Cluster.name == "Somali elders of Whitechapel")).one()
    client.post("/sign-in", data={"email": "broker@riverside.example", "password": demo_database.password})
    staff = client.get("/matching/").get_data(as_text=True) + client.get(f"/clusters/{group.id}").get_data(as_text=True)
    assert "waits for a broker to check it and send it to the group" in staff and "The broker is checking" not in staff
    client.post("/sign-out")
    client.post("/sign-in", data={"email": "holder@riverside.example", "password": demo_database.password})
    member = client.get(f"/clusters/{group.id}").get_data(as_text=True)
    assert "The broker is checking a match for 14 hours a week." in member and "waits for a broker" not in member
