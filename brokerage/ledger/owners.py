"""Who owns a ledger account, checked through hooks the domain packages register (the ledger imports none of them).

An account code names its owners: `holder:{h}:wallet` a holder, `pool:{k}:{h}` a cluster and a
holder, `provider:{p}:payable` and `provider:{p}:paid` a provider. Before the ledger opens such an
account it asks the owner's package whether that record exists in the council. The packages
register their checks in brokerage.wiring.connect_domains(). It fails closed: an owner with no
registered check, or an account type this module does not know, is refused, never let through.
"""

from __future__ import annotations

import enum
from typing import Callable

from sqlmodel import Session

from brokerage.ledger import rules
from brokerage.ledger.errors import OwnerCheckMissing, UnknownAccount
from brokerage.ledger.rules import AccountType

# check(session, council_id, owner_id) -> whether the owner exists in that council.
OwnerCheck = Callable[[Session, int, int], bool]


class Owner(str, enum.Enum):
    """A kind of record that can own a ledger account; the value is the account's owner column."""

    holder = "holder_id"
    cluster = "cluster_id"
    provider = "provider_id"


# Which owners each account type names, and where their ids sit in the code (its ':'-separated parts).
# The funding account's owner is the council itself, which the ledger checks; clearing and external
# accounts belong to nobody. An account type missing here is refused.
OWNERS_OF: dict[AccountType, tuple[tuple[Owner, int], ...]] = {
    AccountType.funding: (),
    AccountType.clearing: (),
    AccountType.external: (),
    AccountType.wallet: ((Owner.holder, 1),),
    AccountType.pool: ((Owner.cluster, 1), (Owner.holder, 2)),
    AccountType.payable: ((Owner.provider, 1),),
    AccountType.paid: ((Owner.provider, 1),),
}

_checks: dict[Owner, OwnerCheck] = {}


def register_owner(owner: Owner, check: OwnerCheck) -> None:
    """Register how to check that a record of this kind exists in a council; a second call replaces the first."""
    _checks[Owner(owner)] = check


def registered() -> set[Owner]:
    """Return the owners that have a check registered."""
    return set(_checks)


def owner_ids(session: Session, council_id: int, code: str) -> dict[str, int]:
    """Check that the owners an account code names exist in the council; return them as owner columns."""
    try:
        kind = rules.type_of_code(code)
    except ValueError:
        raise UnknownAccount(f"{code!r} is not an account code.", field="postings") from None
    if kind not in OWNERS_OF:
        raise OwnerCheckMissing(f"The ledger does not know who may own {kind.value} accounts such as {code}.")
    parts = code.split(":")
    if kind == AccountType.funding and int(parts[1]) != council_id:
        raise UnknownAccount(f"{code} is another council's funding account.", field="postings")
    found = {}
    for owner, position in OWNERS_OF[kind]:
        check = _checks.get(owner)
        if check is None:
            raise OwnerCheckMissing(
                f"The ledger cannot check who owns {code}: no check is registered for {owner.name} accounts "
                "(brokerage.wiring.connect_domains() registers them)."
            )
        owner_id = int(parts[position])
        if not check(session, council_id, owner_id):
            raise UnknownAccount(f"There is no {owner.name} {owner_id} in this council (account {code}).", field="postings")
        found[owner.value] = owner_id
    return found
