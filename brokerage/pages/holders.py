"""Read models of the holder pages that show several domains at once: the record page, who looked at it, and the data download."""

from __future__ import annotations

from dataclasses import dataclass, field
from sqlmodel import Session, select

from brokerage.access import STAFF
from brokerage.accounts.models import Council, Role, User
from brokerage.audit import log_access
from brokerage.audit.rules import RECORD
from brokerage.audit.services import LogPage, reads_of, reads_of_holder
from brokerage.clusters.models import Cluster, Membership, Proposal, Vote
from brokerage.clusters.members import LIVE_MEMBERSHIP
from brokerage.clusters.queries import memberships_of
from brokerage.errors import NotAllowed, NotFound
from brokerage.formatting import weeks_for_people
from brokerage.holders import services as holders
from brokerage.holders.models import Holder, Power, Representation, SensitiveDetail, SensitiveItem
from brokerage.holders.statements import holder_accounts
from brokerage.invitations import queries as invitations
from brokerage.ledger.queries import statement
from brokerage.pages import subject_access_parts as parts
from brokerage.types import utcnow
from brokerage.vocabulary import language_name, service_name

# --- the holder record page ---------------------------------------------------------------------


@dataclass
class HolderRecord:
    """What the holder record page shows to this actor."""

    holder: Holder
    memberships: list = field(default_factory=list)
    representatives: list[tuple[Representation, User]] = field(default_factory=list)
    # For the holder and their representative: every item, with who can see it.
    own_details: list[SensitiveDetail] = field(default_factory=list)
    # For staff: what the holder chose to show their broker.
    shared_details: list[tuple[str, str]] = field(default_factory=list)
    acting_for: bool = False
    # What the actor may do for the holder: everything for the holder, what they chose for a representative.
    powers: frozenset[Power] = frozenset()
    # For the holder: the people they asked to act for them who have not accepted yet.
    invitations: list[invitations.InvitationRow] = field(default_factory=list)
    # For brokers: whether the holder can sign in, or an invitation is waiting for them.
    sign_in: invitations.SignInState | None = None
    # The broker who looks after them, and (for a broker changing it) the council's brokers.
    broker: User | None = None
    brokers: list[User] = field(default_factory=list)

    def sees(self, power: Power) -> bool:
        """Tell whether the reader may see what this power covers: staff and the holder always, a representative if given it."""
        return not self.acting_for or power in self.powers


def holder_record(*, session: Session, actor: User, holder_id: int) -> HolderRecord:
    """Return a holder's record page for the actor, logging a staff read of the record and of any sensitive details."""
    holder = holders.get_holder(session=session, actor=actor, holder_id=holder_id)
    record = HolderRecord(
        holder=holder,
        representatives=holders.representatives_of(session=session, actor=actor, holder_id=holder.id),
        broker=holders.broker_of(session=session, holder=holder),
    )
    if actor.role == Role.broker:
        record.brokers = holders.council_brokers(session=session, council_id=holder.council_id)
    if actor.role in STAFF:
        log_access(session=session, actor=actor, holder_id=holder.id, what=RECORD)
        shared = holders.details_visible_to(session=session, actor=actor, holder_ids=[holder.id], context="broker")
        record.shared_details = shared.get(holder.id, [])
        if actor.role == Role.broker:
            record.sign_in = invitations.sign_in_state(session=session, actor=actor, holder_id=holder.id)
    elif holders.can_act_for(session=session, actor=actor, holder=holder):
        record.acting_for = True
        record.powers = holders.powers_for(session=session, actor=actor, holder=holder)
        if Power.care in record.powers:
            _, details = holders.get_profile(session=session, actor=actor, holder_id=holder.id)
            record.own_details = [details[item] for item in SensitiveItem if item in details]
        record.invitations = invitations.waiting_for_holder(session=session, actor=actor, holder_id=holder.id)
    # A representative sees the groups, and what is pledged to them, only with the groups power.
    if record.sees(Power.groups) or record.sees(Power.care) or record.sees(Power.money):
        record.memberships = memberships_of(session=session, actor=actor, holder_ids=[holder.id])
    if not record.sees(Power.groups):
        # A representative who manages the care, or sees the money, only reaches the groups' care or the person's own share
        # of each pool (the group page shows them nothing else).
        live = {status.value for status in LIVE_MEMBERSHIP}
        record.memberships = [(m, cluster) for m, cluster in record.memberships if m.status.value in live]
    return record


# --- who looked at the record -------------------------------------------------------------------


def record_views(*, session: Session, actor: User, holder_id: int, page: int = 1) -> tuple[Holder, LogPage]:
    """Return who on the staff looked at a holder's record, newest first, for the holder or their representative.

    Staff get 403 (officers read the whole log elsewhere); anyone else who may not act for the holder gets 404.
    """
    if actor.role in STAFF or actor.role == Role.admin:
        raise NotAllowed("This page is for the person themselves, or someone they asked to act for them.")
    holder = holders.get_holder(session=session, actor=actor, holder_id=holder_id)
    # The log names statements and care details looked at: for whoever may see both, as the download is.
    if not {Power.care, Power.money} <= holders.powers_for(session=session, actor=actor, holder=holder):
        raise NotFound()
    return holder, reads_of_holder(session=session, holder=holder, page=page)


# --- subject access request ---------------------------------------------------------------------


# A person reads this export: moments in England's time, still ISO 8601 with the offset so nothing is lost.
_when = parts.when
_money = parts.money


def subject_access_export(*, session: Session, actor: User, holder_id: int) -> dict:
    """Collect everything carepool holds about a holder, for the holder or a representative who manages their care and may see their money."""
    holder, details = holders.get_profile(session=session, actor=actor, holder_id=holder_id)
    # It holds their pledges, statements and what they pay: their money, said here rather than left to the ledger's own check.
    if not holders.may_see_money(session=session, actor=actor, holder=holder):
        raise NotFound()
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
        "postcode": holder.postcode,
        "postcode_district": holder.postcode_district,
        "location": {"lat": holder.lat, "lon": holder.lon},
        "email": holder.email,
        "phone": holder.phone,
        "languages": [{"code": code, "name": language_name(code)} for code in holder.languages],
        "care_needs": [{"code": token, "name": service_name(token)} for token in holder.care_needs],
        "goals": holder.goals,
        "created_at": _when(holder.created_at),
    }
    sign_in_accounts = [
        {"name": u.name, "email": u.email, "role": u.role.value, "created_at": _when(u.created_at), "last_sign_in_at": _when(u.last_sign_in_at)}
        for u in session.exec(select(User).where(User.holder_id == holder.id).order_by(User.id))
    ]
    sensitive = [
        {
            "item": item.value,
            "label": holders.ITEM_LABELS[item],
            "value": details[item].value,
            "visibility": details[item].visibility.value,
            "who_can_see": holders.VISIBILITY_LABELS[details[item].visibility],
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
            # What the holder let them do is held about the holder too: in the holder's own words.
            "may": [power.label for power in Power if power in r.powers],
            "granted_at": _when(r.granted_at),
            "revoked_at": _when(r.revoked_at),
        }
        for r in session.exec(select(Representation).where(Representation.holder_id == holder.id).order_by(Representation.granted_at, Representation.id))
    ]
    memberships = [
        {
            "group": cluster.name,
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
            "group": cluster.name,
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
                "group": cluster_names.get(account.cluster_id) if account.cluster_id else None,
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
        for row, user in reads_of(session=session, actor=actor, holder_id=holder.id)
    ]
    care_visits, care_costs = parts.care(session=session, holder=holder)
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
        "top_ups": parts.top_ups(session=session, holder=holder, person=person),
        "care_visits": care_visits,
        "care_costs": care_costs,
        "contracts": parts.contracts(session=session, holder=holder),
        "access_log": access_log,
    }
