"""Top-ups: a PaymentIntent per top-up; only Stripe's events move money, each once, in any order."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.ledger import services as ledger
from brokerage.ledger.models import JournalEntry
from brokerage.clusters.models import MembershipStatus
from brokerage.ledger.rules import TOPUPS_CODE, pool_code, wallet_code
from brokerage.payments.models import TopUp
from tests.payments.conftest import stored
from tests.stripe_support import deliver


def form_key(client, holder_id):
    page = client.get(f"/holders/{holder_id}/top-up").get_data(as_text=True)
    return re.search(r'name="form_key" type="hidden" value="([0-9a-f]+)"', page).group(1)


def start(client, holder, cluster, amount="25", method="either", key=None):
    data = {"cluster": str(cluster.id), "amount": amount, "method": method, "form_key": key or form_key(client, holder.id)}
    return client.post(f"/holders/{holder.id}/top-up", data=data)


def share(session, world, key="a"):
    records = world.records[key]
    council_id = world.councils[key].id
    job = system_actor(session=session, council_id=council_id)
    session.expire_all()
    return ledger.balance(session=session, actor=job, council_id=council_id, code=pool_code(records["cluster"].id, records["holder"].id))


def entries(session, kind):
    session.expire_all()
    return session.exec(select(JournalEntry).where(JournalEntry.kind == kind)).all()


@pytest.fixture()
def started(pay, world, session, stripe_sdk):
    """A holder of council a starts a £25 top-up; return (client, top-up, PaymentIntent)."""
    client = pay.sign_in(Role.holder)
    records = world.records["a"]
    response = start(client, records["holder"], records["cluster"])
    assert response.status_code == 302, response.get_data(as_text=True)
    top_up = session.exec(select(TopUp)).one()
    return client, top_up, stripe_sdk.v1.payment_intents.retrieve(top_up.payment_intent_id)


def test_starting_a_top_up_makes_a_payment_intent_and_moves_no_money(started, world, session):
    client, top_up, intent = started
    records = world.records["a"]
    assert (intent.amount, intent.currency, intent.payment_method_types) == (2500, "gbp", ["card", "bacs_debit"])
    assert intent.metadata.to_dict() == {"council": str(world.councils["a"].id), "holder": str(records["holder"].id), "cluster": str(records["cluster"].id)}
    assert (top_up.status.value, top_up.amount_pence, top_up.holder_id, top_up.cluster_id) == ("waiting", 2500, records["holder"].id, records["cluster"].id)
    page = client.get(f"/top-ups/{top_up.id}").get_data(as_text=True)
    assert "Waiting for the payment" in page and "Pay by card" in page
    assert share(session, world) == 0 and entries(session, "topup") == []


def test_sending_the_same_form_twice_makes_one_payment(pay, world, session, stripe_sdk):
    client = pay.sign_in(Role.holder)
    records = world.records["a"]
    key = form_key(client, records["holder"].id)
    first = start(client, records["holder"], records["cluster"], key=key)
    second = start(client, records["holder"], records["cluster"], key=key)
    assert first.headers["Location"] == second.headers["Location"]
    assert len(session.exec(select(TopUp)).all()) == 1 and len(stripe_sdk.v1.payment_intents.list().data) == 1


@pytest.mark.parametrize("method", ["card", "bacs_debit"])
def test_the_money_reaches_the_pool_share_only_when_stripe_says_it_succeeded(started, world, session, stripe_server, method):
    client, top_up, intent = started
    events = stripe_server.pay(intent.id, method=method)
    # The holder is back from paying: nothing moves on their return, and the page does not yet say it was added.
    waiting = client.get(f"/top-ups/{top_up.id}")
    assert waiting.status_code == 200 and "Money on its way to a pool" in waiting.get_data(as_text=True)
    assert "Money added to a pool" not in waiting.get_data(as_text=True)
    assert share(session, world) == 0
    [succeeded] = events
    assert deliver(client, succeeded).status_code == 200
    assert share(session, world) == 2500
    [entry] = entries(session, "topup")
    assert entry.idempotency_key == f"stripe:{succeeded['id']}"
    session.refresh(top_up)
    assert top_up.status.value == "succeeded" and top_up.event_ids == [succeeded["id"]]
    page = client.get(f"/top-ups/{top_up.id}").get_data(as_text=True).replace("&#39;", "'")
    assert "Added to the pool" in page and "<h1 class=\"govuk-heading-l\">Money added to a pool</h1>" in page
    # Once Stripe said how it was paid, the page says that, no longer the choice there was on Stripe's page.
    said = {"card": "Card", "bacs_debit": "Direct Debit"}[method]
    assert f'<dt class="govuk-summary-list__key">Paid by</dt>\n  <dd class="govuk-summary-list__value">{said}</dd>' in page
    assert "chosen on Stripe's payment page" not in page
    statement = client.get(f"/holders/{world.records['a']['holder'].id}/statement").get_data(as_text=True)
    # Read by the member, a representative and the council's staff: the words name nobody ("Money the member added" read
    # oddly on the member's own statement), and never say "you".
    assert "Money added by card or Direct Debit" in statement and "the member" not in statement and "Money you added" not in statement


def test_a_failed_payment_is_recorded_with_stripes_reason_and_moves_nothing(started, world, session, stripe_server):
    client, top_up, intent = started
    [failed] = stripe_server.pay(intent.id, method="card", succeed=False)
    assert failed["type"] == "payment_intent.payment_failed"
    deliver(client, failed)
    session.refresh(top_up)
    assert top_up.status.value == "failed" and top_up.failure_message
    assert share(session, world) == 0
    page = client.get(f"/top-ups/{top_up.id}").get_data(as_text=True).replace("&#39;", "'")
    # The page never says the money was added when it was not, reads Stripe's reason once, and offers a way on.
    assert "Payment failed" in page and "<h1 class=\"govuk-heading-l\">A payment that did not go through</h1>" in page
    assert "Money added" not in page and ".." not in page.replace("...", "")
    assert f"The payment did not go through: {top_up.failure_message.rstrip('.')}. Nothing was added" in page
    group, holder = world.records["a"]["cluster"], world.records["a"]["holder"]
    assert f"Your share of {group.name}'s pool" in page and f'href="/clusters/{group.id}">{group.name}</a>' in page
    assert f'href="/holders/{holder.id}/top-up">Add money again</a>' in page and f'href="/holders/{holder.id}/statement">See your money' in page


def test_a_payment_can_be_found_again_after_leaving_its_page(started, world, session, stripe_server):
    # Nothing linked back to a top-up's page: a Direct Debit (days to go through) or a failed card was lost once left.
    client, top_up, intent = started
    holder, group = world.records["a"]["holder"], world.records["a"]["cluster"]
    link = f'href="/top-ups/{top_up.id}"'
    dashboard = client.get("/dashboard").get_data(as_text=True).replace("&#39;", "'")
    assert "Money on its way" in dashboard and f"{link}>£25.00 to {group.name}'s pool</a>" in dashboard
    assert "Waiting for the payment" in dashboard
    listed = client.get(f"/holders/{holder.id}/top-up").get_data(as_text=True)
    assert "Money you have added by card or Direct Debit" in listed and f'{link}>Waiting for the payment' in listed
    assert f'href="/holders/{holder.id}/top-up#payments">see where each payment' in client.get(f"/holders/{holder.id}/statement").get_data(as_text=True)
    [failed] = stripe_server.pay(intent.id, method="card", succeed=False)
    deliver(client, failed)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert link in dashboard and "Payment failed" in dashboard and "Open it to see why, and to try again." in dashboard
    # A payment through leaves the dashboard (the statement shows it), and stays in the list of payments.
    assert start(client, holder, group, amount="10").status_code == 302
    second = session.exec(select(TopUp).where(TopUp.id != top_up.id)).one()
    [succeeded] = stripe_server.pay(second.payment_intent_id)
    deliver(client, succeeded)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert f'href="/top-ups/{second.id}"' not in dashboard and link in dashboard
    assert f'href="/top-ups/{second.id}">Added to the pool' in client.get(f"/holders/{holder.id}/top-up").get_data(as_text=True)
    # Another council's holder sees none of it.
    other = world.records["b"]["holder"]
    assert client.get(f"/holders/{other.id}/top-up").status_code == 404


def paid(started, stripe_server):
    client, top_up, intent = started
    [succeeded] = stripe_server.pay(intent.id)
    deliver(client, succeeded)
    return succeeded


def refund(stripe_server, stripe_sdk, intent, amount):
    stripe_sdk.v1.refunds.create(params={"payment_intent": intent.id, "amount": amount})
    return stripe_server.events("charge.refunded")[-1]


def test_a_refund_takes_the_money_back_out_of_the_share(started, world, session, stripe_server, stripe_sdk):
    client, top_up, intent = started
    paid(started, stripe_server)
    first = refund(stripe_server, stripe_sdk, intent, 1000)
    deliver(client, first)
    assert share(session, world) == 1500
    session.refresh(top_up)
    assert (top_up.status.value, top_up.refunded_pence, top_up.shortfall_pence) == ("succeeded", 1000, 0)
    rest = refund(stripe_server, stripe_sdk, intent, 1500)
    deliver(client, rest)
    assert share(session, world) == 0
    session.refresh(top_up)
    assert (top_up.status.value, top_up.refunded_pence) == ("refunded", 2500)
    assert [e.idempotency_key for e in entries(session, "topup_refund")] == [f"stripe:{first['id']}", f"stripe:{rest['id']}"]


def test_a_refund_the_share_has_already_spent_is_a_shortfall_for_the_broker_not_an_overdraft(pay, started, world, session, stripe_server, stripe_sdk):
    client, top_up, intent = started
    paid(started, stripe_server)
    records = world.records["a"]
    council_id = world.councils["a"].id
    job = system_actor(session=session, council_id=council_id)
    # The group spent £20 of the share on care.
    ledger.post_entry(session=session, actor=job, council_id=council_id, kind="adjustment", idempotency_key="spent",
                      postings=[(pool_code(records["cluster"].id, records["holder"].id), -2000), (TOPUPS_CODE, 2000)])
    session.commit()
    deliver(client, refund(stripe_server, stripe_sdk, intent, 2500))
    assert share(session, world) == 0
    session.refresh(top_up)
    assert (top_up.status.value, top_up.refunded_pence, top_up.shortfall_pence) == ("refunded", 2500, 2000)
    pay.auth.sign_out()
    broker = pay.sign_in(Role.broker)
    listing = broker.get("/top-ups").get_data(as_text=True)
    assert "£20.00" in listing and records["holder"].name in listing
    assert "could not be taken back" in broker.get(f"/top-ups/{top_up.id}").get_data(as_text=True)


def test_a_refund_delivered_before_the_payment_waits_for_it(started, world, session, stripe_server, stripe_sdk):
    client, top_up, intent = started
    [succeeded] = stripe_server.pay(intent.id)
    refunded = refund(stripe_server, stripe_sdk, intent, 700)
    deliver(client, refunded)
    assert stored(session, refunded["id"]).processed_at is None
    assert stored(session, refunded["id"]).outcome.startswith("waiting")
    deliver(client, succeeded)
    assert share(session, world) == 1800
    assert stored(session, refunded["id"]).processed_at is not None


def test_replaying_every_event_twice_and_in_reverse_order_changes_nothing(started, world, session, stripe_server, stripe_sdk):
    client, top_up, intent = started
    paid(started, stripe_server)
    deliver(client, refund(stripe_server, stripe_sdk, intent, 400))
    deliver(client, refund(stripe_server, stripe_sdk, intent, 600))
    before = (share(session, world), len(entries(session, "topup")), len(entries(session, "topup_refund")))
    assert before == (1500, 1, 2)
    every = stripe_server.events()
    for event in list(reversed(every)) * 2 + every:
        assert deliver(client, event).status_code == 200
    assert (share(session, world), len(entries(session, "topup")), len(entries(session, "topup_refund"))) == before
    session.refresh(top_up)
    assert (top_up.refunded_pence, len(top_up.event_ids)) == (1000, 3)


def test_fresh_events_in_reverse_order_end_where_the_right_order_ends(started, world, session, stripe_server, stripe_sdk):
    client, top_up, intent = started
    [succeeded] = stripe_server.pay(intent.id)
    first = refund(stripe_server, stripe_sdk, intent, 400)
    second = refund(stripe_server, stripe_sdk, intent, 600)
    for event in (second, first, succeeded):
        deliver(client, event)
    assert share(session, world) == 1500
    session.refresh(top_up)
    assert (top_up.status.value, top_up.refunded_pence) == ("succeeded", 1000)


def test_a_payment_intent_we_made_but_never_recorded_still_reaches_the_share(pay, world, session, stripe_server, stripe_sdk):
    records = world.records["a"]
    intent = stripe_sdk.v1.payment_intents.create(params={
        "amount": 900, "currency": "gbp", "payment_method_types": ["card"],
        "metadata": {"council": str(world.councils["a"].id), "holder": str(records["holder"].id), "cluster": str(records["cluster"].id)}})
    [succeeded] = stripe_server.pay(intent.id)
    deliver(pay.client, succeeded)
    assert share(session, world) == 900
    assert session.exec(select(TopUp.payment_intent_id)).all() == [intent.id]


def test_a_payment_intent_that_is_not_ours_has_no_effect(pay, world, session, stripe_server, stripe_sdk):
    intent = stripe_sdk.v1.payment_intents.create(params={"amount": 900, "currency": "gbp", "payment_method_types": ["card"]})
    [succeeded] = stripe_server.pay(intent.id)
    deliver(pay.client, succeeded)
    assert stored(session, succeeded["id"]).outcome == "not a top-up made here: no effect"
    assert entries(session, "topup") == []


@pytest.mark.parametrize(("amount", "field"), [("0.50", "amount"), ("5000.01", "amount"), ("lots", "amount"), ("", "amount"),
                                               # "12,50" went straight to a £1,250.00 payment; so did "12 50".
                                               ("12,50", "amount"), ("12 50", "amount")])
def test_a_bad_amount_is_refused_beside_the_field_and_nothing_is_made(pay, world, session, stripe_sdk, amount, field):
    client = pay.sign_in(Role.holder)
    records = world.records["a"]
    response = start(client, records["holder"], records["cluster"], amount=amount)
    assert response.status_code == 422
    assert f'id="{field}-error-1"' in response.get_data(as_text=True)
    assert session.exec(select(TopUp)).all() == [] and stripe_sdk.v1.payment_intents.list().data == []


@pytest.mark.parametrize("amount", ["0", "0.50", "-5"])
def test_an_amount_below_the_least_is_told_the_same_limit_whatever_its_sign(pay, world, session, stripe_sdk, amount):
    # -5 was told "Enter an amount of £0 or more", though 0 is refused too: the box's limit is £1 to £5,000.
    client = pay.sign_in(Role.holder)
    records = world.records["a"]
    page = start(client, records["holder"], records["cluster"], amount=amount).get_data(as_text=True)
    assert "Enter an amount from £1 to £5,000" in page and "£0 or more" not in page


def test_a_decimal_comma_is_told_to_be_a_full_stop(pay, world, session, stripe_sdk):
    client = pay.sign_in(Role.holder)
    records = world.records["a"]
    page = start(client, records["holder"], records["cluster"], amount="12,50").get_data(as_text=True)
    assert "Use a full stop for pence, like 12.50" in page and "1,250" not in page
    assert start(client, records["holder"], records["cluster"], amount="1,250").status_code in (200, 302, 303)


@pytest.mark.parametrize("amount", ["5000.01", "99999999999"])
def test_one_box_states_one_limit_however_far_beyond_it_the_amount_is(pay, world, session, stripe_sdk, amount):
    # An amount too big even to read said "Enter an amount of £9,999,999.99 or less" under a hint of "From £1 to £5,000".
    client = pay.sign_in(Role.holder)
    records = world.records["a"]
    page = start(client, records["holder"], records["cluster"], amount=amount).get_data(as_text=True)
    assert "Enter an amount from £1 to £5,000" in page and "9,999,999" not in page


def test_a_group_the_holder_is_not_in_is_refused(pay, world, session, stripe_sdk):
    client = pay.sign_in(Role.holder)
    records = world.records["a"]
    response = start(client, records["holder"], records["private_cluster"])
    assert response.status_code == 422 and session.exec(select(TopUp)).all() == []


def test_a_representative_may_add_money_for_the_holder_who_authorised_them_only(pay, world, session):
    client = pay.sign_in(Role.representative)
    records = world.records["a"]
    assert start(client, records["holder"], records["cluster"]).status_code == 302
    assert client.get(f"/holders/{records['other_holder'].id}/top-up").status_code == 404


def test_other_councils_and_other_peoples_top_ups_are_404(started, pay, world, session):
    client, top_up, intent = started
    pay.auth.sign_out()
    for role, council, status in ((Role.holder, "b", 404), (Role.broker, "b", 404), (Role.representative, "b", 404),
                                  (Role.broker, "a", 200), (Role.council_officer, "a", 200), (Role.provider, "a", 403)):
        assert pay.sign_in(role, council).get(f"/top-ups/{top_up.id}").status_code == status, (role, council)
        pay.auth.sign_out()
    assert pay.sign_in(Role.holder, "b").get(f"/holders/{world.records['a']['holder'].id}/top-up").status_code == 404
    assert "Holder a" not in pay.sign_in(Role.broker, "b").get("/top-ups").get_data(as_text=True)


def test_without_a_stripe_key_the_page_explains_and_a_post_makes_nothing(client, auth, world, session):
    records = world.records["a"]
    auth.sign_in(world.users["a"][Role.holder].email)
    page = client.get(f"/holders/{records['holder'].id}/top-up").get_data(as_text=True)
    assert "Payments are not set up on this server yet" in page
    response = client.post(f"/holders/{records['holder'].id}/top-up",
                           data={"cluster": str(records["cluster"].id), "amount": "25", "method": "card", "form_key": "abc"})
    assert response.status_code in (409, 422)
    assert session.exec(select(TopUp)).all() == []


# --- review finding 2: top-ups and a member who is leaving or has left ------------------------------


def _set_membership(session, world, status, leaves_on=None):
    membership = session.get(type(world.records["a"]["membership"]), world.records["a"]["membership"].id)
    membership.status = MembershipStatus(status)
    membership.notice_date, membership.leaves_on = date(2026, 1, 1), leaves_on or date(2026, 1, 29)
    session.add(membership)
    session.commit()


def wallet(session, world, key="a"):
    council_id = world.councils[key].id
    session.expire_all()
    return ledger.balance(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id,
                          code=wallet_code(world.records[key]["holder"].id))


@pytest.mark.parametrize("status", ["leaving", "left"])
def test_no_top_up_starts_for_a_share_whose_member_is_leaving_or_has_left(pay, world, session, stripe_sdk, status):
    _set_membership(session, world, status)
    client = pay.sign_in(Role.holder)
    records = world.records["a"]
    response = start(client, records["holder"], records["cluster"], key="k" * 32)
    assert response.status_code == 422 and "Choose one of your groups" in response.get_data(as_text=True)
    assert session.exec(select(TopUp)).all() == []


@pytest.mark.parametrize("status", ["leaving", "left"])
def test_a_payment_that_succeeds_after_notice_began_goes_to_the_wallet_and_a_refund_comes_back_from_it(
    started, world, session, stripe_server, stripe_sdk, status,
):
    client, top_up, intent = started
    before = wallet(session, world)
    _set_membership(session, world, status)
    [succeeded] = stripe_server.pay(intent.id, method="card")
    assert deliver(client, succeeded).status_code == 200
    assert share(session, world) == 0 and wallet(session, world) == before + 2500
    [entry] = entries(session, "topup")
    assert entry.idempotency_key == f"stripe:{succeeded['id']}:wallet"
    assert deliver(client, succeeded).status_code == 200  # the same event again: nothing more
    assert wallet(session, world) == before + 2500 and len(entries(session, "topup")) == 1
    deliver(client, refund(stripe_server, stripe_sdk, intent, 1000))
    assert share(session, world) == 0 and wallet(session, world) == before + 1500
