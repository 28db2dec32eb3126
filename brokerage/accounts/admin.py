"""Account administration: finding accounts a page at a time, one account's page, and changing a role.

A role can change only while the account owns no records of its old role (see `role_holds`). What
counts is written in docs/accounts.md: a holder's account linked to a care budget, a provider's
account linked to a provider, a representative still acting for someone, a broker's payment run not
yet released or cancelled, an officer's clawback still waiting for a second officer. The first three
are checked here; the last two belong to packages above this one and are registered by
`brokerage.wiring` (it fails closed: a role whose checks were never registered cannot change).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from sqlmodel import Session, select

from brokerage.accounts.errors import RoleInUse
from brokerage.accounts.models import Council, Role, User
from brokerage.accounts.services import end_sessions
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.holders.models import Holder, Representation
from brokerage.locks import lock_row
from brokerage.providers.models import Provider
from brokerage.tables import Paging
from brokerage.types import PERSON_ROLES

PER_PAGE = 50

# check(session, user) -> one plain sentence per record of the user's role that still needs them.
RoleHold = Callable[[Session, User], list[str]]
_holds: dict[Role, list[RoleHold]] = {}
# Roles whose records live in packages above this one: without their registered checks, no change is allowed.
REGISTERED_ELSEWHERE = (Role.broker, Role.council_officer)


def register_role_hold(role: Role, check: RoleHold) -> None:
    """Register a check of the records an account of this role may still own; registering the same check twice keeps one."""
    checks = _holds.setdefault(Role(role), [])
    if check not in checks:
        checks.append(check)


def _admin_only(actor: User) -> None:
    if actor is None or actor.role != Role.admin:
        raise NotAllowed("Only administrators can manage accounts.")


def _person(session: Session, user_id: int) -> User:
    # The system actor is not a person: its id answers like a missing one.
    user = session.get(User, user_id)
    if user is None or user.role == Role.system:
        raise NotFound()
    return user


# --- the list: search by name or email, filter by role and council, 50 a page ------------------------------


@dataclass
class AccountsPage(Paging):
    """A page of accounts, in name order, with what the filters offer."""

    users: list[User]
    total: int
    page: int
    councils: list[Council]
    per_page: int = PER_PAGE
    errors: dict[str, list[str]] = field(default_factory=dict)

    @property
    def council_names(self) -> dict[int, str]:
        """Return each council's name by id."""
        return {c.id: c.name for c in self.councils}


def find_accounts(
    *, session: Session, actor: User, text: str | None = None, role: Role | None = None, council_id: int | None = None,
    page: int = 1, errors: dict[str, list[str]] | None = None,
) -> AccountsPage:
    """Return one page of people's accounts whose name or email holds `text`, of a role and a council; filters that could not be read list nothing."""
    _admin_only(actor)
    councils = list(session.exec(select(Council).order_by(Council.name)))
    errors = dict(errors or {})
    if council_id is not None and council_id not in {c.id for c in councils}:
        errors["council"] = ["Choose a council from the list"]
    if role is not None and role not in PERSON_ROLES:
        errors["role"] = ["Choose a role from the list"]
    result = AccountsPage(users=[], total=0, page=1, councils=councils, errors=errors)
    if errors:
        return result
    query = select(User.id, User.name, User.email).where(User.role != Role.system)
    if role is not None:
        query = query.where(User.role == role)
    if council_id is not None:
        query = query.where(User.council_id == council_id)
    rows = session.exec(query).all()
    if text:
        # Matched here rather than in SQL, so case is ignored alike for every script on both databases
        # (SQLite's LIKE folds only ASCII) and a % or _ typed in the box means itself.
        wanted = text.strip().casefold()
        rows = [row for row in rows if wanted in row[1].casefold() or wanted in row[2].casefold()]
    rows.sort(key=lambda row: (row[1].casefold(), row[0]))
    result.total = len(rows)
    # A page past the end (an old link, a typed number) shows the last page.
    result.page = min(max(page, 1), result.pages)
    ids = [row[0] for row in rows[(result.page - 1) * PER_PAGE: result.page * PER_PAGE]]
    found = {u.id: u for u in session.exec(select(User).where(User.id.in_(ids or [-1])))}
    result.users = [found[i] for i in ids]
    return result


# --- one account's page ----------------------------------------------------------------------------------


@dataclass
class AccountPage:
    """One person's account: who they are, what it is linked to, and why its role cannot change (if it cannot)."""

    user: User
    council: Council | None
    linked: list[str]
    holds: list[str]


def account_page(*, session: Session, actor: User, user_id: int) -> AccountPage:
    """Return one person's account as an administrator sees it."""
    _admin_only(actor)
    user = _person(session, user_id)
    council = session.get(Council, user.council_id) if user.council_id is not None else None
    return AccountPage(user=user, council=council, linked=_linked(session, user), holds=role_holds(session=session, user=user))


def _linked(session: Session, user: User) -> list[str]:
    linked = []
    if user.holder_id is not None and (holder := session.get(Holder, user.holder_id)) is not None:
        linked.append(f"The care budget of {holder.name}")
    if user.provider_id is not None and (provider := session.get(Provider, user.provider_id)) is not None:
        linked.append(f"The provider {provider.name}")
    linked += [f"Acts for {name}" for name in _represented(session, user)]
    return linked


def _represented(session: Session, user: User) -> list[str]:
    """Return the names of the holders this account still acts for."""
    return list(session.exec(
        select(Holder.name).join(Representation, Representation.holder_id == Holder.id)
        .where(Representation.representative_id == user.id, Representation.revoked_at.is_(None)).order_by(Holder.name, Holder.id)
    ).all())


# --- changing a role ------------------------------------------------------------------------------------


def _holder_hold(session: Session, user: User) -> list[str]:
    holder = session.get(Holder, user.holder_id) if user.holder_id is not None else None
    return [f"Their account is linked to the care budget of {holder.name}."] if holder is not None else []


def _provider_hold(session: Session, user: User) -> list[str]:
    provider = session.get(Provider, user.provider_id) if user.provider_id is not None else None
    return [f"Their account is linked to the provider {provider.name}."] if provider is not None else []


def _representative_hold(session: Session, user: User) -> list[str]:
    names = _represented(session, user)
    if not names:
        return []
    return [f"They still act for {_and(names)}, who can each end this on their own page."]


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


register_role_hold(Role.holder, _holder_hold)
register_role_hold(Role.provider, _provider_hold)
register_role_hold(Role.representative, _representative_hold)


def role_holds(*, session: Session, user: User) -> list[str]:
    """Return why this account's role cannot change now: one sentence per record of its role that still needs it."""
    if user.role in REGISTERED_ELSEWHERE and not _holds.get(user.role):
        raise RuntimeError(f"no check of a {user.role.value}'s records is registered (brokerage.wiring.connect_domains)")
    return [reason for check in _holds.get(user.role, []) for reason in check(session, user)]


# Roles an account only works in once linked to its records, which only its own way in does (`accounts.schemas.UserForm`).
UNLINKED_DEAD_ENDS = {
    Role.holder: "A budget holder's account is linked to their care budget when they accept a broker's invitation: invite them instead.",
    Role.representative: "A representative's account is linked to the person they act for when they accept that person's invitation.",
    Role.provider: "A care provider's account is linked to its provider when it applies to offer care.",
}


def _check_change(session: Session, actor: User, user: User, role) -> Role:
    """Return the new role, or raise why this account cannot be given it."""
    try:
        new = Role(role)
    except ValueError:
        raise ValidationFailed({"role": "Choose a role from the list"}) from None
    if new not in PERSON_ROLES:
        raise ValidationFailed({"role": "Choose a role from the list"})
    if user.id == actor.id:
        raise NotAllowed("You cannot change your own role. Ask another administrator.", field="role")
    if user.role == Role.admin or new == Role.admin:
        # An administrator belongs to no council and everyone else to one: this is a new account, not a new role.
        raise ValidationFailed({"role": "An administrator's account belongs to no council, so it cannot change to or from another role. Add a new account instead."})
    if new == user.role:
        raise ValidationFailed({"role": f"{user.name} is already a {new.label.lower()}. Choose a different role."})
    holds = role_holds(session=session, user=user)
    if holds:
        raise RoleInUse(f"{user.name} cannot stop being a {user.role.label.lower()} yet. " + " ".join(holds), field="role")
    if new in UNLINKED_DEAD_ENDS:
        # The same rule as adding an account: an unlinked holder, representative or provider sees nothing and cannot be linked later.
        raise ValidationFailed({"role": f"Choose a broker or a council officer. {UNLINKED_DEAD_ENDS[new]}"})
    return new


@dataclass
class RoleChange:
    """A role change waiting for the administrator to confirm it."""

    user: User
    old: Role
    new: Role


def check_role_change(*, session: Session, actor: User, user_id: int, role) -> RoleChange:
    """Return the change an administrator asked for, for them to confirm, or raise why it is refused; nothing is changed."""
    _admin_only(actor)
    user = _person(session, user_id)
    return RoleChange(user=user, old=user.role, new=_check_change(session, actor, user, role))


def change_role(*, session: Session, actor: User, user_id: int, role) -> RoleChange:
    """Give an account a new role once confirmed, if it owns no records of its old one; its sessions end."""
    _admin_only(actor)
    _person(session, user_id)
    # Two administrators at once: the second reads the role the first one left.
    user = lock_row(session, User, user_id)
    old = user.role
    new = _check_change(session, actor, user, role)
    user.role = new
    session.add(user)
    # What they may see has changed: every open session ends, and the next sign-in starts with the new role.
    end_sessions(session=session, user=user)
    return RoleChange(user=user, old=old, new=new)

