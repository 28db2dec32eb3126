"""Every page that shows staff a holder's record logs the read, once per view, with a plain "what".

If a page that shows a person's record stops logging, or a new page about a holder is added without
deciding whether it logs, a test here fails.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.audit import rules
from brokerage.audit.models import AccessLog
from brokerage.payments.models import TopUp
from tests.contracts.conftest import care  # noqa: F401  (the fixture: a group of two with care, for the vote page)

# The pages that show staff a holder's record, and what each logs about holder a of the world.
LOGGED = {
    "holders.show": rules.RECORD,
    "holders.statement": rules.MONEY_STATEMENT,
    "ledger.holder_statement": rules.MONEY_STATEMENT,
    "timesheets.show": rules.TIMESHEET,
    "contracts.show": rules.CONTRACT,
    "payments.top_up": rules.TOP_UP,
}
# Pages about a holder that staff cannot open: only the holder and their representatives, whose reads are not staff reads.
OWN_ONLY = {"holders.profile", "holders.data_json", "holders.data_csv", "holders.record_views", "payments.new_top_up",
            "invitations.invite_representative"}
# Brokers' forms about a holder that show no part of their record: only their name and whether they can sign in yet
# (the record page they come from logs the read).
NOT_THE_RECORD = {"invitations.invite_holder"}


@pytest.fixture()
def top_up(world, session):
    """A top-up by holder a of the world."""
    a = world.records["a"]
    item = TopUp(council_id=world.councils["a"].id, holder_id=a["holder"].id, cluster_id=a["cluster"].id, payment_intent_id="pi_logged",
                 amount_pence=500, methods=["card"])
    session.add(item)
    session.commit()
    return item


def _url(endpoint: str, world, top_up) -> str:
    a = world.records["a"]
    return {
        "holders.show": f"/holders/{a['holder'].id}",
        "holders.statement": f"/holders/{a['holder'].id}/statement",
        "ledger.holder_statement": f"/ledger/holders/{a['holder'].id}",
        "timesheets.show": f"/timesheets/{a['timesheet'].id}",
        "contracts.show": f"/contracts/{a['contract'].id}",
        "payments.top_up": f"/top-ups/{top_up.id}",
    }[endpoint]


def _log(session) -> list[tuple[int, int, str]]:
    session.expire_all()
    return list(session.exec(select(AccessLog.actor_id, AccessLog.holder_id, AccessLog.what).order_by(AccessLog.id)).all())


def test_every_get_page_about_a_holder_is_either_logged_or_only_for_the_holder(app):
    about_a_holder = {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods and "holder_id" in rule.arguments}
    unclassified = about_a_holder - set(LOGGED) - OWN_ONLY - NOT_THE_RECORD
    assert not unclassified, f"decide whether these pages log staff reads (add them to LOGGED or OWN_ONLY): {sorted(unclassified)}"
    for endpoint in OWN_ONLY:
        assert app.view_functions[endpoint].allowed_roles <= {Role.holder, Role.representative}, endpoint


def test_every_logged_page_is_marked_as_writing_when_read(app):
    for endpoint in LOGGED:
        assert getattr(app.view_functions[endpoint], "writes_when_reading", False), f"{endpoint} writes the access log: mark it @writes_when_reading"


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer])
@pytest.mark.parametrize("endpoint", sorted(LOGGED))
def test_a_staff_read_of_a_holder_record_page_is_logged_once_per_view(client, auth, world, session, top_up, role, endpoint):
    staff = world.users["a"][role]
    holder = world.records["a"]["holder"]
    auth.sign_in(staff.email)
    before = _log(session)
    assert client.get(_url(endpoint, world, top_up)).status_code == 200
    assert _log(session)[len(before):] == [(staff.id, holder.id, LOGGED[endpoint])]
    assert client.get(_url(endpoint, world, top_up)).status_code == 200
    assert _log(session)[len(before):] == [(staff.id, holder.id, LOGGED[endpoint])] * 2


@pytest.mark.parametrize("role", [Role.holder, Role.representative])
def test_the_holders_own_reads_and_their_representatives_are_not_logged(client, auth, world, session, top_up, role):
    auth.sign_in(world.users["a"][role].email)
    for endpoint in sorted(LOGGED):
        assert client.get(_url(endpoint, world, top_up)).status_code == 200, endpoint
    assert _log(session) == []


def test_another_councils_staff_log_nothing_and_get_a_404(client, auth, world, session, top_up):
    auth.sign_in(world.users["b"][Role.broker].email)
    for endpoint in sorted(LOGGED):
        assert client.get(_url(endpoint, world, top_up)).status_code == 404, endpoint
    assert _log(session) == []


def test_every_stored_what_has_plain_words():
    for what in (rules.RECORD, rules.MONEY_STATEMENT, rules.SPECIAL_CATEGORY, rules.TIMESHEET, rules.CONTRACT, rules.TOP_UP, rules.LEDGER_SEARCH,
                 rules.MONEY_LIST, rules.AUDIT_PACK, rules.REMITTANCE, rules.CARE_VOTE, rules.GROUP_PLEDGES,
                 rules.AUDIT_PACK_VISITS):
        label = rules.what_label(what)
        assert label and label[0].isupper() and "special-category" not in label


# --- pages about many people that staff narrow to some, or that list people's money ------------------------


def test_the_other_pages_that_log_reads_are_marked_as_writing_when_read(app):
    for endpoint in ("ledger.index", "ledger.accounts", "spending.members", "auditpack.download", "surplus.index", "holders.index",
                     "payments.top_ups", "dashboard.index"):
        assert getattr(app.view_functions[endpoint], "writes_when_reading", False), endpoint


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer])
def test_searching_the_journal_or_the_accounts_for_a_persons_accounts_logs_a_read_of_their_money(client, auth, world, session, role):
    staff = world.users["a"][role]
    holder, other = world.records["a"]["holder"], world.records["a"]["other_holder"]
    auth.sign_in(staff.email)
    assert client.get("/ledger/?account=nobody+has+this+name").status_code == 200
    assert _log(session) == []  # a search that found no one's account lists no one
    page = client.get("/ledger/", query_string={"account": holder.name})
    assert page.status_code == 200 and holder.name in page.text and other.name not in page.text
    assert _log(session) == [(staff.id, holder.id, rules.LEDGER_SEARCH)]
    # The council's own account is no one's, but its entries name the people it paid: each is read, once.
    assert client.get("/ledger/", query_string={"account": "funding"}).status_code == 200
    assert sorted(_log(session)) == sorted([(staff.id, holder.id, rules.LEDGER_SEARCH)] * 2 + [(staff.id, other.id, rules.LEDGER_SEARCH)])
    # The page of accounts and their balances, searched the same way, is the same read.
    assert client.get("/ledger/accounts", query_string={"account": holder.name}).status_code == 200
    assert sorted(_log(session)) == sorted([(staff.id, holder.id, rules.LEDGER_SEARCH)] * 3 + [(staff.id, other.id, rules.LEDGER_SEARCH)])


# --- a payment's remittance names the members whose care visits it pays for ------------------------------


@pytest.fixture()
def paid_visit(world, session):
    """Link holder a's visit (its sheet approved) to the payment line of the world's provider, as preparing a run does."""
    from brokerage.payments.run_models import PaymentLineTimesheet
    from brokerage.timesheets.rules import TimesheetStatus

    from tests.payments.runs_support import fund

    a = world.records["a"]
    sheet = a["timesheet"]
    entry = fund(session, a["provider"], 2000, key=f"care:{sheet.id}")
    sheet.status, sheet.total_pence, sheet.care_entry_id = TimesheetStatus.approved, 2000, entry.id
    session.add(sheet)
    session.add(PaymentLineTimesheet(line_id=a["payment_line"].id, timesheet_id=sheet.id, council_id=sheet.council_id, amount_pence=2000))
    session.commit()
    return a["payment_line"]


def test_the_remittance_page_is_marked_as_writing_when_read(app):
    assert getattr(app.view_functions["payruns.remittance_advice"], "writes_when_reading", False)


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer])
def test_a_staff_read_of_a_remittance_logs_a_read_of_each_member_whose_visits_it_names(client, auth, world, session, paid_visit, role):
    staff = world.users["a"][role]
    holder = world.records["a"]["holder"]
    auth.sign_in(staff.email)
    page = client.get(f"/payments/lines/{paid_visit.id}")
    assert page.status_code == 200 and holder.name in page.text
    assert _log(session) == [(staff.id, holder.id, rules.REMITTANCE)]
    assert client.get(f"/payments/lines/{paid_visit.id}").status_code == 200
    assert _log(session) == [(staff.id, holder.id, rules.REMITTANCE)] * 2
    # The person is told, in plain words, on their own list of who looked.
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.holder].email)
    views = client.get(f"/holders/{holder.id}/record-views")
    assert staff.name in views.text and rules.what_label(rules.REMITTANCE) in views.text


def test_a_providers_own_remittance_and_a_payment_naming_nobody_log_nothing(client, auth, world, session, paid_visit):
    from brokerage.payments.run_models import PaymentRun
    from brokerage.payments.run_rules import RunStatus

    run = session.get(PaymentRun, paid_visit.run_id)
    run.status = RunStatus.released
    session.add(run)
    session.commit()
    auth.sign_in(world.users["a"][Role.provider].email)
    assert client.get(f"/payments/lines/{paid_visit.id}").status_code == 200
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.get(f"/payments/lines/{world.records['a']['other_payment_line'].id}").status_code == 200
    assert _log(session) == []


# --- the vote page for care names what each member would pay -----------------------------------------------


def _care_match(session, care):  # noqa: F811
    from tests.pages.test_proposals import _match

    return _match(session, care, shares={str(care.amina.id): 1, str(care.bo.id): 1})


def test_the_vote_page_is_marked_as_writing_when_read(app):
    assert getattr(app.view_functions["clusters.proposal"], "writes_when_reading", False)


@pytest.mark.parametrize("who", ["broker", "officer"])
def test_a_staff_read_of_what_each_member_would_pay_for_care_put_to_a_vote_is_logged_for_each(client, auth, session, care, who):  # noqa: F811
    proposal = _care_match(session, care)
    staff = care.users[who]
    auth.sign_in(staff.email)
    page = client.get(f"/clusters/proposals/{proposal.id}")
    assert page.status_code == 200 and "would pay" in page.text
    assert _log(session) == sorted([(staff.id, care.amina.id, rules.CARE_VOTE), (staff.id, care.bo.id, rules.CARE_VOTE)], key=lambda row: row[1])
    # A change of care put to a vote says the same, before and after.
    from brokerage.contracts import changes

    change = changes.propose_change(session=session, actor=care.users["broker"], contract_id=care.contract.id, rate_pence=2_400)
    session.commit()
    before = _log(session)
    assert "would pay" in client.get(f"/clusters/proposals/{change.id}").text
    assert {row[1] for row in _log(session)[len(before):]} == {int(m) for m in care.contract.member_shares}


def test_a_members_read_of_the_vote_page_and_a_decided_vote_log_nothing(client, auth, session, care):  # noqa: F811
    from brokerage.clusters.rules import ProposalStatus
    from brokerage.types import utcnow

    proposal = _care_match(session, care)
    for who in ("amina", "rep"):
        auth.sign_in(care.users[who].email)
        assert "would pay" in client.get(f"/clusters/proposals/{proposal.id}").text
        auth.sign_out()
    proposal.status, proposal.decided_at = ProposalStatus.passed, utcnow()
    session.add(proposal)
    session.commit()
    auth.sign_in(care.users["broker"].email)
    assert "would pay" not in client.get(f"/clusters/proposals/{proposal.id}").text  # no one's part is shown once decided
    assert _log(session) == []


# --- a group's page shows staff each member's weekly pledge ---------------------------------------------------


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer])
def test_a_staff_read_of_a_groups_page_logs_a_read_of_each_members_pledge(client, auth, world, session, role):
    from brokerage.clusters.models import Membership

    staff = world.users["a"][role]
    cluster = world.records["a"]["cluster"]
    members = sorted(session.exec(select(Membership.holder_id).where(Membership.cluster_id == cluster.id)).all())
    assert members
    auth.sign_in(staff.email)
    page = client.get(f"/clusters/{cluster.id}")
    assert page.status_code == 200 and "Weekly pledge" in page.text
    assert _log(session) == [(staff.id, holder_id, rules.GROUP_PLEDGES) for holder_id in members]


@pytest.mark.parametrize("role", [Role.holder, Role.representative])
def test_a_members_read_of_their_groups_page_logs_nothing(client, auth, world, session, role):
    auth.sign_in(world.users["a"][role].email)
    page = client.get(f"/clusters/{world.records['a']['cluster'].id}")
    assert page.status_code == 200 and "Weekly pledge" not in page.text
    assert _log(session) == []
