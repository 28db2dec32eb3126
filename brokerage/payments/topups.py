"""Top-ups: a holder adds their own money to their share of a group's pool by card or Bacs Direct Debit.

Starting one makes a Stripe PaymentIntent and records it. The money reaches the pool share only when
Stripe's `payment_intent.succeeded` event arrives (never on the holder's return from paying): it posts
`external:topups` → `pool:{group}:{holder}`. Starting one is refused for a share whose member is on
notice or has left (`PAYABLE`). A payment that succeeds once the member is no longer an admitted or
active member of an open group (their notice began, their share was settled, or the group closed) goes
to the holder's wallet instead (`wallet:{holder}`, key `stripe:{event}:wallet`): the money is theirs
and the share is being, or has been, returned to the wallet anyway. A refund (`charge.refunded`) takes the refunded part back
out of the share, as far as the share still holds it; the rest is recorded as a shortfall for the broker.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import stripe
from sqlmodel import Session, select

from brokerage.access import STAFF, get_or_404, same_council
from brokerage.accounts.models import Role, User
from brokerage.accounts.system import system_actor
from brokerage.audit.rules import TOP_UP
from brokerage.audit.services import log_access
from brokerage.clusters.members import OPEN
from brokerage.clusters.models import Cluster, Membership, MembershipStatus
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.holders.models import Holder, Power
from brokerage.holders.services import can_act_for, represented_holder_ids
from brokerage.ledger import services as ledger
from brokerage.ledger.kinds import EntryKind, stripe_event_key
from brokerage.ledger.models import JournalEntry
from brokerage.ledger.rules import TOPUPS_CODE, pool_code, wallet_code
from brokerage.locks import lock_row
from brokerage.payments import rules
from brokerage.payments.events import Deferred
from brokerage.payments.models import StripeEvent, TopUp
from brokerage.payments.onboarding import StripeUnavailable, stripe_client
from brokerage.payments.rules import TopUpStatus, move_top_up
from brokerage.types import utcnow

PAYABLE = (MembershipStatus.admitted, MembershipStatus.active)


def _holder_acted_for(session: Session, actor: User, holder_id: int) -> Holder:
    if actor.role in STAFF or actor.role == Role.admin:
        raise NotAllowed("Only the person, or someone they asked to act for them, can add money.")
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    if not can_act_for(session=session, actor=actor, holder=holder, power=Power.money):
        raise NotFound()
    return holder


@dataclass
class Share:
    """A group whose pool holds a share of this holder's, and what the share holds now."""

    cluster: Cluster
    balance: int


def shares_of(*, session: Session, actor: User, holder_id: int) -> tuple[Holder, list[Share]]:
    """Return the holder and the open groups whose pool they can add money to (admitted or active member)."""
    holder = _holder_acted_for(session, actor, holder_id)
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
    holder, shares = shares_of(session=session, actor=actor, holder_id=holder_id)
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


def get_top_up(*, session: Session, actor: User, top_up_id: int) -> TopUp:
    """Return a top-up for the holder, their representative, or staff of the council; others get 404."""
    top_up = get_or_404(session, actor, TopUp, top_up_id, what="top-up")
    if actor.role in STAFF:
        return top_up
    holder = session.get(Holder, top_up.holder_id)
    if actor.role in (Role.holder, Role.representative) and can_act_for(session=session, actor=actor, holder=holder, power=Power.money):
        return top_up
    raise NotFound()


@dataclass
class TopUpPage:
    """A top-up's page: the top-up, whose it is, the group whose pool it goes to, and how it was paid once Stripe said."""

    top_up: TopUp
    holder_name: str
    group_name: str
    paid_with: str | None = None
    cancelled_by: str | None = None  # the name of who cancelled it here; None for a cancel on Stripe's side


def read_top_up(*, session: Session, actor: User, top_up_id: int) -> TopUpPage:
    """Return a top-up's page, as get_top_up finds it; a staff read goes to the access log (it is the holder's payment)."""
    top_up = get_top_up(session=session, actor=actor, top_up_id=top_up_id)
    if actor.role in STAFF:
        log_access(session=session, actor=actor, holder_id=top_up.holder_id, what=TOP_UP)
    canceller = session.get(User, top_up.cancelled_by_id) if top_up.cancelled_by_id else None
    return TopUpPage(top_up, session.get(Holder, top_up.holder_id).name, session.get(Cluster, top_up.cluster_id).name,
                     paid_with=methods_used(session=session, top_ups=[top_up]).get(top_up.id),
                     cancelled_by=canceller.name if canceller else None)


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
    """Return the council's top-ups, newest first, with the holder's and the group's names (staff only)."""
    if actor.role not in STAFF:
        raise NotAllowed("Only council staff can see every top-up.")
    same_council(actor, actor.council_id)
    rows = session.exec(
        select(TopUp, Holder.name, Cluster.name).join(Holder, Holder.id == TopUp.holder_id).join(Cluster, Cluster.id == TopUp.cluster_id)
        .where(TopUp.council_id == actor.council_id).order_by(TopUp.created_at.desc(), TopUp.id.desc())
    ).all()
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


# --- what Stripe's events do ---------------------------------------------------------------------


def locked_top_up(session: Session, payment_intent_id: str | None) -> TopUp | None:
    """Return the top-up of a PaymentIntent, locked until the transaction ends, or None if it is not one of ours."""
    if not payment_intent_id:
        return None
    found = session.exec(select(TopUp.id).where(TopUp.payment_intent_id == payment_intent_id)).first()
    return lock_row(session, TopUp, found) if found is not None else None


def _from_metadata(session: Session, intent) -> TopUp | None:
    """Record a top-up Stripe paid that we made but never stored (the request that made it failed to commit)."""
    metadata = intent.get("metadata") or {}
    ids = [metadata.get(k) for k in ("council", "holder", "cluster")]
    if not all(isinstance(v, str) and v.isascii() and v.isdigit() for v in ids):
        return None
    council_id, holder_id, cluster_id = (int(v) for v in ids)
    holder, cluster = session.get(Holder, holder_id), session.get(Cluster, cluster_id)
    if holder is None or cluster is None or holder.council_id != council_id or cluster.council_id != council_id:
        return None
    if not isinstance(intent.get("amount"), int) or intent["amount"] <= 0:
        return None
    top_up = TopUp(council_id=council_id, holder_id=holder_id, cluster_id=cluster_id, payment_intent_id=intent["id"],
                   amount_pence=intent["amount"], methods=list(intent.get("payment_method_types") or []))
    session.add(top_up)
    session.flush()
    return lock_row(session, TopUp, top_up.id)


def note_event(top_up: TopUp, event_id: str) -> None:
    """Keep an event's id on the top-up it was about (its page reads how it was paid from those events)."""
    top_up.event_ids = [*top_up.event_ids, event_id]
    top_up.updated_at = utcnow()


def on_payment_succeeded(*, session: Session, event: stripe.Event) -> str:
    """Post a paid top-up into the holder's pool share (once per top-up)."""
    intent = event.data.object.to_dict()
    top_up = locked_top_up(session, intent["id"]) or _from_metadata(session, intent)
    if top_up is None:
        return "not a top-up made here: no effect"
    if top_up.status in (TopUpStatus.succeeded, TopUpStatus.refunded):
        return f"top-up {top_up.id} was already added: no effect"
    if intent.get("currency") != "gbp" or intent.get("amount") != top_up.amount_pence:
        return f"refused: top-up {top_up.id} was for {top_up.amount_pence} gbp pence, Stripe says {intent.get('amount')} {intent.get('currency')}"
    job = system_actor(session=session, council_id=top_up.council_id)
    to_share = _share_open(session, top_up)
    ledger.post_entry(
        session=session, actor=job, council_id=top_up.council_id, kind=EntryKind.topup,
        postings=[(TOPUPS_CODE, -top_up.amount_pence), (_destination(top_up, to_share), top_up.amount_pence)],
        idempotency_key=stripe_event_key(event_id=event.id, effect="" if to_share else WALLET_EFFECT),
        # Read by the member, their representative and the council's staff alike: no "you", and no name in the ledger.
        # "Money the member added" read oddly on the member's own statement: the words now name nobody.
        memo="Money added by card or Direct Debit" + ("" if to_share else ", kept in the wallet: a leaving member's share takes no more money"),
    )
    top_up.status = move_top_up(top_up.status, TopUpStatus.succeeded)
    top_up.failure_message = ""
    note_event(top_up, event.id)
    if not to_share:
        return f"top-up {top_up.id}: {top_up.amount_pence} pence added to the holder's wallet (no longer a member paying into the group)"
    return f"top-up {top_up.id}: {top_up.amount_pence} pence added to the pool share"


WALLET_EFFECT = "wallet"


def _share_open(session: Session, top_up: TopUp) -> bool:
    """Tell whether the top-up's share still takes money: an admitted or active member of an open group.

    Read under the group's lock, which settling leavers and closing the group hold (locks.py: the group
    before ledger accounts), so a share is never topped up just after it was returned.
    """
    cluster = lock_row(session, Cluster, top_up.cluster_id)
    if cluster.status not in OPEN:
        return False
    member = session.exec(select(Membership.id).where(
        Membership.cluster_id == top_up.cluster_id, Membership.holder_id == top_up.holder_id, Membership.status.in_(PAYABLE),
    )).first()
    return member is not None


def _destination(top_up: TopUp, to_share: bool) -> str:
    return pool_code(top_up.cluster_id, top_up.holder_id) if to_share else wallet_code(top_up.holder_id)


def _went_to_wallet(session: Session, top_up: TopUp) -> bool:
    """Tell whether a top-up's success was posted to the holder's wallet rather than the pool share."""
    keys = [stripe_event_key(event_id=event_id, effect=WALLET_EFFECT) for event_id in top_up.event_ids]
    return bool(keys) and session.exec(
        select(JournalEntry.id).where(JournalEntry.council_id == top_up.council_id, JournalEntry.idempotency_key.in_(keys))
    ).first() is not None


def on_payment_failed(*, session: Session, event: stripe.Event) -> str:
    """Record that a top-up's payment failed, with Stripe's reason; nothing is posted."""
    intent = event.data.object.to_dict()
    top_up = locked_top_up(session, intent["id"])
    if top_up is None:
        return "not a top-up made here: no effect"
    if top_up.status in (TopUpStatus.succeeded, TopUpStatus.refunded):
        return f"top-up {top_up.id} already succeeded (this failure came earlier): no effect"
    if top_up.status == TopUpStatus.cancelled:
        return f"top-up {top_up.id} was cancelled: no effect"
    error = intent.get("last_payment_error") or {}
    if top_up.status == TopUpStatus.waiting:
        top_up.status = move_top_up(top_up.status, TopUpStatus.failed)
    top_up.failure_message = (error.get("message") or "The payment did not go through.")[:500]
    note_event(top_up, event.id)
    return f"top-up {top_up.id}: payment failed"


def on_charge_paid_or_failed(*, session: Session, event: stripe.Event) -> str:
    """Keep a `charge.succeeded` or `charge.failed` on its top-up: it names how the person paid, which a
    `payment_intent.*` event of a recent API version does not (its `latest_charge` is only an id)."""
    charge = event.data.object.to_dict()
    top_up = locked_top_up(session, charge.get("payment_intent"))
    if top_up is None:
        return "not a top-up made here: no effect"
    if event.id not in top_up.event_ids:
        note_event(top_up, event.id)
    method = rules.method_used(charge)
    return f"top-up {top_up.id}: {'paid' if event.type == 'charge.succeeded' else 'tried'} by {method or 'a way Stripe did not name'}"


def on_charge_refunded(*, session: Session, event: stripe.Event) -> str:
    """Take a refunded top-up back out of the pool share, as far as the share holds it; record any shortfall."""
    charge = event.data.object.to_dict()
    top_up = locked_top_up(session, charge.get("payment_intent"))
    if top_up is None:
        return "not a top-up made here: no effect"
    if top_up.status in (TopUpStatus.waiting, TopUpStatus.failed):
        raise Deferred(f"top-up {top_up.id} has not been added to the pool yet")
    refunded_now = min(int(charge.get("amount_refunded") or 0), top_up.amount_pence)
    new = refunded_now - top_up.refunded_pence
    if new <= 0:
        return f"top-up {top_up.id}: this refund was already recorded: no effect"
    pool = _destination(top_up, not _went_to_wallet(session, top_up))  # where the money went: the share, or the wallet
    locked = ledger.lock_accounts(session=session, council_id=top_up.council_id, codes=[pool, TOPUPS_CODE])
    taken, short = rules.refund_split(new, locked[pool][1])
    if taken:
        job = system_actor(session=session, council_id=top_up.council_id)
        ledger.post_entry(
            session=session, actor=job, council_id=top_up.council_id, kind=EntryKind.topup_refund,
            postings=[(pool, -taken), (TOPUPS_CODE, taken)], idempotency_key=stripe_event_key(event_id=event.id),
            memo="Money added by card or Direct Debit, refunded",
        )
    top_up.refunded_pence = refunded_now
    top_up.shortfall_pence += short
    if refunded_now >= top_up.amount_pence:
        top_up.status = move_top_up(top_up.status, TopUpStatus.refunded)
    note_event(top_up, event.id)
    if short:
        return f"top-up {top_up.id}: {taken} pence taken back; the share lacked {short} pence (shortfall for the broker)"
    return f"top-up {top_up.id}: {taken} pence taken back from the pool share"
