"""Contracts in plain English: a change and a line of history as a person reads them (pure; no database)."""

from __future__ import annotations

from datetime import date

from brokerage.contracts.rules import AllocationRule, ContractEventKind
from brokerage.formatting import long_date, pounds, quote_words, slot_hours_words


def _date(value: str | None) -> str:
    return long_date(date.fromisoformat(value)) if value else "no end date"


HOW_SHARED = {"equal": "equally", "by_hours": "by the hours each person uses", "by_pledge": "in proportion to each person's pledge"}


def _rule(value: str | None) -> str:
    return HOW_SHARED[AllocationRule(value).value] if value else "–"


def _times(value: dict | None) -> str:
    return f"“{slot_hours_words(value)}”"


def change_sentences(changes: dict[str, list]) -> list[str]:
    """Return one phrase per changed term, e.g. 'hours a week from 12 to 10', given {name: [old, new]}."""
    phrases = []
    for name in ("hours_per_week", "slot_hours", "rate_pence", "end_date", "allocation_rule"):
        if name not in changes:
            continue
        old, new = changes[name]
        if name == "hours_per_week":
            phrases.append(f"hours a week from {old} to {new}" if old is not None else f"{new} hours a week")
        elif name == "slot_hours":
            # The times are said in quotes: their own words may hold semicolons, which part the phrases.
            phrases.append(f"days and times from {_times(old)} to {_times(new)}" if old else f"days and times: {_times(new)}")
        elif name == "rate_pence":
            phrases.append(f"hourly rate from {pounds(old)} to {pounds(new)}" if old is not None else f"hourly rate {pounds(new)}")
        elif name == "end_date":
            phrases.append(f"end the care on {_date(new)}" + (f" (it was to end on {_date(old)})" if old else ""))
        else:
            phrases.append(f"share the cost {_rule(new)}" + (f" (now {_rule(old)})" if old else ""))
    return phrases


def event_sentence(kind: ContractEventKind | str, detail: dict, *, decision: str | None = None) -> str:
    """Return a line of a contract's history in plain English; `decision` is the title of the group decision it came from."""
    kind = ContractEventKind(kind)
    changes = "; ".join(change_sentences(detail.get("changes") or {}))
    if kind == ContractEventKind.made:
        return f"Agreed by the group's decision {quote_words(decision)}" if decision else "Drawn up by the broker."
    if kind == ContractEventKind.change_proposed:
        return f"The broker asked the group to agree a change: {changes}."
    if kind == ContractEventKind.change_passed:
        return f"The group agreed a change: {changes}."
    if kind == ContractEventKind.change_rejected:
        return f"The group did not agree a change: {changes}. Nothing changed."
    if kind == ContractEventKind.change_lapsed:
        return f"A change the group agreed could not be made ({changes}): {detail.get('reason', '')} Nothing changed."
    if kind == ContractEventKind.notice_given:
        return f"The broker gave notice: the care ends on {_date(detail.get('end_date'))}."
    return f"The care ended. The last day was {_date(detail.get('end_date'))}."
