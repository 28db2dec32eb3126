"""What people call a ledger account: "Amina Hassan's share of Somali elders of Whitechapel", never `pool:1:1`.

An account code names its owners by id (brokerage.ledger.owners), and only the packages that own
holders, groups, providers and councils know their names. The ledger imports none of them, so one
naming function is registered here by brokerage.wiring.connect_domains(). It names many accounts in
one call, so a page of postings costs a few queries, never one per account. The ledger names its own
accounts (Stripe clearing, money added by card) itself; an account nobody named gets a plain
description of its kind, never its code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from sqlalchemy import select
from sqlmodel import Session

from brokerage.ledger import rules
from brokerage.ledger.models import LedgerAccount
from brokerage.ledger.owners import OWNERS_OF, Owner
from brokerage.ledger.rules import AccountType


@dataclass(frozen=True)
class AccountRef:
    """An account to name: its code, its type and the ids of its owners read from the code."""

    code: str
    account_type: AccountType
    holder_id: int | None = None
    cluster_id: int | None = None
    provider_id: int | None = None


# namer(session, council_id, accounts) -> {code: name}; codes it leaves out get a plain description.
AccountNamer = Callable[[Session, int, Sequence[AccountRef]], dict[str, str]]

_namers: list[AccountNamer] = []

# The accounts the ledger itself owns, and what any other account is when nobody has named it.
OWN_NAMES = {AccountType.clearing: "Stripe clearing", AccountType.external: "Money added by card or Direct Debit"}
PLAIN = {
    AccountType.funding: "The council's funding",
    AccountType.wallet: "A holder's wallet",
    AccountType.pool: "A holder's share of a group's pool",
    AccountType.payable: "Owed to a provider",
    AccountType.paid: "Paid to a provider",
    **OWN_NAMES,
}
# Each type of account as a line of the trial balance, for people.
TYPE_LABELS = {
    AccountType.funding: "The council's funding",
    AccountType.wallet: "Holders' wallets",
    AccountType.pool: "Holders' shares of group pools",
    AccountType.payable: "Owed to providers",
    AccountType.clearing: "Stripe clearing (payments on their way)",
    AccountType.paid: "Paid to providers",
    AccountType.external: "Money added by card or Direct Debit",
}


def register_account_namer(namer: AccountNamer) -> None:
    """Register the function that names holders', groups', providers' and the council's accounts; a second call replaces the first."""
    _namers[:] = [namer]


def has_namer() -> bool:
    """Tell whether a naming function is registered."""
    return bool(_namers)


def account_ref(code: str) -> AccountRef | None:
    """Return what a code says about its account, or None when it is not an account code."""
    try:
        kind = rules.type_of_code(code)
    except ValueError:
        return None
    parts = code.split(":")
    owners = {owner.value: int(parts[position]) for owner, position in OWNERS_OF.get(kind, ())}
    return AccountRef(
        code=code, account_type=kind, holder_id=owners.get(Owner.holder.value), cluster_id=owners.get(Owner.cluster.value),
        provider_id=owners.get(Owner.provider.value),
    )


def name_accounts(*, session: Session, council_id: int, codes: Iterable[str]) -> dict[str, str]:
    """Return a name for each account code of one council, in one call to the registered namer."""
    return _name_refs(session, council_id, {code: account_ref(code) for code in dict.fromkeys(codes)})


def _name_refs(session: Session, council_id: int, refs: dict[str, AccountRef | None]) -> dict[str, str]:
    """Name accounts already read into refs ({code: ref, or None for what is not an account code})."""
    names = {code: OWN_NAMES[ref.account_type] for code, ref in refs.items() if ref and ref.account_type in OWN_NAMES}
    wanted = [ref for code, ref in refs.items() if ref and code not in names]
    if wanted and _namers:
        found = _namers[0](session, council_id, wanted)
        names.update({ref.code: found[ref.code] for ref in wanted if found.get(ref.code)})
    for code, ref in refs.items():
        if code not in names:
            names[code] = PLAIN[ref.account_type] if ref else "An account"
    return names


def find_accounts(*, session: Session, council_id: int, text: str) -> list[int]:
    """Return the ids of the council's accounts whose name or code contains the text (names ignore case).

    Every account is named, so that a phrase across a name's parts ("Hassan's share") is found too; the
    owners are read from the accounts' own columns rather than parsed from each code.
    """
    accounts = session.execute(
        select(LedgerAccount.id, LedgerAccount.code, LedgerAccount.account_type, LedgerAccount.holder_id, LedgerAccount.cluster_id,
               LedgerAccount.provider_id).where(LedgerAccount.council_id == council_id)
    ).all()
    refs = {
        row.code: AccountRef(code=row.code, account_type=row.account_type, holder_id=row.holder_id, cluster_id=row.cluster_id,
                             provider_id=row.provider_id)
        for row in accounts
    }
    names = _name_refs(session, council_id, refs)
    wanted = text.casefold()
    return sorted(row.id for row in accounts if code_contains(row.code, text) or wanted in names[row.code].casefold())


def code_contains(code: str, text: str) -> bool:
    """Tell whether an account code contains the text, a number in it whole: "holder:1" finds holder:1:wallet, not holder:13:wallet."""
    before = r"(?<![0-9])" if text[:1].isdigit() else ""
    after = r"(?![0-9])" if text[-1:].isdigit() else ""
    return re.search(before + re.escape(text) + after, code) is not None
