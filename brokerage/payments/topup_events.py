"""What Stripe's events do to top-ups (registered in `wiring`): a paid PaymentIntent posts the money once,
into the pool share or, once the member is leaving, the wallet; a failure keeps Stripe's reason; a charge's
own event names how it was paid; a refund takes the money back out as far as the share still holds it.
See `topups` for the rules of where the money goes, and docs/top-ups.md.
"""

from __future__ import annotations

import stripe
from sqlmodel import Session, select

from brokerage.accounts.system import system_actor
from brokerage.clusters.models import Cluster
from brokerage.holders.models import Holder
from brokerage.ledger import services as ledger
from brokerage.ledger.kinds import EntryKind, stripe_event_key
from brokerage.ledger.rules import TOPUPS_CODE, pool_code, wallet_code
from brokerage.locks import lock_row
from brokerage.payments import rules
from brokerage.payments.events import Deferred
from brokerage.payments.models import TopUp
from brokerage.payments.rules import TopUpStatus, move_top_up
from brokerage.payments.topups import WALLET_EFFECT, in_wallet, takes_money
from brokerage.types import utcnow


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


def _share_open(session: Session, top_up: TopUp) -> bool:
    """Tell whether the top-up's share still takes money: an admitted or active member of an open group.

    Read under the group's lock, which settling leavers and closing the group hold (locks.py: the group
    before ledger accounts), so a share is never topped up just after it was returned.
    """
    return takes_money(session, top_up, lock=True)


def _destination(top_up: TopUp, to_share: bool) -> str:
    return pool_code(top_up.cluster_id, top_up.holder_id) if to_share else wallet_code(top_up.holder_id)


def _went_to_wallet(session: Session, top_up: TopUp) -> bool:
    """Tell whether a top-up's success was posted to the holder's wallet rather than the pool share."""
    return top_up.id in in_wallet(session=session, top_ups=[top_up])


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
