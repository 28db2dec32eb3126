"""Pure ledger rules: the chart of accounts, balancing, allocation and content hashes."""

from __future__ import annotations

import enum
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Iterable, Sequence


class AccountType(str, enum.Enum):
    """What an account holds; decides whether it may go negative."""

    funding = "funding"  # council:{c}:funding, the source of direct payments
    wallet = "wallet"  # holder:{h}:wallet, a holder's money not pledged to a pool
    pool = "pool"  # pool:{k}:{h}, holder h's share of cluster k's pool
    payable = "payable"  # provider:{p}:payable, approved work not yet paid
    clearing = "clearing"  # stripe:clearing, payouts sent but not yet confirmed
    paid = "paid"  # provider:{p}:paid, money that reached the provider (a sink)
    external = "external"  # external:topups, money holders added themselves (a source)


NON_NEGATIVE = {AccountType.wallet, AccountType.pool, AccountType.payable, AccountType.clearing}


def may_go_negative(account_type: AccountType) -> bool:
    """Tell whether an account of this type may have a negative balance."""
    return AccountType(account_type) not in NON_NEGATIVE


def funding_code(council_id: int) -> str:
    """Return the code of a council's funding account."""
    return f"council:{council_id}:funding"


def wallet_code(holder_id: int) -> str:
    """Return the code of a holder's wallet."""
    return f"holder:{holder_id}:wallet"


def pool_code(cluster_id: int, holder_id: int) -> str:
    """Return the code of a holder's share of a cluster's pool."""
    return f"pool:{cluster_id}:{holder_id}"


def payable_code(provider_id: int) -> str:
    """Return the code of a provider's payable account."""
    return f"provider:{provider_id}:payable"


def paid_code(provider_id: int) -> str:
    """Return the code of a provider's paid account."""
    return f"provider:{provider_id}:paid"


CLEARING_CODE = "stripe:clearing"
TOPUPS_CODE = "external:topups"


def _ascii_number(text: str) -> bool:
    # str.isdigit() is true for other scripts' digits too ('١', '²'); an id in a code is ASCII.
    return text.isascii() and text.isdigit()


def type_of_code(code: str) -> AccountType:
    """Return the account type a code names, or raise ValueError for an unknown shape."""
    parts = code.split(":")
    if code == CLEARING_CODE:
        return AccountType.clearing
    if code == TOPUPS_CODE:
        return AccountType.external
    if len(parts) == 3 and parts[0] == "council" and parts[2] == "funding" and _ascii_number(parts[1]):
        return AccountType.funding
    if len(parts) == 3 and parts[0] == "holder" and parts[2] == "wallet" and _ascii_number(parts[1]):
        return AccountType.wallet
    if len(parts) == 3 and parts[0] == "pool" and _ascii_number(parts[1]) and _ascii_number(parts[2]):
        return AccountType.pool
    if len(parts) == 3 and parts[0] == "provider" and _ascii_number(parts[1]) and parts[2] in ("payable", "paid"):
        return AccountType.payable if parts[2] == "payable" else AccountType.paid
    raise ValueError(f"not an account code: {code!r}")


@dataclass(frozen=True)
class Leg:
    """One posting to be made: an account code and a signed amount in pence."""

    account: str
    amount: int


def check_balanced(legs: Sequence[Leg]) -> None:
    """Raise ValueError unless there are two or more non-zero integer legs summing to zero."""
    if len(legs) < 2:
        raise ValueError("an entry needs at least two postings")
    for leg in legs:
        if isinstance(leg.amount, bool) or not isinstance(leg.amount, int):
            raise ValueError(f"amount for {leg.account} must be integer pence, not {type(leg.amount).__name__}")
        if leg.amount == 0:
            raise ValueError(f"posting to {leg.account} is zero")
    total = sum(leg.amount for leg in legs)
    if total != 0:
        raise ValueError(f"postings sum to {total}p, not zero")


def net_by_account(legs: Iterable[Leg]) -> dict[str, int]:
    """Return each account's net change from a set of legs."""
    net: dict[str, int] = {}
    for leg in legs:
        net[leg.account] = net.get(leg.account, 0) + leg.amount
    return net


def allocate_shared_cost(total: int, weights: Sequence[int] | dict, *, keys: Sequence | None = None) -> list[int] | dict:
    """Split integer pence by integer weights with the largest-remainder method.

    The parts sum exactly to `total`, each is within 1p of its exact share, and ties in the
    remainders go to the earliest key (or index), so the split is the same every time.
    A dict of weights gives a dict of parts with the same keys, ties broken by sorted key.
    """
    if isinstance(weights, dict):
        ordered = sorted(weights)
        parts = allocate_shared_cost(total, [weights[k] for k in ordered])
        return dict(zip(ordered, parts))
    if isinstance(total, bool) or not isinstance(total, int):
        raise ValueError("total must be integer pence")
    if not weights:
        raise ValueError("there must be at least one share")
    for weight in weights:
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise ValueError("weights must be non-negative integers")
    weight_sum = sum(weights)
    if weight_sum == 0:
        raise ValueError("the weights must not all be zero")
    sign = -1 if total < 0 else 1
    magnitude = abs(total)
    floors = [magnitude * w // weight_sum for w in weights]
    remainders = [magnitude * w % weight_sum for w in weights]
    left = magnitude - sum(floors)
    # Largest remainder first; equal remainders go to the lower index so the result is stable.
    order = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for i in order[:left]:
        floors[i] += 1
    return [sign * part for part in floors]


# json's own string encoder (as json.dumps uses with ensure_ascii=False), so entry_hash writes the same bytes.
_json_str = json.encoder.encode_basestring


def canonical_json(data: object) -> bytes:
    """Serialise data deterministically for hashing."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_content(
    *,
    council_id: int,
    entry_id: int,
    kind: str,
    memo: str,
    actor_id: int | None,
    idempotency_key: str,
    created_at: datetime,
    reverses_id: int | None,
    postings: Sequence[tuple[str, int]],
) -> dict:
    """Return the content of an entry that its hash covers."""
    return {
        "council": council_id,
        "entry": entry_id,
        "kind": kind,
        "memo": memo,
        "actor": actor_id,
        "key": idempotency_key,
        "at": created_at.isoformat(timespec="microseconds"),
        "reverses": reverses_id,
        "postings": [[account, amount] for account, amount in postings],
    }


def content_hash(content: dict) -> str:
    """Return the SHA-256 hex digest of an entry's canonical content."""
    return hashlib.sha256(canonical_json(content)).hexdigest()


def entry_hash(
    *, council_id: int, kind: str, memo: str, actor_id: int | None, idempotency_key: str, created_at: datetime,
    reverses_id: int | None, postings: Sequence[tuple[str | None, int]],
) -> str:
    """Return the same digest as content_hash(entry_content(...)) with entry 0, writing the canonical JSON directly (verify's hot path)."""
    text = _json_str
    body = "".join((
        '{"actor":', "null" if actor_id is None else str(int(actor_id)),
        ',"at":', text(created_at.isoformat(timespec="microseconds")),
        ',"council":', str(int(council_id)),
        ',"entry":0,"key":', text(idempotency_key),
        ',"kind":', text(kind),
        ',"memo":', text(memo),
        ',"postings":[', ",".join(f"[{'null' if code is None else text(code)},{int(amount)}]" for code, amount in postings),
        '],"reverses":', "null" if reverses_id is None else str(int(reverses_id)),
        "}",
    ))
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def request_fingerprint(*, kind: str, memo: str, legs: Sequence[Leg], reverses_id: int | None = None) -> str:
    """Return a digest of what a caller asked for, to compare retries under one idempotency key."""
    body = {
        "kind": kind,
        "memo": memo,
        "reverses": reverses_id,
        "legs": sorted([leg.account, leg.amount] for leg in legs),
    }
    return hashlib.sha256(canonical_json(body)).hexdigest()


def next_seal_due(*, last_sealed_at: datetime | None, now: datetime, every: timedelta) -> datetime:
    """Return when the scheduled seal should next run: the next whole period after the last seal, or one period from now."""
    if every <= timedelta(0):
        raise ValueError("sealing must be scheduled at a positive interval")
    if last_sealed_at is None or last_sealed_at > now:
        return now + every
    return last_sealed_at + ((now - last_sealed_at) // every + 1) * every


def seal_overdue(*, oldest_unsealed_at: datetime | None, now: datetime, every: timedelta) -> bool:
    """Tell whether an entry has waited more than two sealing periods: the scheduled seal is probably not running."""
    return oldest_unsealed_at is not None and now - oldest_unsealed_at > 2 * every
