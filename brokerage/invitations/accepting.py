"""Accepting an invitation: the person chooses their own password and their account is made, or an account they have is linked.

Every link that cannot be used (never made, used, cancelled, replaced, run out) answers the one LinkNotUsable.
They flush and never commit; the view signs the person in.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, select

from brokerage.accounts import services as accounts
from brokerage.accounts.models import Council, Role, User
from brokerage.errors import ValidationFailed
from brokerage.validation import person_name_problem
from brokerage.holders import services as holders
from brokerage.holders.models import Holder, Power
from brokerage.invitations import rules
from brokerage.invitations.errors import InvitationClash, LinkNotUsable
from brokerage.invitations.models import Invitation
from brokerage.invitations.rules import InvitationKind, InvitationStatus, move_invitation
from brokerage.locks import lock_row
from brokerage.providers.models import Provider
from brokerage.types import utcnow

# What the page offers whoever opened a working link.
NEW_ACCOUNT = "new_account"  # choose a password (and a name, and an email when none was given)
LINK_ACCOUNT = "link_account"  # signed in as the account the invitation is for: one button
SIGN_IN_FIRST = "sign_in_first"  # an account uses the invited address: sign in as it, then open the link again
SIGN_OUT_FIRST = "sign_out_first"  # signed in as someone else
CANNOT_LINK = "cannot_link"  # the invited address belongs to an account that cannot act for someone
ADDRESS_TAKEN = "address_taken"  # a holder's or staff invitation, and an account was made with its address since it was sent


def usable_invitation(*, session: Session, token: str, lock: bool = False) -> Invitation:
    """Return the pending invitation whose link carries this token, or raise LinkNotUsable whatever the reason."""
    if not rules.looks_like_token(token):
        raise LinkNotUsable()
    invitation = session.exec(select(Invitation).where(Invitation.token_hash == rules.hash_token(token))).first()
    if invitation is None or not rules.token_matches(token, invitation.token_hash):
        raise LinkNotUsable()
    if lock:
        # Two acceptances of one link take turns: the second finds it accepted.
        invitation = lock_row(session, Invitation, invitation.id)
    if rules.status_at(invitation.status, invitation.expires_at, utcnow()) != InvitationStatus.pending:
        raise LinkNotUsable()
    return invitation


@dataclass
class AcceptPage:
    """What the page of a working invitation link shows."""

    invitation: Invitation
    council: Council
    holder: Holder | None
    mode: str
    account: User | None = None

    @property
    def powers(self) -> list[str]:
        """Return what a representative may do, in plain English."""
        return [Power(p).label_for_others for p in self.invitation.powers]

    @property
    def asks_for_email(self) -> bool:
        """Tell whether the person types their email address (a link passed on by hand had none)."""
        return self.mode == NEW_ACCOUNT and not self.invitation.email

    @property
    def asks_for_name(self) -> bool:
        """Tell whether the person may say their name (a holder's name is the council's record)."""
        return self.mode == NEW_ACCOUNT and self.invitation.kind != InvitationKind.holder


def _mode(invitation: Invitation, account: User | None, actor: User | None) -> str:
    if invitation.kind == InvitationKind.representative and account is not None:
        suitable = account.role == Role.representative and account.council_id == invitation.council_id and account.is_active_account
        if not suitable:
            return CANNOT_LINK
        if actor is None:
            return SIGN_IN_FIRST
        return LINK_ACCOUNT if actor.id == account.id else SIGN_OUT_FIRST
    if invitation.kind != InvitationKind.representative and account is not None:
        return ADDRESS_TAKEN  # each account has its own address: this invitation cannot make one with it
    return NEW_ACCOUNT if actor is None else SIGN_OUT_FIRST


def accept_page(*, session: Session, actor: User | None, token: str) -> AcceptPage:
    """Return what the page of an invitation link shows to whoever opened it (signed in or not)."""
    invitation = usable_invitation(session=session, token=token)
    account = session.exec(select(User).where(User.email == invitation.email)).first() if invitation.email else None
    return AcceptPage(
        invitation=invitation, council=session.get(Council, invitation.council_id),
        holder=session.get(Holder, invitation.holder_id) if invitation.holder_id else None,
        mode=_mode(invitation, account, actor), account=account,
    )


MODE_REFUSALS = {
    SIGN_IN_FIRST: "You already have a carepool account with this email address. Sign in, then open the link again.",
    SIGN_OUT_FIRST: "You are signed in as someone else. Sign out, then open the link again.",
    CANNOT_LINK: "This email address belongs to an account that cannot act for someone else. Ask them to invite another email address.",
    ADDRESS_TAKEN: "Another carepool account already uses the email address this invitation was sent to. Ask for the invitation to be sent to another address.",
}


def accept_invitation(
    *, session: Session, actor: User | None, token: str, name: str | None = None, email: str | None = None, password: str | None = None,
) -> User:
    """Accept an invitation and return the account to sign in: a new one with the password the person chose, or theirs, linked.

    A holder's account is linked to their record, a provider's to the provider it works for; a representative's gets
    the authority the holder chose; a broker's or an officer's belongs to the council. The link then stops working.
    """
    invitation = usable_invitation(session=session, token=token, lock=True)
    page = accept_page(session=session, actor=actor, token=token)
    if page.mode in MODE_REFUSALS:
        raise InvitationClash(MODE_REFUSALS[page.mode])
    now = utcnow()
    if page.mode == LINK_ACCOUNT:
        user = page.account
    else:
        user = _new_account(session, invitation, name=name, email=email, password=password or "")
    if invitation.kind == InvitationKind.representative:
        holders.add_representation(session=session, actor=user, holder_id=invitation.holder_id, relationship=invitation.relationship,
                                   powers=invitation.powers)
    invitation.status = InvitationStatus(move_invitation(invitation.status, InvitationStatus.accepted))
    invitation.finished_at, invitation.user_id = now, user.id
    session.add(invitation)
    user.last_sign_in_at = now
    session.add(user)
    session.flush()
    return user


def _new_account(session: Session, invitation: Invitation, *, name: str | None, email: str | None, password: str) -> User:
    errors: dict[str, str] = {}
    if invitation.kind == InvitationKind.holder:
        name = invitation.name
    else:
        name = (name or "").strip() or invitation.name
        if problem := person_name_problem(name, empty="Enter your name", most=rules.NAME_MAX):
            errors["name"] = problem
    address = invitation.email or rules.normalise_email(email)
    if not invitation.email:
        problem = rules.email_problem(address) if address else "Enter your email address"
        if problem:
            errors["email"] = problem
    if not password:
        errors["password"] = "Choose a password"
    if errors:
        raise ValidationFailed(errors)
    holder_id = provider_id = None
    if invitation.kind == InvitationKind.provider:
        # Locked as inviting locks it: of two invitations to one provider, only the first accepted makes an account.
        provider = lock_row(session, Provider, invitation.provider_id)
        if session.exec(select(User.id).where(User.provider_id == provider.id)).first() is not None:
            raise LinkNotUsable()
        provider_id = provider.id
    if invitation.kind == InvitationKind.holder:
        holder = lock_row(session, Holder, invitation.holder_id)
        if session.exec(select(User.id).where(User.holder_id == holder.id)).first() is not None:
            # Another invitation of theirs was accepted first: this one is finished too.
            raise LinkNotUsable()
        holder_id = holder.id
    # create_user checks the password is hard enough to guess and that no other account uses the address.
    # No actor: the invitation, checked above, is the authority.
    return accounts.create_user(
        session=session, actor=None, email=address, name=name, role=invitation.kind.role, password=password,
        council_id=invitation.council_id, holder_id=holder_id, provider_id=provider_id,
    )
