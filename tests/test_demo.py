"""The demo loads realistic data once, and every demo login works."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlmodel import func, select

from brokerage.accounts.models import Council, User
from brokerage.clusters.models import Cluster, ClusterKind, ClusterStatus, Membership, MembershipStatus, Proposal, Vote
from brokerage.clusters.rules import ProposalKind, ProposalStatus
from brokerage.demo.data import HISTORY_WEEKS
from brokerage.demo.services import load_demo
from brokerage.holders.models import Holder
from brokerage.providers.models import Provider, ProviderKind
from brokerage.types import PERSON_ROLES

PASSWORD = "demo password for tests"


def demo_in(app, session):
    """Load the demo in the app's context: it invites people through the real services, whose links are built from the app's routes."""
    with app.app_context():
        return load_demo(session=session, password=PASSWORD, stripe_config=app.config)


@pytest.fixture()
def app(stripe_app):
    """The demo pays its providers through the local Stripe server, so its app talks to the test one."""
    return stripe_app


def test_the_demo_has_every_role_kind_and_stage(app, session):
    logins = demo_in(app, session)
    session.commit()
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


def test_no_holder_pledges_more_than_their_allocation_in_the_demo(app, session):
    demo_in(app, session)
    for holder in session.exec(select(Holder)):
        pledged = sum(
            m.weekly_pledge_pence
            for m in session.exec(select(Membership).where(Membership.holder_id == holder.id))
            if m.status in (MembershipStatus.admitted, MembershipStatus.active, MembershipStatus.leaving)
        )
        assert pledged <= holder.weekly_allocation_pence, holder.name


def test_the_demo_ledger_balances_and_verifies(app, session):
    from brokerage.accounts.system import system_actor
    from brokerage.ledger.integrity import verify
    from brokerage.ledger.services import trial_balance

    demo_in(app, session)
    council = session.exec(select(Council).where(Council.slug == "riverside")).one()
    actor = system_actor(session=session, council_id=council.id)
    report = verify(session=session, actor=actor, council_id=council.id)
    assert report.ok, [str(p) for p in report.problems]
    assert report.entries > 100 and report.unsealed == 0
    accounts, total = trial_balance(session=session, actor=actor, council_id=council.id)
    assert total == 0 and any(a.code.startswith("pool:") and a.balance_pence > 0 for a in accounts)


def test_loading_the_demo_twice_adds_nothing(app, session):
    demo_in(app, session)
    users = session.exec(select(func.count()).select_from(User)).one()
    demo_in(app, session)
    assert session.exec(select(func.count()).select_from(User)).one() == users


def test_every_demo_login_reaches_its_dashboard(app, client, session):
    logins = demo_in(app, session)
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


def test_the_demo_command_without_the_local_stripe_server_says_so_in_one_line(db_url, connection):
    from tests.conftest import app_in_transaction

    plain = app_in_transaction(db_url, connection, ENV_MODE="development")  # no STRIPE_* settings
    result = plain.test_cli_runner().invoke(args=["demo", "--password", PASSWORD])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "local Stripe server" in result.output


def test_the_demo_command_refuses_production(runner, app):
    app.config["ENV_MODE"] = "production"
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 2


# --- the demo happens through the product's own services ------------------------------------------


def _riverside(session):
    return session.exec(select(Council).where(Council.slug == "riverside")).one()


def test_the_demo_posts_only_what_the_product_posts(app, session):
    from brokerage.accounts.system import system_actor
    from brokerage.ledger.models import JournalEntry
    from brokerage.payments.run_models import PaymentLine, PaymentRun
    from brokerage.payments.run_rules import RunStatus
    from brokerage.timesheets.models import Timesheet
    from brokerage.timesheets.rules import TimesheetStatus

    demo_in(app, session)
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
    assert len(by_kind["dp_issued"]) == HISTORY_WEEKS * holders
    assert len({e.idempotency_key.rsplit(":", 1)[1] for e in by_kind["dp_issued"]}) == HISTORY_WEEKS  # 27 ISO weeks
    # The runs post as the council's system user, as the jobs do; so do the refunds of the group the members voted to close.
    assert {e.actor_id for e in by_kind["dp_issued"] + by_kind["pledge_collected"] + by_kind["member_refund"]} == {job.id}


def test_every_member_was_voted_in_and_the_closed_group_voted_to_close(app, session):
    demo_in(app, session)
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


def test_every_contract_is_a_match_a_group_voted_through_and_the_latest_run_waits_for_the_broker(app, session):
    from brokerage.contracts.models import Contract
    from brokerage.matching.models import MatchAssignment, MatchRun

    demo_in(app, session)
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


def test_the_representative_voted_and_the_shared_details_have_the_holders_consent(app, session):
    from brokerage.holders.models import SensitiveDetail

    demo_in(app, session)
    rep = session.exec(select(User).where(User.email == "rep@riverside.example")).one()
    votes = session.exec(select(Vote).where(Vote.cast_by_id == rep.id)).all()
    assert [session.get(Holder, v.holder_id).name for v in votes] == ["Hodan Warsame"]
    details = session.exec(select(SensitiveDetail)).all()
    assert len(details) == 4
    for detail in details:
        assert session.get(User, detail.consent_recorded_by_id).holder_id == detail.holder_id


def test_the_story_happened_months_ago_and_the_clock_is_given_back(app, session):
    from brokerage import clock
    from brokerage.ledger.models import JournalEntry

    real_now = clock.now
    demo_in(app, session)
    assert clock.now is real_now
    council = _riverside(session)
    assert council.created_at < clock.now() - timedelta(weeks=29)
    first = session.exec(select(JournalEntry).where(JournalEntry.council_id == council.id).order_by(JournalEntry.id)).first()
    assert clock.now() - timedelta(weeks=29) < first.created_at < clock.now() - timedelta(weeks=26)
    on_notice = session.exec(select(Membership).where(Membership.status == MembershipStatus.leaving)).all()
    assert all(m.notice_date < clock.today() < m.leaves_on for m in on_notice)


@pytest.mark.parametrize("moment", [
    datetime(2026, 3, 30, 0, 30, tzinfo=timezone.utc),  # a Monday, just after midnight, first day of summer time
    datetime(2023, 12, 31, 23, 30, tzinfo=timezone.utc),  # the last evening of a quarter, a Sunday: last quarter began 26 weeks ago
], ids=["monday-after-midnight", "sunday-at-quarter-end"])
def test_the_demo_loads_under_a_frozen_clock_too_with_last_quarter_in_its_history(app, session, freeze_clock, moment):
    from brokerage import clock

    freeze_clock(moment)
    demo_in(app, session)
    assert clock.now() == moment
    council = _riverside(session)
    assert council.created_at < moment
    start, end = _previous_quarter(clock.london(moment).date())
    assert min(_weeks_run(session, council.id)) <= start
    spend = _care_spend(session, council.id)
    assert all(spend.get((month, ProviderKind.coop), 0) > 0 for month in _months(start, end))


def test_the_pages_that_showed_care_costs_and_payouts_still_open(app, client, session):
    from brokerage.ledger.models import JournalEntry

    demo_in(app, session)
    session.commit()
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
        client.post("/sign-in", data={"email": email, "password": PASSWORD})
        for path in paths:
            assert client.get(path).status_code == 200, f"{email} {path}"
        client.post("/sign-out")


def test_care_is_recorded_approved_and_paid_and_stripe_agrees_with_the_ledger(app, session, stripe_sdk):
    from brokerage import clock
    from brokerage.contracts.models import Contract
    from brokerage.ledger.queries import balance
    from brokerage.ledger.rules import CLEARING_CODE, paid_code, payable_code
    from brokerage.payments import reconcile
    from brokerage.payments.run_models import PaymentLine, PaymentRun
    from brokerage.timesheets.models import Timesheet

    demo_in(app, session)
    council = _riverside(session)
    from brokerage.accounts.system import system_actor

    auditor = system_actor(session=session, council_id=council.id)
    provider = session.exec(select(Provider).where(Provider.name == "Nasima Khatun (PA)")).one()
    (contract,) = session.exec(select(Contract).where(Contract.provider_id == provider.id)).all()
    assert provider.payouts_enabled and provider.stripe_status == "enabled"
    sheets = session.exec(select(Timesheet).where(Timesheet.contract_id == contract.id).order_by(Timesheet.week)).all()
    assert [s.status.value for s in sheets] == ["approved", "approved", "submitted"]
    runs = session.exec(select(PaymentRun).where(PaymentRun.council_id == council.id).order_by(PaymentRun.id)).all()
    assert [r.status.value for r in runs] == ["paid"] * (len(runs) - 1) + ["prepared"] and len(runs) >= 6  # monthly, then this month's two
    assert all(r.prepared_by_id != r.released_by_id for r in runs[:-1])
    # Her first week was paid by the last run released; her second is held by the run waiting for release; clearing is
    # empty once Stripe confirmed every payout.
    lines = {r.id: session.exec(select(PaymentLine).where(PaymentLine.run_id == r.id, PaymentLine.provider_id == provider.id)).all() for r in runs}
    assert [len(lines[r.id]) for r in runs] == [0] * (len(runs) - 2) + [1, 1]
    assert balance(session=session, actor=auditor, council_id=council.id, code=paid_code(provider.id)) == sheets[0].total_pence
    assert balance(session=session, actor=auditor, council_id=council.id, code=payable_code(provider.id)) == sheets[1].total_pence == lines[runs[-1].id][0].amount_pence
    assert balance(session=session, actor=auditor, council_id=council.id, code=CLEARING_CODE) == 0
    transfers = stripe_sdk.v1.transfers.list(params={"limit": 100}).data
    assert [(t.amount, t.destination) for t in transfers if t.destination == provider.stripe_account_id] == [(sheets[0].total_pence, provider.stripe_account_id)]
    paid_lines = [line for r in runs[:-1] for line in session.exec(select(PaymentLine).where(PaymentLine.run_id == r.id))]
    assert sorted(t.amount for t in transfers) == sorted(line.amount_pence for line in paid_lines)
    report = reconcile.reconcile(session=session, client=stripe_sdk, council_ids=[council.id], since=clock.london(council.created_at).date())
    assert report.payouts == report.transfers == len(paid_lines) and report.differences == []


def test_bean_check_accepts_the_demo_ledger_with_its_care_and_payouts(app, session, tmp_path):
    from brokerage.ledger import services
    from tests.ledger.test_export import assert_clean, bean_check, beancount_balances, our_balances, write_beancount

    demo_in(app, session)
    council = _riverside(session)
    path = tmp_path / "demo.beancount"
    text = write_beancount(session, path, council_id=council.id)
    assert ":Paid:P" in text and ":Payable:P" in text and "Clearing" in text
    assert_clean(bean_check(path))
    assert beancount_balances(path) == our_balances(session, [council.id])
    assert council.id in services.council_ids_with_entries(session=session)


# --- the demo's history: what a council officer asks of it ----------------------------------------


def _previous_quarter(today: date) -> tuple[date, date]:
    """Return the first and last day of the calendar quarter before the one holding today."""
    this_quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    end = this_quarter - timedelta(days=1)
    return date(end.year, (end.month - 1) // 3 * 3 + 1, 1), end


def _months(start: date, end: date) -> list[date]:
    """Return the first days of the months from start to end."""
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = (month + timedelta(days=32)).replace(day=1)
    return months


def _care_spend(session, council_id: int) -> dict:
    """Return care spend from the pool shares by (month in England, provider kind), in pence, as the pool summary holds it."""
    from brokerage.ledger.models import PoolMonth

    rows = session.exec(
        select(PoolMonth.month, Provider.kind, func.sum(PoolMonth.amount_pence)).join(Provider, Provider.id == PoolMonth.provider_id)
        .where(PoolMonth.council_id == council_id, PoolMonth.kind == "care_cost").group_by(PoolMonth.month, Provider.kind)
    ).all()
    return {(month, kind): -int(amount) for month, kind, amount in rows}


def _weeks_run(session, council_id: int) -> list[date]:
    """Return the Mondays of the weeks whose direct payments the weekly runs issued."""
    from brokerage.clusters.rules import parse_period
    from brokerage.ledger.models import JournalEntry

    keys = session.exec(select(JournalEntry.idempotency_key).where(JournalEntry.council_id == council_id, JournalEntry.kind == "dp_issued")).all()
    return sorted({parse_period(key.rsplit(":", 1)[1])[0] for key in keys})


def test_the_weekly_runs_cover_the_27_weeks_before_this_one_and_so_last_quarter(app, session):
    from brokerage import clock

    demo_in(app, session)
    today = clock.london(clock.now()).date()
    this_monday = today - timedelta(days=today.weekday())
    assert _weeks_run(session, _riverside(session).id) == [this_monday - timedelta(weeks=n) for n in range(HISTORY_WEEKS, 0, -1)]
    assert this_monday - timedelta(weeks=HISTORY_WEEKS) <= _previous_quarter(today)[0]


def test_an_officer_finds_care_spend_with_a_coop_in_every_month_of_last_quarter(app, session):
    from brokerage import clock

    demo_in(app, session)
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


def test_a_group_that_asked_for_no_care_holds_pledges_unspent_for_more_than_8_weeks(app, session):
    from brokerage import clock
    from brokerage.ledger.models import JournalEntry, LedgerAccount, PoolMonth, Posting
    from brokerage.ledger.rules import AccountType

    demo_in(app, session)
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


def test_the_demo_review_flags_the_unspent_shares_and_the_officer_dashboard_says_so(app, client, session):
    from brokerage.surplus.models import SurplusFlag
    from brokerage.surplus.rules import FlagStatus

    demo_in(app, session)
    session.commit()
    council = _riverside(session)
    group = session.exec(select(Cluster).where(Cluster.council_id == council.id, Cluster.name == "Urdu speakers' home help")).one()
    flags = session.exec(select(SurplusFlag).where(SurplusFlag.council_id == council.id, SurplusFlag.status == FlagStatus.open)).all()
    assert {flag.cluster_id for flag in flags} >= {group.id} and all(flag.amount_pence > 0 for flag in flags)
    client.post("/sign-in", data={"email": "officer@riverside.example", "password": PASSWORD})
    page = client.get("/dashboard").get_data(as_text=True)
    text = re.sub(r"<[^>]+>", "", page.replace("&#39;", "'"))
    assert "could be taken back under the council" in text, text[text.find("Unspent for longer"):][:400]
    assert "Last quarter's spend by kind of provider" in text


def test_the_demo_invites_through_the_outbox_and_the_admin_login_reads_it(app, client, session):
    from brokerage.holders.models import Power, Representation
    from brokerage.invitations.models import Invitation
    from brokerage.invitations.rules import InvitationKind, InvitationStatus
    from brokerage.mail.models import OutboxMessage

    demo_in(app, session)
    session.commit()
    # Idil made her account from Amina's invitation and accepted Hodan's signed in; a holder's invitation waits.
    invitations = session.exec(select(Invitation).order_by(Invitation.id)).all()
    assert [(i.kind, i.status) for i in invitations] == [
        (InvitationKind.representative, InvitationStatus.accepted), (InvitationKind.representative, InvitationStatus.accepted),
        (InvitationKind.holder, InvitationStatus.pending),
    ]
    idil = session.exec(select(User).where(User.email == "rep@riverside.example")).one()
    assert {r.holder_id for r in session.exec(select(Representation).where(Representation.representative_id == idil.id))} == {
        i.holder_id for i in invitations[:2]}
    assert all(r.powers == frozenset(Power) for r in session.exec(select(Representation)))
    waiting = invitations[2]
    assert session.exec(select(User).where(User.holder_id == waiting.holder_id)).first() is None
    assert [m.recipient for m in session.exec(select(OutboxMessage).order_by(OutboxMessage.id))] == ["rep@riverside.example"] * 2 + [waiting.email]
    assert client.post("/sign-in", data={"email": "admin@carepool.example", "password": PASSWORD}).status_code == 302
    outbox = client.get("/admin/outbox/").get_data(as_text=True)
    assert waiting.email.split("@")[0] in outbox and "make your carepool account" in outbox
