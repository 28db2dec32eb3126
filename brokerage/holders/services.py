"""Reading and changing holder records, with the access rules and special-category data rules applied."""

from __future__ import annotations

from typing import AbstractSet, Iterable, Mapping

from sqlmodel import Session, select

from brokerage.access import STAFF, get_or_404
from brokerage.accounts.models import Role, User
from brokerage.accounts.services import active_broker, council_brokers
from brokerage.audit import log_access
from brokerage.audit.rules import SPECIAL_CATEGORY
from brokerage.errors import AlreadyDone, NotAllowed, NotFound, PowerRemoved, ValidationFailed
from brokerage.holders.models import Holder, Power, Representation, SensitiveDetail, SensitiveItem, Visibility
from brokerage.locks import insert_once
from brokerage.types import utcnow
from brokerage.vocabulary import COMMON_LANGUAGE_NAMES, SERVICE_NAMES

GOALS_MAX = 500
SENSITIVE_MAX = 120
ITEM_LABELS = {SensitiveItem.culture: "Culture", SensitiveItem.faith: "Faith", SensitiveItem.heritage: "Heritage"}
VISIBILITY_LABELS = {Visibility.nobody: "Nobody", Visibility.clusters: "People in my groups", Visibility.broker: "My broker"}
# The same choices as someone acting for the holder reads them.
THEIR_VISIBILITY_LABELS = {Visibility.nobody: "Nobody", Visibility.clusters: "People in their groups", Visibility.broker: "Their broker"}
# Who each context shows items to. "People in my groups" is the wider choice: it includes the broker.
CONTEXT_VISIBILITY = {
    "cluster": (Visibility.clusters,),
    "broker": (Visibility.broker, Visibility.clusters),
}


def represented_holder_ids(*, session: Session, actor: User, power: Power | None = None) -> list[int]:
    """Return the ids of the holders this representative is currently authorised for (in this power, when one is named)."""
    query = select(Representation.holder_id).where(Representation.representative_id == actor.id, Representation.revoked_at.is_(None))
    if power is not None:
        query = query.where(getattr(Representation, Power(power).column).is_(True))
    return sorted(session.exec(query))


def can_act_for(*, session: Session, actor: User, holder: Holder, power: Power | None = None) -> bool:
    """Tell whether the actor is the holder, or a representative the holder authorised (for this power, when one is named)."""
    if actor.council_id != holder.council_id:
        return False
    if actor.role == Role.holder:
        return actor.holder_id == holder.id
    if actor.role == Role.representative:
        return holder.id in represented_holder_ids(session=session, actor=actor, power=power)
    return False


# What each power lets a representative do, as "<name> no longer lets you ... for them" says it.
POWER_REMOVED_WORDS = {Power.money: "see their money", Power.groups: "vote or change their groups", Power.care: "manage their care"}


def refuse_lost_power(*, session: Session, actor: User, holder_ids: Iterable[int], power: Power, undone: str | None) -> None:
    """Raise PowerRemoved if the actor still represents one of these holders, only no longer with this power (`undone`: what did not happen)."""
    # Only a form that was sent says so (`undone` given): a page outside one's powers stays "Page not found", and
    # anyone who does not act for the person at all, or whose authority was ended, learns nothing either way.
    if undone is None or actor.role != Role.representative:
        return
    kept = sorted(set(represented_holder_ids(session=session, actor=actor)) & set(holder_ids))
    holder = session.exec(select(Holder).where(Holder.id.in_(kept), Holder.council_id == actor.council_id)
                          .order_by(Holder.name, Holder.id)).first() if kept else None
    if holder is not None:
        raise PowerRemoved(f"{holder.name} no longer lets you {POWER_REMOVED_WORDS[Power(power)]} for them, so {undone}.")


# Who sees a person's own finances: their weekly budget and what is left of it to pledge, their wallet and pool-share
# balances, statements, top-ups and unspent-money flags. The person and their council's brokers and officers see them;
# a representative only with the money power, whatever else they may do. What the group's care costs each member (the
# parts on a contract, a timesheet or a vote) and the pledges they make in the group are the group's business, seen by
# a representative with the groups or care power as the member sees them: they vote on that care or approve its weeks,
# and a part can be worked out from the total and the others' parts, so hiding it would promise a privacy the page
# cannot give (tried and undone on 2026-12-06).
def money_seen_by(*, session: Session, actor: User) -> frozenset[int] | None:
    """Return the holders whose own money the actor may see: None for staff (any holder of their council)."""
    if actor.role in STAFF:
        return None
    if actor.role == Role.holder:
        return frozenset({actor.holder_id}) if actor.holder_id else frozenset()
    if actor.role == Role.representative:
        return frozenset(represented_holder_ids(session=session, actor=actor, power=Power.money))
    return frozenset()


def may_see_money(*, session: Session, actor: User, holder: Holder) -> bool:
    """Tell whether the actor may see this holder's own money (see `money_seen_by`)."""
    if actor.council_id != holder.council_id:
        return False
    seen = money_seen_by(session=session, actor=actor)
    return seen is None or holder.id in seen


def powers_for(*, session: Session, actor: User, holder: Holder) -> frozenset[Power]:
    """Return what the actor may do for the holder: everything for the holder, what they chose for a representative, else nothing."""
    if actor.council_id != holder.council_id:
        return frozenset()
    if actor.role == Role.holder:
        return frozenset(Power) if actor.holder_id == holder.id else frozenset()
    if actor.role == Role.representative:
        row = session.exec(select(Representation).where(
            Representation.representative_id == actor.id, Representation.holder_id == holder.id, Representation.revoked_at.is_(None),
        )).first()
        return row.powers if row is not None else frozenset()
    return frozenset()


def get_holder(*, session: Session, actor: User, holder_id: int, power: Power | None = None) -> Holder:
    """Return a holder the actor may see: their own, one they represent (in this power, when named), or any in their council for staff."""
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    if actor.role in (Role.broker, Role.council_officer, Role.admin):
        return holder
    if actor.role in (Role.holder, Role.representative) and can_act_for(session=session, actor=actor, holder=holder, power=power):
        return holder
    raise NotFound()


def holders_for_representative(*, session: Session, actor: User, power: Power | None = None) -> list[Holder]:
    """Return the holders this representative acts for (in this power, when one is named)."""
    ids = represented_holder_ids(session=session, actor=actor, power=power)
    if not ids:
        return []
    return list(
        session.exec(select(Holder).where(Holder.id.in_(ids), Holder.council_id == actor.council_id).order_by(Holder.name))
    )


def stopped_for_representative(*, session: Session, actor: User) -> list[tuple[Holder, Representation]]:
    """Return the holders who stopped this representative acting for them and have not authorised them again, most recent first."""
    if actor.role != Role.representative:
        return []
    # Only the holder can stop a representative (`revoke_representative`), so the holder is who stopped them.
    return list(session.exec(
        select(Holder, Representation).join(Representation, Representation.holder_id == Holder.id)
        .where(Representation.representative_id == actor.id, Representation.revoked_at.is_not(None), Holder.council_id == actor.council_id)
        .order_by(Representation.revoked_at.desc(), Holder.name)
    ))


# --- the holder's own profile -------------------------------------------------------------------


def _holder_acted_for(session: Session, actor: User, holder_id: int, power: Power, undone: str | None = None) -> Holder:
    """Return the holder if the actor is them or their representative (with this power); staff get 403, others 404."""
    if actor.role in STAFF or actor.role == Role.admin:
        raise NotAllowed("Only the person, or someone they asked to act for them, can do this.")
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    if not can_act_for(session=session, actor=actor, holder=holder, power=power):
        refuse_lost_power(session=session, actor=actor, holder_ids=[holder.id], power=power, undone=undone)
        raise NotFound()
    return holder


def _details_of(session: Session, holder_id: int) -> dict[SensitiveItem, SensitiveDetail]:
    rows = session.exec(select(SensitiveDetail).where(SensitiveDetail.holder_id == holder_id))
    return {row.item: row for row in rows}


def get_profile(*, session: Session, actor: User, holder_id: int, undone: str | None = None) -> tuple[Holder, dict[SensitiveItem, SensitiveDetail]]:
    """Return a holder and all their sensitive details, for the holder or a representative who manages their care (`undone`: a sent form)."""
    holder = _holder_acted_for(session, actor, holder_id, Power.care, undone)
    return holder, _details_of(session, holder.id)


def _ordered_choice(current: list[str], chosen: Iterable[str]) -> list[str]:
    """Keep the order of codes already held (most fluent first), then add new ones in the order given."""
    chosen = list(dict.fromkeys(chosen))
    return [c for c in current if c in chosen] + [c for c in chosen if c not in current]


def update_profile(
    *,
    session: Session,
    actor: User,
    holder_id: int,
    languages: list[str],
    care_needs: list[str],
    goals: str,
    sensitive: Mapping[str | SensitiveItem, tuple[str, str | Visibility]] | None = None,
) -> Holder:
    """Change a holder's languages, care needs, goals and, with consent, culture, faith and heritage.

    Passing a non-empty value for a sensitive item records that the actor gave consent to store it
    now; an empty value deletes the item (consent withdrawn, data erased). Items not passed are kept.
    A representative needs the holder's leave to manage their care.
    """
    holder = _holder_acted_for(session, actor, holder_id, Power.care, "their profile was not changed")
    errors: dict[str, list[str]] = {}
    languages = [code.strip() for code in languages if code and code.strip()]
    care_needs = [token.strip() for token in care_needs if token and token.strip()]
    goals = (goals or "").strip()
    # Codes the council set that are not in our lists stay allowed, so saving never drops them.
    if any(code not in COMMON_LANGUAGE_NAMES and code not in holder.languages for code in languages):
        errors["languages"] = ["Choose languages from the list"]
    if any(token not in SERVICE_NAMES and token not in holder.care_needs for token in care_needs):
        errors["care_needs"] = ["Choose care needs from the list"]
    if len(goals) > GOALS_MAX:
        errors["goals"] = [f"Use {GOALS_MAX} characters or fewer"]
    changes: dict[SensitiveItem, tuple[str, Visibility | None]] = {}
    for key, (value, visibility) in (sensitive or {}).items():
        try:
            item = SensitiveItem(key)
        except ValueError:
            raise ValidationFailed({"": [f"{key!r} is not something we can store."]}) from None
        value = (value or "").strip()
        name = item.value
        if not value:
            changes[item] = ("", None)
            continue
        if len(value) > SENSITIVE_MAX:
            errors[name] = [f"Use {SENSITIVE_MAX} characters or fewer"]
        try:
            changes[item] = (value, Visibility(visibility))
        except ValueError:
            errors[f"{name}_visibility"] = ["Choose who can see this"]
    if errors:
        raise ValidationFailed(errors)

    holder.languages = _ordered_choice(holder.languages, languages)
    holder.care_needs = _ordered_choice(holder.care_needs, care_needs)
    holder.goals = goals
    session.add(holder)
    existing = _details_of(session, holder.id)
    now = utcnow()
    # Two saves at once (the holder and their representative) may both add the same item.
    clash = AlreadyDone(
        "These details were changed somewhere else at the same moment. Check them below and save again."
    )
    with insert_once(session, clash):
        for item, (value, visibility) in changes.items():
            row = existing.get(item)
            if not value:
                if row is not None:
                    session.delete(row)
                continue
            if row is None:
                row = SensitiveDetail(council_id=holder.council_id, holder_id=holder.id, item=item, value=value, visibility=visibility,
                                      consent_given_at=now, consent_recorded_by_id=actor.id)
            elif (row.value, row.visibility) != (value, visibility):
                # A new value or audience is a new consent, given by whoever ticked the box now.
                row.value, row.visibility = value, visibility
                row.consent_given_at, row.consent_recorded_by_id = now, actor.id
            session.add(row)
    return holder


# --- who sees which sensitive details -----------------------------------------------------------


def staff_audience(actor: User, *, broker_id: int | None, visibility: Visibility) -> bool:
    """Tell whether a broker or officer is among those the holder chose, as the profile form's hints promise them.

    "My broker": the holder's own broker and the council officers who check their work.
    "People in my groups": the other members and the holder's own broker; no officer, no other broker.
    """
    if broker_id is not None and actor.id == broker_id:
        return visibility in (Visibility.broker, Visibility.clusters)
    return actor.role == Role.council_officer and visibility == Visibility.broker


def details_visible_to(
    *, session: Session, actor: User, holder_ids: Iterable[int], group_mate_ids: AbstractSet[int] = frozenset(), context: str = "cluster"
) -> dict[int, list[tuple[str, str]]]:
    """Return, per holder, the (label, value) pairs they chose to show in this context; log staff reads.

    "cluster": items marked "People in my groups", shown to fellow members of a live group and the holder's broker.
    "broker": items marked "My broker" or "People in my groups", shown only to staff, and of them only to the
    audience the holder chose (`staff_audience`): their broker, and officers for "My broker" alone.
    Items marked "Nobody" are never returned; the holder and their representative read them with get_profile.

    `group_mate_ids` are the holders who share a live group with those the actor acts for (see
    `clusters.members.visible_holder_ids`), themselves included; the caller finds them, since groups belong to the
    clusters package. A holder or representative sees only these holders' items; staff ignore it.
    """
    if context not in CONTEXT_VISIBILITY:
        raise ValueError(f"unknown context {context!r}")
    staff = actor.role in STAFF
    if actor.role not in (Role.holder, Role.representative) and not staff:
        raise NotAllowed("Your account does not give you access to these details.")
    if context == "broker" and not staff:
        raise NotAllowed("Only the council's brokers and officers can see what people share with their broker.")
    ids = sorted({int(i) for i in holder_ids})
    if not staff:
        ids = [i for i in ids if i in group_mate_ids]
    if not ids:
        return {}
    rows = session.exec(
        select(SensitiveDetail, Holder.broker_id).join(Holder, Holder.id == SensitiveDetail.holder_id).where(
            SensitiveDetail.holder_id.in_(ids),
            SensitiveDetail.council_id == actor.council_id,
            SensitiveDetail.visibility.in_(CONTEXT_VISIBILITY[context]),
        )
    )
    if staff:
        rows = [(row, broker_id) for row, broker_id in rows if staff_audience(actor, broker_id=broker_id, visibility=row.visibility)]
    order = list(SensitiveItem)
    found: dict[int, list[tuple[str, str]]] = {}
    for row in sorted((row for row, _ in rows), key=lambda r: (r.holder_id, order.index(r.item))):
        found.setdefault(row.holder_id, []).append((ITEM_LABELS[row.item], row.value))
    if staff:
        for holder_id in found:
            log_access(session=session, actor=actor, holder_id=holder_id, what=SPECIAL_CATEGORY)
    return found


def representatives_of(*, session: Session, actor: User, holder_id: int) -> list[tuple[Representation, User]]:
    """Return the representatives a holder has authorised, for the holder, their representatives and staff."""
    holder = get_holder(session=session, actor=actor, holder_id=holder_id)
    return list(
        session.exec(
            select(Representation, User)
            .join(User, User.id == Representation.representative_id)
            .where(Representation.holder_id == holder.id, Representation.revoked_at.is_(None))
            .order_by(User.name)
        )
    )


def add_representation(*, session: Session, actor: User, holder_id: int, relationship: str, powers) -> Representation:
    """Let the actor, a representative, act for a holder in what the holder chose: the step of accepting the holder's invitation.

    The authority is the holder's invitation, which the caller has checked (brokerage.invitations). Someone the
    holder authorised before, and later stopped, is authorised again; someone still authorised gets the powers
    of this newer invitation.
    """
    if actor.role != Role.representative:
        raise NotAllowed("Only a representative's account can act for someone else.")
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    chosen = {Power(p) for p in powers}
    if not chosen:
        raise ValidationFailed({"powers": "Choose at least one thing they may do"})
    relationship = (relationship or "").strip()[:60]
    existing = session.exec(select(Representation).where(Representation.holder_id == holder.id, Representation.representative_id == actor.id)).first()
    if existing is not None:
        if existing.revoked_at is not None:
            existing.revoked_at = None
            existing.granted_at = utcnow()
        existing.relationship = relationship
        existing.set_powers(chosen)
        session.add(existing)
        session.flush()
        return existing
    representation = Representation(council_id=holder.council_id, representative_id=actor.id, holder_id=holder.id, relationship=relationship)
    representation.set_powers(chosen)
    # The same invitation accepted twice at once: the second finds the first already saved.
    with insert_once(session, AlreadyDone(f"You can already act for {holder.name}.")):
        session.add(representation)
    return representation


def change_powers(*, session: Session, actor: User, holder_id: int, representation_id: int, powers) -> Representation:
    """Change what a representative may do for the holder (the holder only)."""
    holder = get_holder(session=session, actor=actor, holder_id=holder_id)
    if actor.role != Role.holder or actor.holder_id != holder.id:
        raise NotAllowed("Only the person themselves can change who acts for them.")
    representation = session.get(Representation, representation_id)
    if representation is None or representation.holder_id != holder.id or representation.revoked_at is not None:
        raise NotFound()
    chosen = {Power(p) for p in powers}
    if not chosen:
        raise ValidationFailed({"powers": "Choose at least one thing they may do, or stop them acting for you"})
    representation.set_powers(chosen)
    session.add(representation)
    session.flush()
    return representation


def revoke_representative(*, session: Session, actor: User, holder_id: int, representation_id: int) -> Representation:
    """Stop a representative acting for the holder, from now on."""
    holder = get_holder(session=session, actor=actor, holder_id=holder_id)
    if actor.role != Role.holder or actor.holder_id != holder.id:
        raise NotAllowed("Only the person themselves can change who acts for them.")
    representation = session.get(Representation, representation_id)
    if representation is None or representation.holder_id != holder.id or representation.revoked_at is not None:
        raise NotFound()
    representation.revoked_at = utcnow()
    session.add(representation)
    session.flush()
    return representation


# --- the holder's broker ---------------------------------------------------------------------------


def broker_of(*, session: Session, holder: Holder) -> User | None:
    """Return the broker who looks after a holder, while that account is a broker of their council who can sign in."""
    return active_broker(session=session, user_id=holder.broker_id, council_id=holder.council_id)


def set_broker(*, session: Session, actor: User, holder_id: int, broker_id: int | None) -> Holder:
    """Name the broker who looks after a holder, or nobody (brokers only); the broker must work for the holder's council."""
    if actor.role != Role.broker:
        raise NotAllowed("Only brokers can say who looks after someone.")
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    if broker_id is not None and broker_id not in {b.id for b in council_brokers(session=session, council_id=holder.council_id)}:
        raise ValidationFailed({"broker_id": "Choose a broker from the list"})
    holder.broker_id = broker_id
    session.add(holder)
    session.flush()
    return holder
