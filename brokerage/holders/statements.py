"""A holder's money statement: their wallet and pool shares, with running balances, for them or for staff.

The ledger knows only accounts; this module knows whose they are and who may read them, and
records staff reads in the access log. The holders package sits below the clusters package, so the
names of the groups whose pools the shares belong to come through a lookup the clusters side
registers (brokerage.wiring.connect_domains), never through an import.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Callable, Sequence

from sqlmodel import Session

from brokerage.access import STAFF
from brokerage.audit import log_access
from brokerage.audit.rules import MONEY_STATEMENT
from brokerage.holders.models import Holder, Power
from brokerage.holders.services import get_holder
from brokerage.ledger.models import LedgerAccount
from brokerage.ledger.queries import Statement, accounts_of_holder, statement

if TYPE_CHECKING:
    from brokerage.accounts.models import User

# group_names(session, cluster_ids) -> {cluster id: the group's name}
GroupNames = Callable[[Session, Sequence[int]], dict[int, str]]

_group_names: list[GroupNames] = []


def register_group_names(lookup: GroupNames) -> None:
    """Register how to name the groups whose pools a holder has shares in; a second call replaces the first."""
    _group_names[:] = [lookup]


def _names(session: Session, cluster_ids: list[int]) -> dict[int, str]:
    if not cluster_ids:
        return {}
    if not _group_names:
        raise RuntimeError("No lookup of group names is registered: call brokerage.wiring.connect_domains() at start-up.")
    return _group_names[0](session, cluster_ids)


def holder_accounts(*, session: Session, actor: User, holder_id: int) -> list[LedgerAccount]:
    """Return a holder's wallet and pool-share accounts, for the holder, a representative who may see their money, or staff."""
    holder = get_holder(session=session, actor=actor, holder_id=holder_id, power=Power.money)
    return accounts_of_holder(session=session, actor=actor, council_id=holder.council_id, holder_id=holder.id)


def holder_statements(
    *, session: Session, actor: User, holder_id: int, pages: dict[int, int] | None = None, per_page: int = 50,
) -> tuple[Holder, list[Statement], dict[int, str]]:
    """Return a page of each of a holder's wallet and pool-share statements and the groups' names; log a staff read.

    `pages` maps an account id to the page of its statement wanted; the rest show their latest page.
    A representative needs leave to see money.
    """
    holder = get_holder(session=session, actor=actor, holder_id=holder_id, power=Power.money)
    if actor.role in STAFF:
        log_access(session=session, actor=actor, holder_id=holder.id, what=MONEY_STATEMENT)
    accounts = accounts_of_holder(session=session, actor=actor, council_id=holder.council_id, holder_id=holder.id)
    names = _names(session, sorted({a.cluster_id for a in accounts if a.cluster_id}))
    wanted = pages or {}
    statements = [
        statement(session=session, actor=actor, council_id=holder.council_id, code=a.code, page=wanted.get(a.id, 0), per_page=per_page)
        for a in accounts
    ]
    return holder, statements, names
