"""Inviting people: a broker invites a holder or a provider, a holder someone to act for them, an administrator a broker or an officer.

Each invitation's link carries a random token that is stored only as its SHA-256 (rules.py). Sending it
again gives a new link and the old one stops working; cancelling stops it; it runs out after
INVITATION_DAYS. Accepting is in `accepting`. They flush and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlmodel import Session, or_, select

from brokerage.access import get_or_404, same_council
from brokerage.accounts.models import Council, Role, User
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.validation import person_name_problem
from brokerage.holders.models import Holder, Power, Representation
from brokerage.invitations import messages, rules
from brokerage.invitations.errors import BadInvitationMove, InvitationClash
from brokerage.invitations.models import Invitation
from brokerage.invitations.rules import OWN_ADDRESS_KINDS, RECORD_KINDS, STAFF_KINDS, InvitationKind, InvitationStatus, move_invitation
from brokerage.locks import lock_name, lock_row
from brokerage.mail import services as mail
from brokerage.providers.models import Provider
from brokerage.types import utcnow


@dataclass
class Sent:
    """An invitation just made or sent again, and the link to pass on by hand when it could not be emailed (shown once)."""

    invitation: Invitation
    link: str | None = None


def invitation_days() -> int:
    """Return how many days a new invitation's link works (the INVITATION_DAYS setting)."""
    return int(current_app.config.get("INVITATION_DAYS", 7))


# --- making and sending ---------------------------------------------------------------------------


def _new_link(invitation: Invitation, now: datetime) -> str:
    """Give the invitation a new token, replacing any before it, and return the token."""
    token = rules.new_token()
    invitation.token_hash = rules.hash_token(token)
    invitation.expires_at = rules.expiry(now, days=invitation_days())
    invitation.last_sent_at = now
    return token


def _deliver(session: Session, invitation: Invitation, token: str, sender: User) -> Sent:
    """Email the invitation's link, or return it to be passed on by hand when only a phone number is known."""
    link = mail.link("invitations.accept", token=token)
    if not invitation.email:
        return Sent(invitation=invitation, link=link)
    council = session.get(Council, invitation.council_id).name
    days = invitation_days()
    if invitation.kind == InvitationKind.holder:
        message = messages.holder_invitation(to=invitation.email, name=invitation.name, council=council, broker=sender.name, link=link, days=days)
    elif invitation.kind == InvitationKind.provider:
        message = messages.provider_invitation(to=invitation.email, name=invitation.name, council=council, broker=sender.name, link=link, days=days)
    elif invitation.kind == InvitationKind.representative:
        holder = session.get(Holder, invitation.holder_id)
        message = messages.representative_invitation(
            to=invitation.email, name=invitation.name, holder=holder.name, council=council, link=link, days=days,
            powers=[Power(p).label_for_others for p in invitation.powers],
        )
    else:
        message = messages.staff_invitation(to=invitation.email, name=invitation.name, role=invitation.kind.label, council=council, link=link, days=days)
    mail.send(session=session, message=message)
    return Sent(invitation=invitation, link=None)


def _create(session: Session, actor: User, invitation: Invitation) -> Sent:
    now = utcnow()
    token = _new_link(invitation, now)
    invitation.invited_by_id = actor.id
    invitation.created_at = now
    session.add(invitation)
    session.flush()
    return _deliver(session, invitation, token, actor)


def _settle(invitation: Invitation, now: datetime) -> None:
    """Record that a pending invitation's link has run out, when it has."""
    if rules.status_at(invitation.status, invitation.expires_at, now) == InvitationStatus.expired and invitation.status == InvitationStatus.pending:
        invitation.status = InvitationStatus(move_invitation(invitation.status, InvitationStatus.expired))


def _refuse_a_second(session: Session, query, message: str, *, field: str = "email") -> None:
    """Refuse a new invitation while one like it is still waiting; one that has run out is recorded as expired instead."""
    now = utcnow()
    for waiting in session.exec(query.where(Invitation.status == InvitationStatus.pending)):
        _settle(waiting, now)
        if waiting.status == InvitationStatus.pending:
            raise InvitationClash(message, field=field)
        session.add(waiting)


def _lock_address(session: Session, email: str) -> None:
    """Make requests inviting someone at this address take turns until the transaction ends.

    No row owns "one waiting invitation per address", and two requests checking it at once would each
    see no other invitation (an invitation not yet committed is invisible to the other request).
    """
    lock_name(session, f"invitation-address:{email}")


def _refuse_a_shared_address(session: Session, email: str, query, *, instead: str = "") -> None:
    """Refuse a second waiting invitation that would make a new account with this address (a holder's, a provider's or staff's).

    Each account has its own email address: whichever was accepted first, the other link would lead to
    a page that cannot make the account. A representative's invitation may share an address, as one
    representative's account acts for several people. The message names nobody: the other invitation
    may be another council's. The address is locked first (_lock_address), so two requests cannot both
    pass the check.
    """
    _lock_address(session, email)
    _refuse_a_second(
        session, query.where(Invitation.kind.in_(OWN_ADDRESS_KINDS), Invitation.email == email),
        "An invitation to another person at this email address is already waiting, and each account needs its own "
        f"email address. Ask them for another address{instead}.",
    )


def _email_taken(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email)).first()


def _check_email(errors: dict, email: str, *, required: bool = True) -> None:
    if not email:
        if required:
            errors["email"] = "Enter their email address"
        return
    problem = rules.email_problem(email)
    if problem:
        errors["email"] = problem


def _check_name(errors: dict, name: str) -> None:
    if problem := person_name_problem(name, empty="Enter their name", most=rules.NAME_MAX):
        errors["name"] = problem


def invite_holder(*, session: Session, actor: User, holder_id: int, email: str | None = None, phone: str | None = None) -> Sent:
    """Invite a holder of the broker's council to make their own account, by email or, with only a phone number, by a link to pass on.

    For the council's brokers (the holder page's "Invite them to sign in", and the "add a holder" form once
    it has saved the holder). With an email address the link is emailed and `Sent.link` is None; with only
    a phone number nothing is sent and `Sent.link` is the link for the broker to pass on, shown once.
    Refused with ValidationFailed (a field: email or phone) or InvitationClash when the holder already has an
    account or an invitation is still waiting.
    """
    return _invite_to_record(session, actor, Holder, holder_id, kind=InvitationKind.holder, email=email, phone=phone,
                             who="budget holders", what="person", manage_from="the list of invitations")


def invite_provider(*, session: Session, actor: User, provider_id: int, email: str | None = None, phone: str | None = None) -> Sent:
    """Invite a provider or personal assistant of the broker's council to make the account that works for it, as a holder is invited.

    By email, or with only a phone number by a link for the broker to pass on (`Sent.link`, shown once). The
    provider's row is locked before the checks, as accepting locks it, so one provider never gets two accounts.
    Refused with ValidationFailed (a field: email or phone) or InvitationClash when the provider already has an
    account or an invitation is still waiting.
    """
    return _invite_to_record(session, actor, Provider, provider_id, kind=InvitationKind.provider, email=email, phone=phone,
                             who="providers", what="provider", manage_from="their page")


def _invite_to_record(session: Session, actor: User, model, record_id: int, *, kind: InvitationKind, email: str | None, phone: str | None,
                      who: str, what: str, manage_from: str) -> Sent:
    """Invite whom a holder or provider record stands for to make the one account linked to it (the council's brokers).

    The account and the invitation point at the record by `holder_id` or `provider_id` (the kind's name). The
    record's row is taken before the checks, as accepting takes it, so an acceptance cannot slip in between.
    """
    if actor.role != Role.broker:
        raise NotAllowed(f"Only the council's brokers can invite {who}.")
    record = get_or_404(session, actor, model, record_id, what=what)
    email, phone = rules.normalise_email(email), rules.normalise_phone(phone)
    errors: dict[str, str] = {}
    _check_email(errors, email, required=False)
    if phone and rules.phone_problem(phone):
        errors["phone"] = rules.phone_problem(phone)
    if not email and not phone:
        errors["email"] = "Enter their email address, or a phone number if they have no email"
    if errors:
        raise ValidationFailed(errors)
    record = lock_row(session, model, record.id)
    link = f"{kind.value}_id"
    if session.exec(select(User.id).where(getattr(User, link) == record.id)).first() is not None:
        raise InvitationClash(f"{record.name} already has an account. They can sign in, or choose “Forgotten your password?” on the sign-in page.")
    if email and _email_taken(session, email) is not None:
        raise ValidationFailed({"email": "Another account already uses this email address"})
    _refuse_a_second(
        session, select(Invitation).where(Invitation.kind == kind, getattr(Invitation, link) == record.id),
        f"An invitation to {record.name} is already waiting. Send it again or cancel it from {manage_from}.",
    )
    if email:
        column = getattr(Invitation, link)
        _refuse_a_shared_address(session, email, select(Invitation).where(or_(column.is_(None), column != record.id)),
                                 instead=", or give only their phone number to pass the link on by hand")
    invitation = Invitation(council_id=record.council_id, kind=kind, name=record.name, email=email or None, phone=phone or None,
                            **{link: record.id})
    return _create(session, actor, invitation)


def invite_representative(
    *, session: Session, actor: User, holder_id: int, name: str, email: str, relationship: str = "", powers=(),
) -> Sent:
    """Let a holder ask a family member or carer, by email, to act for them in what they choose (Power)."""
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    if actor.role != Role.holder or actor.holder_id != holder.id:
        if actor.role == Role.representative:
            raise NotAllowed("Only the person themselves can choose who acts for them.")
        raise NotFound()
    name, email, relationship = (name or "").strip(), rules.normalise_email(email), (relationship or "").strip()
    errors: dict[str, str] = {}
    _check_name(errors, name)
    _check_email(errors, email)
    if email and email == actor.email:
        errors["email"] = "Enter the email address of the person you are asking, not your own"
    if len(relationship) > rules.RELATIONSHIP_MAX:
        errors["relationship"] = f"Use {rules.RELATIONSHIP_MAX} characters or fewer"
    try:
        chosen = sorted({Power(p) for p in powers}, key=list(Power).index)
    except ValueError:
        chosen = None
        errors["powers"] = "Choose from the list"
    if chosen == []:
        errors["powers"] = "Choose at least one thing they may do"
    if errors:
        raise ValidationFailed(errors)
    someone = _email_taken(session, email)
    if someone is not None and session.exec(select(Representation.id).where(
        Representation.holder_id == holder.id, Representation.representative_id == someone.id, Representation.revoked_at.is_(None),
    )).first() is not None:
        raise ValidationFailed({"email": f"{someone.name} can already act for you. You can change what they may do on your page"})
    _refuse_a_second(
        session, select(Invitation).where(
            Invitation.kind == InvitationKind.representative, Invitation.holder_id == holder.id, Invitation.email == email),
        "An invitation to this email address is already waiting. You can send it again or cancel it on your page.",
    )
    invitation = Invitation(council_id=holder.council_id, kind=InvitationKind.representative, name=name, email=email, holder_id=holder.id,
                            relationship=relationship, powers=[p.value for p in chosen])
    return _create(session, actor, invitation)


def invite_staff(*, session: Session, actor: User, council_id: int | None, role: Role | str, name: str, email: str) -> Sent:
    """Let an administrator invite a broker or a council officer of a council, by email."""
    if actor.role != Role.admin:
        raise NotAllowed("Only administrators can invite brokers and council officers.")
    name, email = (name or "").strip(), rules.normalise_email(email)
    errors: dict[str, str] = {}
    _check_name(errors, name)
    _check_email(errors, email)
    council = session.get(Council, council_id) if council_id else None
    if council is None:
        errors["council_id"] = "Choose a council from the list"
    try:
        kind = InvitationKind(getattr(role, "value", role))
    except ValueError:
        kind = None
    if kind not in STAFF_KINDS:
        errors["role"] = "Choose broker or council officer"
    if errors:
        raise ValidationFailed(errors)
    _lock_address(session, email)  # before the checks, so the staff check below is under it too
    if _email_taken(session, email) is not None:
        raise ValidationFailed({"email": "Another account already uses this email address"})
    _refuse_a_second(
        session, select(Invitation).where(Invitation.kind.in_(STAFF_KINDS), Invitation.email == email),
        "An invitation to this email address is already waiting. Send it again or cancel it from the list below.",
    )
    _refuse_a_shared_address(session, email, select(Invitation).where(Invitation.kind.in_(RECORD_KINDS)))
    return _create(session, actor, Invitation(council_id=council.id, kind=kind, name=name, email=email))


# --- sending again and cancelling -------------------------------------------------------------------


def managed_invitation(*, session: Session, actor: User, invitation_id: int) -> Invitation:
    """Return an invitation the actor may send again or cancel, or raise NotFound exactly as for a missing one.

    A holder's or a provider's invitation: the council's brokers. Someone asked to act for a holder: that holder. A broker's
    or an officer's: administrators.
    """
    invitation = session.get(Invitation, invitation_id)
    if invitation is None:
        raise NotFound()
    same_council(actor, invitation.council_id, what="invitation")
    allowed = (
        (invitation.kind in RECORD_KINDS and actor.role == Role.broker)
        or (invitation.kind == InvitationKind.representative and actor.role == Role.holder and actor.holder_id == invitation.holder_id)
        or (invitation.kind in STAFF_KINDS and actor.role == Role.admin)
    )
    if not allowed:
        raise NotFound()
    return lock_row(session, Invitation, invitation.id)


def resend_invitation(*, session: Session, actor: User, invitation_id: int) -> Sent:
    """Send an invitation again with a new link (the old link stops working), for another INVITATION_DAYS."""
    invitation = managed_invitation(session=session, actor=actor, invitation_id=invitation_id)
    now = utcnow()
    _settle(invitation, now)
    if invitation.status == InvitationStatus.expired:
        invitation.status = InvitationStatus(move_invitation(invitation.status, InvitationStatus.pending))
    elif invitation.status != InvitationStatus.pending:
        raise BadInvitationMove(f"This invitation was {invitation.status.label.lower()} already, so it cannot be sent again.")
    if invitation.kind != InvitationKind.representative and invitation.email:
        # Its link could no longer make an account (accepting.ADDRESS_TAKEN): say so now, not to the person.
        if _email_taken(session, invitation.email) is not None:
            raise InvitationClash(f"Another account now uses {invitation.email}, so this invitation cannot make an account with it. "
                                  "Cancel it and invite them at another address.")
        others = select(Invitation).where(Invitation.id != invitation.id)
        if invitation.holder_id is not None:  # the same person's other invitation is not another person's
            others = others.where(or_(Invitation.holder_id.is_(None), Invitation.holder_id != invitation.holder_id))
        if invitation.provider_id is not None:
            others = others.where(or_(Invitation.provider_id.is_(None), Invitation.provider_id != invitation.provider_id))
        _refuse_a_shared_address(session, invitation.email, others)
    token = _new_link(invitation, now)
    invitation.times_sent += 1
    session.add(invitation)
    session.flush()
    return _deliver(session, invitation, token, actor)


def cancel_invitation(*, session: Session, actor: User, invitation_id: int) -> Invitation:
    """Cancel an invitation: its link stops working."""
    invitation = managed_invitation(session=session, actor=actor, invitation_id=invitation_id)
    now = utcnow()
    _settle(invitation, now)
    if invitation.status not in (InvitationStatus.pending, InvitationStatus.expired):
        raise BadInvitationMove(f"This invitation was {invitation.status.label.lower()} already.")
    invitation.status = InvitationStatus(move_invitation(invitation.status, InvitationStatus.cancelled))
    invitation.finished_at, invitation.cancelled_by_id = now, actor.id
    session.add(invitation)
    session.flush()
    return invitation
