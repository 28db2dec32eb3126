"""The same payment started twice (Back, then "Continue" with a new form key) leads to the first while nobody has
paid it; a payment's page names the same money paid lately; money paid after notice began is said to be in the
wallet wherever the payment is shown, as the statement says; and nobody but the member reads "your share"."""

from __future__ import annotations

from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.payments.models import TopUp
from tests.payments.test_topups import _set_membership, share, start, wallet
from tests.stripe_support import deliver


def _page(client, top_up_id):
    return client.get(f"/top-ups/{top_up_id}").get_data(as_text=True).replace("&#39;", "'")


def test_starting_the_same_payment_again_leads_to_the_first_while_nobody_has_paid_it(pay, world, session, stripe_sdk, stripe_server):
    client = pay.sign_in(Role.holder)
    holder, group = world.records["a"]["holder"], world.records["a"]["cluster"]
    first = start(client, holder, group, amount="3")
    # Back, then "Continue to payment" again: the form was shown again with a new key.
    again = start(client, holder, group, amount="3")
    assert again.headers["Location"] == first.headers["Location"]
    [top_up] = session.exec(select(TopUp)).all()
    assert len(stripe_sdk.v1.payment_intents.list().data) == 1
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "This payment of £3.00 was already started on" in page and "so no second one was started" in page
    # Another amount, or another way to pay, is another payment.
    assert start(client, holder, group, amount="4").headers["Location"] != first.headers["Location"]
    assert start(client, holder, group, amount="3", method="card").headers["Location"] != first.headers["Location"]
    assert len(session.exec(select(TopUp)).all()) == 3
    # Once Stripe has the first payment (its event not here yet), the same money again is a new payment, whose page
    # warns of the first; once the first is added, it says it was paid.
    [succeeded] = stripe_server.pay(top_up.payment_intent_id)
    fourth = start(client, holder, group, amount="3")
    assert fourth.headers["Location"] != first.headers["Location"]
    newest = fourth.headers["Location"].rsplit("/", 1)[1]
    assert f'Another payment of £3.00 to this pool was started on' in _page(client, newest)
    deliver(client, succeeded)
    page = _page(client, newest)
    assert "Another payment of £3.00 to this pool was paid on" in page and f'href="/top-ups/{top_up.id}">see it</a>' in page
    assert "If this is the same money, cancel this payment below." in page


def test_money_paid_after_notice_is_said_to_be_in_the_wallet_everywhere(pay, world, session, stripe_server):
    client = pay.sign_in(Role.holder)
    holder, group = world.records["a"]["holder"], world.records["a"]["cluster"]
    location = start(client, holder, group, amount="7.25").headers["Location"]
    top_up = session.exec(select(TopUp)).one()
    before = wallet(session, world)
    _set_membership(session, world, "leaving")
    # Before paying: the page warns that the money would go to the wallet, and offers to cancel.
    page = _page(client, top_up.id)
    assert "You are no longer paying into" in page and "If this is paid, the money goes to your wallet, not the pool." in page
    [succeeded] = stripe_server.pay(top_up.payment_intent_id)
    deliver(client, succeeded)
    assert wallet(session, world) == before + 725 and share(session, world) == 0
    page = client.get(location).get_data(as_text=True).replace("&#39;", "'")
    assert '<h1 class="govuk-heading-l">Money kept in a wallet</h1>' in page and "Kept in the wallet" in page
    assert "it is in your wallet, and on your money statement" in page
    assert "Added to the pool" not in page and "Money added to a pool" not in page
    assert f'href="/top-ups/{top_up.id}">Kept in the wallet' in client.get(f"/holders/{holder.id}/top-up").get_data(as_text=True)
    [row] = client.get(f"/holders/{holder.id}/data.json").get_json()["top_ups"]
    assert row["where_it_is"] == "Kept in the wallet"
    pay.auth.sign_out()
    staff = pay.sign_in(Role.broker)
    assert "Kept in the wallet" in staff.get("/top-ups").get_data(as_text=True)
    assert f"it is in {holder.name}'s wallet, and on their money statement" in _page(staff, top_up.id)


def test_only_the_member_reads_your_share(pay, world, session, stripe_server):
    client = pay.sign_in(Role.representative)
    holder, group = world.records["a"]["holder"], world.records["a"]["cluster"]
    start(client, holder, group)
    top_up = session.exec(select(TopUp)).one()
    [succeeded] = stripe_server.pay(top_up.payment_intent_id)
    deliver(client, succeeded)
    theirs = f"The money is in {holder.name}'s share of the group's pool, and on their money statement."
    assert theirs in _page(client, top_up.id) and "your share" not in _page(client, top_up.id)
    pay.auth.sign_out()
    for role in (Role.broker, Role.council_officer):
        assert theirs in _page(pay.sign_in(role), top_up.id)
        pay.auth.sign_out()
    assert "The money is in your share of the group's pool, and on your money statement." in _page(pay.sign_in(Role.holder), top_up.id)
