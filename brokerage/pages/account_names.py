"""Names of ledger accounts, from the holders, groups, providers and councils that own them.

Registered with the ledger (brokerage.ledger.names) by brokerage.wiring.connect_domains(): the ledger
sits below every domain and cannot import them. One query per kind of owner, whatever the number of
accounts; records of another council are never named.
"""

from __future__ import annotations

from typing import Sequence

from sqlmodel import Session, select

from brokerage.accounts.models import Council
from brokerage.clusters.models import Cluster
from brokerage.holders.models import Holder
from brokerage.ledger.names import AccountRef
from brokerage.ledger.rules import AccountType
from brokerage.providers.models import Provider


# Past this many ids, reading the council's whole list is cheaper than a huge IN (and within every driver's limits).
MANY = 500


def _names_of(session: Session, model, council_id: int, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    query = select(model.id, model.name).where(model.council_id == council_id)
    if len(ids) <= MANY:
        query = query.where(model.id.in_(sorted(ids)))
    return {record_id: name for record_id, name in session.exec(query).all() if record_id in ids}


def name_accounts(session: Session, council_id: int, accounts: Sequence[AccountRef]) -> dict[str, str]:
    """Return {code: name} for a council's accounts, such as "Amina Hassan's share of Somali elders of Whitechapel"."""
    holders = _names_of(session, Holder, council_id, {a.holder_id for a in accounts if a.holder_id})
    groups = _names_of(session, Cluster, council_id, {a.cluster_id for a in accounts if a.cluster_id})
    providers = _names_of(session, Provider, council_id, {a.provider_id for a in accounts if a.provider_id})
    council = session.get(Council, council_id) if any(a.account_type == AccountType.funding for a in accounts) else None
    names: dict[str, str] = {}
    for account in accounts:
        kind = account.account_type
        if kind == AccountType.funding and council is not None:
            names[account.code] = f"{council.name} funding"
        elif kind == AccountType.wallet and account.holder_id in holders:
            names[account.code] = f"{holders[account.holder_id]}'s wallet"
        elif kind == AccountType.pool and account.holder_id in holders and account.cluster_id in groups:
            names[account.code] = f"{holders[account.holder_id]}'s share of {groups[account.cluster_id]}"
        elif kind == AccountType.payable and account.provider_id in providers:
            names[account.code] = f"Owed to {providers[account.provider_id]}"
        elif kind == AccountType.paid and account.provider_id in providers:
            names[account.code] = f"Paid to {providers[account.provider_id]}"
    return names
