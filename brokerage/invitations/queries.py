"""What the invitation pages show: the lists of invitations waiting, and whether a holder or a provider can sign in yet. They only read."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, select

from brokerage.access import STAFF, get_or_404
from brokerage.accounts.models import Council, Role, User
from brokerage.errors import NotAllowed, NotFound
from brokerage.holders.models import Holder, Power
from brokerage.invitations import rules
from brokerage.invitations.models import Invitation
from brokerage.invitations.rules import RECORD_KINDS, STAFF_KINDS, InvitationKind, InvitationStatus
from brokerage.providers.models import Provider
from brokerage.types import utcnow


@dataclass
class InvitationRow:
    """An invitation as a list shows it: its status now (a pending one may have run out) and the council's name."""

    invitation: Invitation
    status: InvitationStatus
    council: str = ""

    @property
    def how(self) -> str:
        """Return how the invitation reaches them, in plain English."""
        if self.invitation.email:
            return f"by email to {self.invitation.email}"
        return f"by a link passed on to {self.invitation.phone}"

    @property
    def powers(self) -> list[Power]:
        """Return what a representative's invitation would let them do, in the order the holder chose from."""
        asked = set(self.invitation.powers or [])
        return [power for power in Power if power.value in asked]


def _rows(session: Session, query, now: datetime) -> list[InvitationRow]:
    councils = dict(session.exec(select(Council.id, Council.name)).all())
    return [
        InvitationRow(invitation=i, status=rules.status_at(i.status, i.expires_at, now), council=councils.get(i.council_id, ""))
        for i in session.exec(query.order_by(Invitation.last_sent_at.desc(), Invitation.id.desc()))
    ]


def waiting_for_brokers(*, session: Session, actor: User) -> list[InvitationRow]:
    """Return the invitations to the council's holders and providers that are waiting or have run out, newest first (brokers)."""
    if actor.role != Role.broker:
        raise NotAllowed("Only the council's brokers can see the invitations to holders and providers.")
    return _rows(session, select(Invitation).where(
        Invitation.council_id == actor.council_id, Invitation.kind.in_(RECORD_KINDS), Invitation.status == InvitationStatus.pending,
    ), utcnow())


@dataclass
class StaffInvitationsPage:
    """The administrators' invitations page: the councils to choose from, and the staff invitations waiting."""

    councils: list[Council] = field(default_factory=list)
    rows: list[InvitationRow] = field(default_factory=list)


def staff_invitations_page(*, session: Session, actor: User) -> StaffInvitationsPage:
    """Return the councils and the waiting invitations of brokers and officers, newest first (administrators)."""
    if actor.role != Role.admin:
        raise NotAllowed("Only administrators can invite brokers and council officers.")
    return StaffInvitationsPage(
        councils=list(session.exec(select(Council).order_by(Council.name))),
        rows=_rows(session, select(Invitation).where(Invitation.kind.in_(STAFF_KINDS), Invitation.status == InvitationStatus.pending), utcnow()),
    )


def waiting_for_holder(*, session: Session, actor: User, holder_id: int) -> list[InvitationRow]:
    """Return the invitations a holder sent to people to act for them that are waiting or have run out (for the holder)."""
    if actor.role != Role.holder or actor.holder_id != holder_id:
        return []
    return _rows(session, select(Invitation).where(
        Invitation.holder_id == holder_id, Invitation.council_id == actor.council_id, Invitation.kind == InvitationKind.representative,
        Invitation.status == InvitationStatus.pending,
    ), utcnow())


@dataclass
class SignInState:
    """Whether a holder can sign in yet: their account, or the invitation waiting for them (for brokers)."""

    holder: Holder
    has_account: bool
    waiting: InvitationRow | None = None


def sign_in_state(*, session: Session, actor: User, holder_id: int) -> SignInState:
    """Return whether a holder of the broker's council has an account, or an invitation waiting."""
    if actor.role != Role.broker:
        raise NotAllowed("Only the council's brokers can invite budget holders.")
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    has_account = session.exec(select(User.id).where(User.holder_id == holder.id)).first() is not None
    rows = _rows(session, select(Invitation).where(
        Invitation.kind == InvitationKind.holder, Invitation.holder_id == holder.id, Invitation.status == InvitationStatus.pending,
    ), utcnow())
    return SignInState(holder=holder, has_account=has_account, waiting=rows[0] if rows else None)


def holder_to_invite_for(*, session: Session, actor: User, holder_id: int) -> Holder:
    """Return the holder whose page the actor may invite someone to act for them from: only the holder themselves."""
    holder = get_or_404(session, actor, Holder, holder_id, what="person")
    if actor.role != Role.holder or actor.holder_id != holder.id:
        raise NotFound()
    return holder


# --- providers ----------------------------------------------------------------------------------------


@dataclass
class ProviderSignIn:
    """Whether a provider can sign in: an account works for it, an invitation waits (or ran out), or neither (for staff)."""

    provider: Provider
    has_account: bool
    waiting: InvitationRow | None = None

    @property
    def words(self) -> str:
        """Return the state in a few plain words, as the list of providers shows it."""
        if self.has_account:
            return "Can sign in"
        if self.waiting is None:
            return "No account yet"
        if self.waiting.status == InvitationStatus.expired:
            return "Invitation ran out"
        return "Invitation waiting"


def _provider_states(session: Session, providers: list[Provider]) -> dict[int, ProviderSignIn]:
    ids = [p.id for p in providers]
    if not ids:
        return {}
    with_account = set(session.exec(select(User.provider_id).where(User.provider_id.in_(ids))).all())
    states = {p.id: ProviderSignIn(provider=p, has_account=p.id in with_account) for p in providers}
    waiting = select(Invitation).where(
        Invitation.kind == InvitationKind.provider, Invitation.provider_id.in_(ids), Invitation.status == InvitationStatus.pending,
    )
    for row in reversed(_rows(session, waiting, utcnow())):  # oldest first, so the newest is the one kept
        states[row.invitation.provider_id].waiting = row
    return states


def provider_sign_in(*, session: Session, actor: User, provider_id: int) -> ProviderSignIn:
    """Return whether a provider of the actor's council can sign in, or has an invitation waiting (the council's staff)."""
    if actor.role not in STAFF:
        raise NotAllowed("Only the council's staff can see whether a provider can sign in.")
    provider = get_or_404(session, actor, Provider, provider_id, what="provider")
    return _provider_states(session, [provider])[provider.id]


def providers_sign_in(*, session: Session, actor: User, providers: list[Provider]) -> dict[int, ProviderSignIn]:
    """Return whether each of these providers of the actor's council can sign in, by provider id (the council's staff)."""
    if actor.role not in STAFF:
        raise NotAllowed("Only the council's staff can see whether providers can sign in.")
    return _provider_states(session, [p for p in providers if p.council_id == actor.council_id])
