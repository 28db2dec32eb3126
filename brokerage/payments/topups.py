"""Top-ups: a holder adds their own money to their share of a group's pool by card or Bacs Direct Debit.

Starting one makes a Stripe PaymentIntent and records it. The money reaches the pool share only when
Stripe's `payment_intent.succeeded` event arrives (never on the holder's return from paying): it posts
`external:topups` → `pool:{group}:{holder}`. Starting one is refused for a share whose member is on
notice or has left (`PAYABLE`). A payment that succeeds once the member is no longer an admitted or
active member of an open group (their notice began, their share was settled, or the group closed) goes
to the holder's wallet instead (`wallet:{holder}`, key `stripe:{event}:wallet`): the money is theirs
and the share is being, or has been, returned to the wallet anyway. A refund (`charge.refunded`) takes the refunded part back
out of the share, as far as the share still holds it; the rest is recorded as a shortfall for the broker. What the
events do is in `topup_events`; cancelling in `topup_cancel`.

The same payment started again (the browser's Back button, then "Continue" with a new form key) while the first
is still to pay leads to the first (`AlreadyStarted`), and a payment's page names the same money paid lately.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import stripe
from sqlmodel import Session, select

from brokerage.access import STAFF, get_or_404, same_council
from brokerage.accounts.models import Role, User
from brokerage.accounts.system import system_actor
from brokerage.audit.rules import TOP_UP, TOP_UP_LIST
from brokerage.audit.services import log_access, log_accesses
from brokerage.clusters.members import OPEN
from brokerage.clusters.models import Cluster, Membership, MembershipStatus
from brokerage.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from brokerage.formatting import date_time, pounds
from brokerage.holders.models import Holder, Power
from brokerage.holders.services import can_act_for, refuse_lost_power, represented_holder_ids
from brokerage.ledger import services as ledger
from brokerage.ledger.kinds import stripe_event_key
from brokerage.ledger.models import JournalEntry
from brokerage.ledger.rules import pool_code
from brokerage.locks import lock_row
from brokerage.payments import rules
from brokerage.payments.models import StripeEvent, TopUp
from brokerage.payments.onboarding import StripeUnavailable, stripe_client
from brokerage.payments.rules import TopUpStatus
from brokerage.types import utcnow

PAYABLE = (MembershipStatus.admitted, MembershipStatus.active)
# A payment the same as one started this long ago that nobody has paid yet is that payment, not a new one
# (the browser's Back button shows the form again with a new form key, and "Continue" would start a second).
TWIN_HOURS = 24


class AlreadyStarted(Conflict):
    """The same payment (group, amount, ways to pay) was started lately and is still to pay: go to it, make no new one."""

    def __init__(self, top_up: TopUp):
        super().__init__(f"This payment of {pounds(top_up.amount_pence)} was already started on {date_time(top_up.created_at)} "
                         "and has not been paid, so no second one was started. Here it is: pay it, or cancel it if it is not wanted.")
        self.top_up_id = top_up.id


def _holder_acted_for(session: Session, actor: User, holder_id: int, undone: str | None = None) -> Holder:
    if actor.role in STAFF or actor.role == Role.admin:
        raise NotAllowed("Only the person, or someone they asked to act for them, can add money.")
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    if not can_act_for(session=session, actor=actor, holder=holder, power=Power.money):
        refuse_lost_power(session=session, actor=actor, holder_ids=[holder.id], power=Power.money, undone=undone)
        raise NotFound()
    return holder


@dataclass
class Share:
    """A group whose pool holds a share of this holder's, and what the share holds now."""

    cluster: Cluster
    balance: int


def shares_of(*, session: Session, actor: User, holder_id: int, undone: str | None = None) -> tuple[Holder, list[Share]]:
    """Return the holder and the open groups whose pool they can add money to (`undone`: a sent form, see `refuse_lost_power`)."""
    holder = _holder_acted_for(session, actor, holder_id, undone)
    rows = session.exec(
        select(Cluster).join(Membership, Membership.cluster_id == Cluster.id)
        .where(Membership.holder_id == holder.id, Membership.status.in_(PAYABLE), Cluster.status.in_(OPEN),
               Cluster.council_id == holder.council_id)
        .order_by(Cluster.name)
    ).all()
    job = system_actor(session=session, council_id=holder.council_id, create=False)
    return holder, [Share(c, ledger.balance(session=session, actor=job, council_id=holder.council_id, code=pool_code(c.id, holder.id))) for c in rows]


# Memberships of an open group whose pool takes no money now, said on the page instead of "not a member".
NOT_PAYABLE_YET = (MembershipStatus.requested, MembershipStatus.leaving)


def unpayable_groups_of(*, session: Session, actor: User, holder_id: int) -> dict[str, list[str]]:
    """Return the names of the open groups the holder has asked to join, or is leaving, by status (no money goes to their pools)."""
    holder = _holder_acted_for(session, actor, holder_id)
    rows = session.exec(
        select(Membership.status, Cluster.name).join(Cluster, Cluster.id == Membership.cluster_id)
        .where(Membership.holder_id == holder.id, Membership.status.in_(NOT_PAYABLE_YET), Cluster.status.in_(OPEN),
               Cluster.council_id == holder.council_id)
        .order_by(Cluster.name)
    ).all()
    found: dict[str, list[str]] = {}
    for status, name in rows:
        found.setdefault(MembershipStatus(status).value, []).append(name)
    return found


def start_top_up(*, session: Session, actor: User, holder_id: int, cluster_id: int | None, amount_pence: int | None,
                 methods: list[str], config: dict, form_key: str) -> TopUp:
    """Make a PaymentIntent for a top-up and record it; the same form (form_key) twice gives the same top-up.

    Raises ValidationFailed naming the field, PaymentsNotSetUp without a Stripe key, StripeUnavailable.
    """
    holder, shares = shares_of(session=session, actor=actor, holder_id=holder_id, undone="no payment was started")
    errors: dict[str, str] = {}
    if cluster_id not in {s.cluster.id for s in shares}:
        errors["cluster"] = "Choose one of your groups"
    if amount_pence is None or not rules.TOP_UP_MIN_PENCE <= amount_pence <= rules.TOP_UP_MAX_PENCE:
        errors["amount"] = rules.TOP_UP_MESSAGE
    if not methods or any(m not in rules.METHODS for m in methods):
        errors["method"] = "Choose how to pay"
    if not form_key or len(form_key) > 64:
        errors["form_key"] = "Reload the page and try again"
    if errors:
        raise ValidationFailed(errors)
    client = stripe_client(config)
    # Two starts of the same payment at once (two tabs, Back and a double click) take turns on the holder's row, so the
    # second finds the first (locks.py: holders; a top-up's start locks nothing else).
    lock_row(session, Holder, holder.id)
    twin = _unpaid_twin(session, client, holder_id=holder.id, cluster_id=cluster_id, amount_pence=amount_pence, methods=methods)
    if twin is not None:
        raise AlreadyStarted(twin)
    try:
        intent = client.v1.payment_intents.create(
            params={"amount": amount_pence, "currency": "gbp", "payment_method_types": list(methods),
                    "description": "Money added to a care group's pool",
                    "metadata": {"council": str(holder.council_id), "holder": str(holder.id), "cluster": str(cluster_id)}},
            options={"idempotency_key": f"top-up:{holder.id}:{form_key}"},
        )
    except stripe.StripeError as error:
        raise StripeUnavailable(f"Stripe could not start the payment: {error.user_message or 'no answer'}. Nothing was taken; try again.") from None
    existing = session.exec(select(TopUp).where(TopUp.payment_intent_id == intent.id)).first()
    if existing is not None:
        return existing
    top_up = TopUp(council_id=holder.council_id, holder_id=holder.id, cluster_id=cluster_id, created_by_id=actor.id,
                   payment_intent_id=intent.id, amount_pence=amount_pence, methods=list(methods))
    session.add(top_up)
    session.flush()
    return top_up


def _twins(session: Session, top_up_like: dict, *, exclude: int | None = None) -> list[TopUp]:
    """Return the holder's top-ups of the same group and amount started in the last TWIN_HOURS, newest first."""
    since = utcnow() - timedelta(hours=TWIN_HOURS)
    return list(session.exec(
        select(TopUp).where(TopUp.holder_id == top_up_like["holder_id"], TopUp.cluster_id == top_up_like["cluster_id"],
                            TopUp.amount_pence == top_up_like["amount_pence"], TopUp.created_at >= since, TopUp.id != (exclude or -1))
        .order_by(TopUp.created_at.desc(), TopUp.id.desc())
    ))


def _unpaid_twin(session: Session, client: stripe.StripeClient, *, holder_id: int, cluster_id: int, amount_pence: int,
                 methods: list[str]) -> TopUp | None:
    """Return a waiting top-up just like this one that Stripe says nobody has paid yet, or None (then a new one is made)."""
    like = {"holder_id": holder_id, "cluster_id": cluster_id, "amount_pence": amount_pence}
    for twin in _twins(session, like)[:3]:
        if twin.status != TopUpStatus.waiting or sorted(twin.methods) != sorted(methods):
            continue
        try:
            status = client.v1.payment_intents.retrieve(twin.payment_intent_id).status
        except stripe.StripeError:
            return None  # Stripe cannot say: make the new one rather than send the person to one that may be paid
        if status in PAYABLE_INTENT:
            return twin
    return None


def get_top_up(*, session: Session, actor: User, top_up_id: int, undone: str | None = None) -> TopUp:
    """Return a top-up for the holder, their representative, or staff of the council; others get 404 (`undone`: a sent form)."""
    top_up = get_or_404(session, actor, TopUp, top_up_id, what="top-up")
    if actor.role in STAFF:
        return top_up
    holder = session.get(Holder, top_up.holder_id)
    if actor.role in (Role.holder, Role.representative) and can_act_for(session=session, actor=actor, holder=holder, power=Power.money):
        return top_up
    refuse_lost_power(session=session, actor=actor, holder_ids=[holder.id], power=Power.money, undone=undone)
    raise NotFound()


@dataclass
class TopUpPage:
    """A top-up's page: the top-up, whose it is, the group whose pool it goes to, and how it was paid once Stripe said."""

    top_up: TopUp
    holder_name: str
    group_name: str
    paid_with: str | None = None
    cancelled_by: str | None = None  # the name of who cancelled it here; None for a cancel on Stripe's side
    in_wallet: bool = False  # paid, but to the holder's wallet: the member was leaving when it was paid
    share_open: bool = True  # whether money paid now would reach the pool share (else it goes to the wallet)
    same_money: list[TopUp] = field(default_factory=list)  # other payments of the same amount to the same pool lately


def read_top_up(*, session: Session, actor: User, top_up_id: int) -> TopUpPage:
    """Return a top-up's page, as get_top_up finds it; a staff read goes to the access log (it is the holder's payment)."""
    top_up = get_top_up(session=session, actor=actor, top_up_id=top_up_id)
    if actor.role in STAFF:
        log_access(session=session, actor=actor, holder_id=top_up.holder_id, what=TOP_UP)
    canceller = session.get(User, top_up.cancelled_by_id) if top_up.cancelled_by_id else None
    payable = top_up.status in (TopUpStatus.waiting, TopUpStatus.failed)
    same = [t for t in _twins(session, {"holder_id": top_up.holder_id, "cluster_id": top_up.cluster_id, "amount_pence": top_up.amount_pence},
                              exclude=top_up.id) if t.status in (TopUpStatus.succeeded, TopUpStatus.waiting)] if payable else []
    return TopUpPage(top_up, session.get(Holder, top_up.holder_id).name, session.get(Cluster, top_up.cluster_id).name,
                     paid_with=methods_used(session=session, top_ups=[top_up]).get(top_up.id),
                     cancelled_by=canceller.name if canceller else None, in_wallet=bool(in_wallet(session=session, top_ups=[top_up])),
                     share_open=takes_money(session, top_up) if payable else True, same_money=same)


def methods_used(*, session: Session, top_ups: list[TopUp]) -> dict[int, str]:
    """Return {top-up id: "card" or "bacs_debit"} for the top-ups whose stored Stripe events say how they were paid (or tried)."""
    owner = {event_id: t.id for t in top_ups for event_id in t.event_ids}
    if not owner:
        return {}
    found: dict[int, str] = {}
    # Oldest first, so the latest event that names a way (the payment that went through, after a failed try) stands.
    for event_id, payload in session.exec(
        select(StripeEvent.event_id, StripeEvent.payload).where(StripeEvent.event_id.in_(sorted(owner))).order_by(StripeEvent.id)
    ):
        method = rules.method_used(((payload or {}).get("data") or {}).get("object"))
        if method:
            found[owner[event_id]] = method
    return found


# What Stripe says of a PaymentIntent the holder can still pay (Stripe's statuses, not ours).
PAYABLE_INTENT = ("requires_payment_method", "requires_confirmation", "requires_action")


@dataclass
class Checkout:
    """What the top-up page needs for Stripe's Payment Element: the client secret while the payment is still to make."""

    stripe_status: str
    client_secret: str | None


def checkout(*, session: Session, actor: User, top_up_id: int, config: dict) -> Checkout | None:
    """Ask Stripe where a top-up's PaymentIntent is; None for staff or a top-up no longer waiting or failed.

    The client secret lets a browser pay the PaymentIntent, so only the holder and their representative get it,
    and only while Stripe still waits for a payment. Reads only. Raises PaymentsNotSetUp, StripeUnavailable.
    """
    top_up = get_top_up(session=session, actor=actor, top_up_id=top_up_id)
    if actor.role not in (Role.holder, Role.representative) or top_up.status not in (TopUpStatus.waiting, TopUpStatus.failed):
        return None
    client = stripe_client(config)
    try:
        intent = client.v1.payment_intents.retrieve(top_up.payment_intent_id)
    except stripe.StripeError as error:
        raise StripeUnavailable(f"Stripe could not show the payment: {error.user_message or 'no answer'}. Reload the page to try again.") from None
    found = intent.to_dict()
    status = found.get("status") or ""
    return Checkout(stripe_status=status, client_secret=found.get("client_secret") if status in PAYABLE_INTENT else None)


def council_top_ups(*, session: Session, actor: User) -> list[tuple[TopUp, str, str]]:
    """Return the council's top-ups, newest first, with the holder's and the group's names (staff only); log each holder's read."""
    if actor.role not in STAFF:
        raise NotAllowed("Only council staff can see every top-up.")
    same_council(actor, actor.council_id)
    rows = session.exec(
        select(TopUp, Holder.name, Cluster.name).join(Holder, Holder.id == TopUp.holder_id).join(Cluster, Cluster.id == TopUp.cluster_id)
        .where(TopUp.council_id == actor.council_id).order_by(TopUp.created_at.desc(), TopUp.id.desc())
    ).all()
    log_accesses(session=session, actor=actor, council_id=actor.council_id, holder_ids=[top_up.holder_id for top_up, _, _ in rows],
                 what=TOP_UP_LIST)
    return [tuple(row) for row in rows]


def top_ups_of(*, session: Session, actor: User, holder_id: int, limit: int = 20) -> list[tuple[TopUp, str]]:
    """Return a holder's latest top-ups, newest first, with the group's name (the holder, or whoever may see their money)."""
    holder = _holder_acted_for(session, actor, holder_id)
    rows = session.exec(
        select(TopUp, Cluster.name).join(Cluster, Cluster.id == TopUp.cluster_id)
        .where(TopUp.holder_id == holder.id, TopUp.council_id == holder.council_id)
        .order_by(TopUp.created_at.desc(), TopUp.id.desc()).limit(limit)
    ).all()
    return [tuple(row) for row in rows]


# A failed payment stays on the dashboard this long, so the person hears of it even after leaving its page.
FAILED_SHOWN_DAYS = 14


def top_ups_in_flight(*, session: Session, actor: User) -> list[tuple[TopUp, str, str]]:
    """Return the top-ups still waiting for Stripe, and those that failed in the last FAILED_SHOWN_DAYS, of the
    holders whose money the actor may see (a holder's own, a representative's with leave), newest first, with the
    holder's and the group's names."""
    if actor.role == Role.holder:
        holder_ids = [actor.holder_id] if actor.holder_id else []
    elif actor.role == Role.representative:
        holder_ids = represented_holder_ids(session=session, actor=actor, power=Power.money)
    else:
        return []
    if not holder_ids:
        return []
    since = utcnow() - timedelta(days=FAILED_SHOWN_DAYS)
    rows = session.exec(
        select(TopUp, Holder.name, Cluster.name).join(Holder, Holder.id == TopUp.holder_id).join(Cluster, Cluster.id == TopUp.cluster_id)
        .where(TopUp.holder_id.in_(holder_ids), TopUp.council_id == actor.council_id,
               (TopUp.status == TopUpStatus.waiting) | ((TopUp.status == TopUpStatus.failed) & (TopUp.created_at >= since)))
        .order_by(TopUp.created_at.desc(), TopUp.id.desc())
    ).all()
    return [tuple(row) for row in rows]


# --- where a top-up's money is --------------------------------------------------------------------


WALLET_EFFECT = "wallet"


def takes_money(session: Session, top_up: TopUp, *, lock: bool = False) -> bool:
    """Tell whether the top-up's member is admitted or active in an open group (read, or under the group's lock)."""
    cluster = lock_row(session, Cluster, top_up.cluster_id) if lock else session.get(Cluster, top_up.cluster_id)
    if cluster.status not in OPEN:
        return False
    member = session.exec(select(Membership.id).where(
        Membership.cluster_id == top_up.cluster_id, Membership.holder_id == top_up.holder_id, Membership.status.in_(PAYABLE),
    )).first()
    return member is not None


def in_wallet(*, session: Session, top_ups: list[TopUp]) -> set[int]:
    """Return the ids of the top-ups whose money went to the holder's wallet, not the pool share (paid after notice began).

    One query for a list: the wallet entry's key names the event that paid it (`stripe:{event}:wallet`).
    """
    owner = {stripe_event_key(event_id=event_id, effect=WALLET_EFFECT): t.id for t in top_ups
             if t.status in (TopUpStatus.succeeded, TopUpStatus.refunded) for event_id in t.event_ids}
    if not owner:
        return set()
    councils = sorted({t.council_id for t in top_ups})
    found = session.exec(select(JournalEntry.idempotency_key).where(
        JournalEntry.council_id.in_(councils), JournalEntry.idempotency_key.in_(sorted(owner))))
    return {owner[key] for key in found}
