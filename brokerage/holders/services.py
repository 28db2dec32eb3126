"""Reading and changing holder records, with the access rules and special-category data rules applied."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Iterable, Mapping

from sqlmodel import Session, select

from brokerage.access import STAFF, get_or_404, same_council
from brokerage.accounts.models import Council, Role, User
from brokerage.errors import AlreadyDone, NotAllowed, NotFound, ValidationFailed
from brokerage.formatting import LANGUAGE_NAMES, SERVICE_NAMES, language_name, pounds, service_name, weeks_for_people
from brokerage.holders.models import Holder, Representation, SensitiveDetail, SensitiveItem, Visibility
from brokerage import clock
from brokerage.locks import insert_once, lock_row
from brokerage.types import utcnow

GOALS_MAX = 500
SENSITIVE_MAX = 120
ITEM_LABELS = {SensitiveItem.culture: "Culture", SensitiveItem.faith: "Faith", SensitiveItem.heritage: "Heritage"}
VISIBILITY_LABELS = {Visibility.nobody: "Nobody", Visibility.clusters: "People in my groups", Visibility.broker: "My broker"}
# Who each context shows items to. "People in my groups" is the wider choice: it includes the broker.
CONTEXT_VISIBILITY = {
    "cluster": (Visibility.clusters,),
    "broker": (Visibility.broker, Visibility.clusters),
}
# Memberships that make two holders "people in my groups" (kept in step with clusters.services.LIVE_MEMBERSHIP).
LIVE_MEMBERSHIP = ("admitted", "active", "leaving")
SPECIAL_CATEGORY = "special-category data"


def represented_holder_ids(*, session: Session, actor: User) -> list[int]:
    """Return the ids of the holders this representative is currently authorised for."""
    rows = session.exec(
        select(Representation.holder_id).where(
            Representation.representative_id == actor.id, Representation.revoked_at.is_(None)
        )
    )
    return sorted(rows)


def can_act_for(*, session: Session, actor: User, holder: Holder) -> bool:
    """Tell whether the actor is the holder, or a representative the holder authorised."""
    if actor.council_id != holder.council_id:
        return False
    if actor.role == Role.holder:
        return actor.holder_id == holder.id
    if actor.role == Role.representative:
        return holder.id in represented_holder_ids(session=session, actor=actor)
    return False


def get_holder(*, session: Session, actor: User, holder_id: int) -> Holder:
    """Return a holder the actor may see: their own, one they represent, or any in their council for staff."""
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    if actor.role in (Role.broker, Role.council_officer, Role.admin):
        return holder
    if actor.role in (Role.holder, Role.representative) and can_act_for(session=session, actor=actor, holder=holder):
        return holder
    raise NotFound()


def list_holders(*, session: Session, actor: User) -> list[Holder]:
    """Return the holders of the actor's council, for staff."""
    if actor.role not in (Role.broker, Role.council_officer):
        raise NotFound()
    return list(session.exec(select(Holder).where(Holder.council_id == actor.council_id).order_by(Holder.name)))


def holders_for_representative(*, session: Session, actor: User) -> list[Holder]:
    """Return the holders this representative acts for."""
    ids = represented_holder_ids(session=session, actor=actor)
    if not ids:
        return []
    return list(
        session.exec(select(Holder).where(Holder.id.in_(ids), Holder.council_id == actor.council_id).order_by(Holder.name))
    )


# --- the holder's own profile -------------------------------------------------------------------


def _holder_acted_for(session: Session, actor: User, holder_id: int) -> Holder:
    """Return the holder if the actor is them or their representative; staff get 403, others 404."""
    if actor.role in STAFF or actor.role == Role.admin:
        raise NotAllowed("Only the person, or someone they asked to act for them, can do this.")
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    if not can_act_for(session=session, actor=actor, holder=holder):
        raise NotFound()
    return holder


def _details_of(session: Session, holder_id: int) -> dict[SensitiveItem, SensitiveDetail]:
    rows = session.exec(select(SensitiveDetail).where(SensitiveDetail.holder_id == holder_id))
    return {row.item: row for row in rows}


def get_profile(*, session: Session, actor: User, holder_id: int) -> tuple[Holder, dict[SensitiveItem, SensitiveDetail]]:
    """Return a holder and all their sensitive details, for the holder or their representative."""
    holder = _holder_acted_for(session, actor, holder_id)
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
    """
    holder = _holder_acted_for(session, actor, holder_id)
    errors: dict[str, list[str]] = {}
    languages = [code.strip() for code in languages if code and code.strip()]
    care_needs = [token.strip() for token in care_needs if token and token.strip()]
    goals = (goals or "").strip()
    # Codes the council set that are not in our lists stay allowed, so saving never drops them.
    if any(code not in LANGUAGE_NAMES and code not in holder.languages for code in languages):
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


def _group_mate_ids(session: Session, own_ids: list[int]) -> set[int]:
    """Return the holders who share a live cluster membership with any of these holders (themselves included)."""
    from brokerage.clusters.models import Membership

    if not own_ids:
        return set()
    clusters = select(Membership.cluster_id).where(Membership.holder_id.in_(own_ids), Membership.status.in_(LIVE_MEMBERSHIP))
    rows = session.exec(select(Membership.holder_id).where(Membership.cluster_id.in_(clusters), Membership.status.in_(LIVE_MEMBERSHIP)))
    return set(rows)


# TRANSITIONAL (core branch): `group_mate_ids` as the people branch defines it; take that branch's version at the merge.
def details_visible_to(
    *, session: Session, actor: User, holder_ids: list[int], context: str = "cluster", group_mate_ids: set[int] | None = None
) -> dict[int, list[tuple[str, str]]]:
    """Return, per holder, the (label, value) pairs they chose to show in this context; log staff reads.

    "cluster": items marked "People in my groups", shown to fellow members of a live cluster (and to staff).
    "broker": items marked "My broker" or "People in my groups", shown only to brokers and council officers.
    Items marked "Nobody" are never returned; the holder and their representative read them with get_profile.
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
        own = [actor.holder_id] if actor.role == Role.holder and actor.holder_id else represented_holder_ids(session=session, actor=actor)
        mates = _group_mate_ids(session, own) if group_mate_ids is None else group_mate_ids
        ids = [i for i in ids if i in mates]
    if not ids:
        return {}
    rows = session.exec(
        select(SensitiveDetail).where(
            SensitiveDetail.holder_id.in_(ids),
            SensitiveDetail.council_id == actor.council_id,
            SensitiveDetail.visibility.in_(CONTEXT_VISIBILITY[context]),
        )
    )
    order = list(SensitiveItem)
    found: dict[int, list[tuple[str, str]]] = {}
    for row in sorted(rows, key=lambda r: (r.holder_id, order.index(r.item))):
        found.setdefault(row.holder_id, []).append((ITEM_LABELS[row.item], row.value))
    if staff:
        from brokerage.audit import log_access

        for holder_id in found:
            log_access(session=session, actor=actor, holder_id=holder_id, what=SPECIAL_CATEGORY)
    return found


# --- the holder record page ---------------------------------------------------------------------


@dataclass
class HolderRecord:
    """What the holder record page shows to this actor."""

    holder: Holder
    memberships: list = field(default_factory=list)
    # For the holder and their representative: every item, with who can see it.
    own_details: list[SensitiveDetail] = field(default_factory=list)
    # For staff: what the holder chose to show their broker.
    shared_details: list[tuple[str, str]] = field(default_factory=list)
    acting_for: bool = False


def holder_record(*, session: Session, actor: User, holder_id: int) -> HolderRecord:
    """Return a holder's record page for the actor, logging a staff read of the record and of any sensitive details."""
    from brokerage.audit import log_access
    from brokerage.clusters.queries import memberships_of

    holder = get_holder(session=session, actor=actor, holder_id=holder_id)
    record = HolderRecord(holder=holder, memberships=memberships_of(session=session, actor=actor, holder_ids=[holder.id]))
    if actor.role in STAFF:
        log_access(session=session, actor=actor, holder_id=holder.id, what="record")
        record.shared_details = details_visible_to(session=session, actor=actor, holder_ids=[holder.id], context="broker").get(holder.id, [])
    elif can_act_for(session=session, actor=actor, holder=holder):
        record.acting_for = True
        details = _details_of(session, holder.id)
        record.own_details = [details[item] for item in SensitiveItem if item in details]
    return record


# --- subject access request ---------------------------------------------------------------------


def _when(value: datetime | date | None) -> str | None:
    # A person reads this export: moments in England's time, still ISO 8601 with the offset so nothing is lost.
    if isinstance(value, datetime):
        value = clock.london(value)
    return value.isoformat() if value is not None else None


def _money(pence: int) -> dict:
    return {"pence": pence, "pounds": pounds(pence)}


def subject_access_export(*, session: Session, actor: User, holder_id: int) -> dict:
    """Collect everything carepool holds about a holder, for the holder or their representative."""
    from brokerage.audit.models import AccessLog
    from brokerage.clusters.models import Cluster, Membership, Proposal, Vote
    from brokerage.ledger.services import holder_accounts, statement

    holder = _holder_acted_for(session, actor, holder_id)
    council = session.get(Council, holder.council_id)

    def person(user_id: int | None) -> str | None:
        if user_id is None:
            return None
        user = session.get(User, user_id)
        return f"{user.name} ({user.role.label})" if user else f"account {user_id}"

    profile = {
        "id": holder.id,
        "name": holder.name,
        "council": council.name if council else None,
        "weekly_allocation": _money(holder.weekly_allocation_pence),
        "postcode_district": holder.postcode_district,
        "location": {"lat": holder.lat, "lon": holder.lon},
        "languages": [{"code": code, "name": language_name(code)} for code in holder.languages],
        "care_needs": [{"code": token, "name": service_name(token)} for token in holder.care_needs],
        "goals": holder.goals,
        "created_at": _when(holder.created_at),
    }
    sign_in_accounts = [
        {"name": u.name, "email": u.email, "role": u.role.value, "created_at": _when(u.created_at), "last_sign_in_at": _when(u.last_sign_in_at)}
        for u in session.exec(select(User).where(User.holder_id == holder.id).order_by(User.id))
    ]
    details = _details_of(session, holder.id)
    sensitive = [
        {
            "item": item.value,
            "label": ITEM_LABELS[item],
            "value": details[item].value,
            "visibility": details[item].visibility.value,
            "who_can_see": VISIBILITY_LABELS[details[item].visibility],
            "consent_given_at": _when(details[item].consent_given_at),
            "consent_recorded_by": person(details[item].consent_recorded_by_id),
        }
        for item in SensitiveItem
        if item in details
    ]
    representations = [
        {
            "representative": person(r.representative_id),
            "relationship": r.relationship,
            "granted_at": _when(r.granted_at),
            "revoked_at": _when(r.revoked_at),
        }
        for r in session.exec(select(Representation).where(Representation.holder_id == holder.id).order_by(Representation.granted_at, Representation.id))
    ]
    memberships = [
        {
            "cluster": cluster.name,
            "status": membership.status.value,
            "weekly_pledge": _money(membership.weekly_pledge_pence),
            "start_date": _when(membership.start_date),
            "notice_date": _when(membership.notice_date),
            "leaves_on": _when(membership.leaves_on),
            "created_at": _when(membership.created_at),
        }
        for membership, cluster in session.exec(
            select(Membership, Cluster)
            .join(Cluster, Cluster.id == Membership.cluster_id)
            .where(Membership.holder_id == holder.id)
            .order_by(Membership.created_at, Membership.id)
        )
    ]
    votes = [
        {
            "proposal": proposal.title,
            "cluster": cluster.name,
            "choice": vote.choice.value,
            "cast_by": person(vote.cast_by_id),
            "cast_at": _when(vote.cast_at),
        }
        for vote, proposal, cluster in session.exec(
            select(Vote, Proposal, Cluster)
            .join(Proposal, Proposal.id == Vote.proposal_id)
            .join(Cluster, Cluster.id == Proposal.cluster_id)
            .where(Vote.holder_id == holder.id)
            .order_by(Vote.cast_at, Vote.id)
        )
    ]
    cluster_names = dict(session.exec(select(Cluster.id, Cluster.name).where(Cluster.council_id == holder.council_id)).all())
    money = []
    for account in holder_accounts(session=session, actor=actor, holder_id=holder.id):
        sheet = statement(session=session, actor=actor, council_id=holder.council_id, code=account.code)
        money.append(
            {
                "account": account.code,
                "kind": account.account_type.value,
                "cluster": cluster_names.get(account.cluster_id) if account.cluster_id else None,
                "balance": _money(sheet.closing),
                "postings": [
                    {
                        "entry_id": line.entry_id,
                        "at": _when(line.at),
                        "kind": line.kind,
                        "memo": weeks_for_people(line.memo),
                        "amount": _money(line.amount),
                        "balance_after": _money(line.balance),
                    }
                    for line in sheet.lines
                ],
            }
        )
    access_log = [
        {"who": f"{user.name} ({user.role.label})", "at": _when(row.at), "what": row.what}
        for row, user in session.exec(
            select(AccessLog, User).join(User, User.id == AccessLog.actor_id).where(AccessLog.holder_id == holder.id).order_by(AccessLog.at, AccessLog.id)
        )
    ]
    return {
        "exported_at": _when(utcnow()),
        "exported_by": person(actor.id),
        "profile": profile,
        "sign_in_accounts": sign_in_accounts,
        "sensitive_details": sensitive,
        "representations": representations,
        "memberships": memberships,
        "votes": votes,
        "ledger": money,
        "access_log": access_log,
    }


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


def authorise_representative(*, session: Session, actor: User, holder_id: int, email: str, relationship: str) -> Representation:
    """Let a holder authorise a family member or carer (who has a representative account) to act for them."""
    holder = get_holder(session=session, actor=actor, holder_id=holder_id)
    if actor.role != Role.holder or actor.holder_id != holder.id:
        raise NotAllowed("Only the person themselves can choose who acts for them.")
    rep = session.exec(select(User).where(User.email == email.strip().lower())).first()
    if rep is None or rep.role != Role.representative or rep.council_id != holder.council_id:
        raise ValidationFailed({"email": "There is no representative account with this email address. Ask your broker to set one up."})
    existing = session.exec(select(Representation).where(Representation.holder_id == holder.id, Representation.representative_id == rep.id)).first()
    if existing is not None and existing.revoked_at is None:
        raise ValidationFailed({"email": f"{rep.name} can already act for you."})
    if existing is not None:
        existing.revoked_at = None
        existing.granted_at = utcnow()
        existing.relationship = relationship.strip()[:60]
        session.add(existing)
        session.flush()
        return existing
    representation = Representation(council_id=holder.council_id, representative_id=rep.id, holder_id=holder.id, relationship=relationship.strip()[:60])
    # The same form sent twice at once: the second finds the first already saved.
    with insert_once(session, AlreadyDone(f"{rep.name} can already act for you.", field="email")):
        session.add(representation)
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


def set_allocation(*, session: Session, actor: User, holder_id: int, weekly_allocation_pence: int) -> Holder:
    """Set a holder's weekly direct payment (brokers, for the council); never below what they already pledge."""
    from brokerage.clusters.models import Membership, MembershipStatus

    if actor.role != Role.broker:
        raise NotAllowed("Only a broker can change a weekly budget.")
    holder = get_holder(session=session, actor=actor, holder_id=holder_id)
    if isinstance(weekly_allocation_pence, bool) or not isinstance(weekly_allocation_pence, int) or weekly_allocation_pence < 0:
        raise ValidationFailed({"allocation": "Enter an amount in pounds, like 250 or 250.50"})
    # The holder row guards "pledges within the allocation" (locks.py): a pledge being raised at
    # this moment either commits first and is counted here, or waits and sees the new budget.
    holder = lock_row(session, Holder, holder.id)
    pledged = sum(
        session.exec(
            select(Membership.weekly_pledge_pence).where(Membership.holder_id == holder.id, Membership.status != MembershipStatus.left)
        )
    )
    if weekly_allocation_pence < pledged:
        raise ValidationFailed({"allocation": f"{holder.name} pledges {pounds(pledged)} a week to groups. Lower the pledges first."})
    holder.weekly_allocation_pence = weekly_allocation_pence
    session.add(holder)
    session.flush()
    return holder
