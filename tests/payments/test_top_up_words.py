"""What the top-up pages say: why a member's group takes no money, how a payment was made, and what the dashboard calls it."""

from __future__ import annotations

import html

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.clusters.models import MembershipStatus
from brokerage.payments.models import TopUp
from brokerage.payments.rules import method_used
from tests import factories as f
from tests.payments.test_topups import start
from tests.stripe_support import deliver


def _page(client, holder_id) -> str:
    return html.unescape(client.get(f"/holders/{holder_id}/top-up").get_data(as_text=True))


def _set_status(session, membership, status: str) -> None:
    membership = session.get(type(membership), membership.id)
    membership.status = MembershipStatus(status)
    session.add(membership)
    session.commit()


def test_a_representative_is_told_the_holder_is_leaving_the_group_not_that_they_are_in_none(pay, world, session):
    records = world.records["a"]
    _set_status(session, records["membership"], "leaving")
    page = _page(pay.sign_in(Role.representative), records["holder"].id)
    assert "not in any group now" not in page
    assert f"Holder a is leaving {records['cluster'].name}, so money cannot be added to its pool." in page
    assert 'name="amount"' not in page  # no group takes money, so there is no form


def test_the_holder_leaving_two_groups_reads_both_and_their_pools(pay, world, session):
    records = world.records["a"]
    council = world.councils["a"]
    _set_status(session, records["membership"], "leaving")
    other = f.ClusterFactory(session=session, council_id=council.id, name="Allotment friends")
    f.MembershipFactory(session=session, council_id=council.id, cluster_id=other.id, holder_id=records["holder"].id, status=MembershipStatus.leaving)
    session.commit()
    page = _page(pay.sign_in(Role.holder), records["holder"].id)
    assert "You are leaving Allotment friends and Cluster a, so money cannot be added to their pools." in page
    assert "not in any group now" not in page


def test_a_member_waiting_to_be_let_in_is_told_so_beside_the_groups_that_take_money(pay, world, session):
    records = world.records["a"]
    council = world.councils["a"]
    other = f.ClusterFactory(session=session, council_id=council.id, name="Allotment friends")
    f.MembershipFactory(session=session, council_id=council.id, cluster_id=other.id, holder_id=records["holder"].id, status=MembershipStatus.requested)
    session.commit()
    page = _page(pay.sign_in(Role.holder), records["holder"].id)
    assert "You have asked to join Allotment friends. Money can be added to its pool once you are let in." in page
    assert 'name="amount"' in page  # Cluster a still takes money


def test_someone_who_has_left_every_group_is_told_they_are_in_none_now_not_yet(pay, world, session):
    # "not a member of a group yet" was said to someone who had left their groups.
    records = world.records["a"]
    _set_status(session, records["membership"], "left")
    page = _page(pay.sign_in(Role.holder), records["holder"].id)
    assert "You are not in any group now, so there is no pool to add money to." in page and " yet" not in page.split("no pool")[0][-80:]


# --- how it was paid, and what the dashboard calls a payment that failed ---------------------------


def _row(label: str, value: str) -> str:
    return f'<dt class="govuk-summary-list__key">{label}</dt>\n  <dd class="govuk-summary-list__value">{value}</dd>'


@pytest.fixture()
def rep_started(pay, world, session, stripe_sdk):
    """The representative of holder a starts a £25 top-up that may be paid either way; return (client, top-up)."""
    client = pay.sign_in(Role.representative)
    records = world.records["a"]
    assert start(client, records["holder"], records["cluster"]).status_code == 302
    return client, session.exec(select(TopUp)).one()


def test_a_payment_says_how_it_can_be_paid_until_stripe_says_how_it_was(rep_started, session, stripe_server):
    client, top_up = rep_started
    waiting = html.unescape(client.get(f"/top-ups/{top_up.id}").get_data(as_text=True))
    assert _row("Can be paid by", "Debit or credit card or Direct Debit from a UK bank account, chosen on Stripe's payment page") in waiting
    assert "Paid by</dt>" not in waiting
    [succeeded] = stripe_server.pay(top_up.payment_intent_id, method="card")
    deliver(client, succeeded)
    paid = html.unescape(client.get(f"/top-ups/{top_up.id}").get_data(as_text=True))
    assert _row("Paid by", "Card") in paid and "chosen on Stripe's payment page" not in paid


def test_a_failed_payment_says_how_it_was_tried_and_the_dashboard_does_not_call_it_on_its_way(rep_started, session, stripe_server):
    client, top_up = rep_started
    [failed] = stripe_server.pay(top_up.payment_intent_id, method="card", succeed=False)
    deliver(client, failed)
    page = html.unescape(client.get(f"/top-ups/{top_up.id}").get_data(as_text=True))
    assert _row("Tried to pay by", "Card") in page and "Paid by</dt>" not in page
    dashboard = html.unescape(client.get("/dashboard").get_data(as_text=True))
    # The representative's dashboard listed a failed payment under "Money on its way".
    assert "Money on its way" not in dashboard
    assert "Payments that did not go through" in dashboard and f'href="/top-ups/{top_up.id}"' in dashboard
    assert dashboard.index("Payments that did not go through") < dashboard.index(f'href="/top-ups/{top_up.id}"')


def test_the_dashboard_keeps_payments_on_their_way_apart_from_those_that_failed(rep_started, world, session, stripe_server):
    client, failing = rep_started
    [failed] = stripe_server.pay(failing.payment_intent_id, method="card", succeed=False)
    deliver(client, failed)
    records = world.records["a"]
    assert start(client, records["holder"], records["cluster"], amount="10").status_code == 302
    waiting = session.exec(select(TopUp).where(TopUp.id != failing.id)).one()
    dashboard = html.unescape(client.get("/dashboard").get_data(as_text=True))
    on_way, not_through = dashboard.index("Money on its way"), dashboard.index("Payments that did not go through")
    assert on_way < dashboard.index(f'href="/top-ups/{waiting.id}"') < not_through < dashboard.index(f'href="/top-ups/{failing.id}"')


@pytest.mark.parametrize(("obj", "method"), [
    ({"object": "payment_intent", "latest_charge": {"payment_method_details": {"type": "bacs_debit"}}, "payment_method_types": ["card", "bacs_debit"]},
     "bacs_debit"),
    ({"object": "payment_intent", "latest_charge": "ch_1", "charges": {"data": [{"payment_method_details": {"type": "card"}}]}}, "card"),
    ({"object": "payment_intent", "latest_charge": "ch_1", "payment_method": {"type": "card"}}, "card"),
    ({"object": "payment_intent", "latest_charge": "ch_1", "payment_method": "pm_1", "payment_method_types": ["bacs_debit"]}, "bacs_debit"),
    ({"object": "payment_intent", "latest_charge": "ch_1", "payment_method": "pm_1", "payment_method_types": ["card", "bacs_debit"]}, None),
    ({"object": "charge", "payment_method_details": {"type": "card"}}, "card"),
    ({"object": "charge", "payment_method_details": {"type": "klarna"}}, None),
    (None, None),
])
def test_the_way_a_payment_was_made_is_read_from_what_stripe_sent(obj, method):
    assert method_used(obj) == method
