"""Travel time in plain words: whether a week's travel is paid, how much, and why not. Pure: no Flask, no SQL.

A sheet still with its provider is worded by the charter as it stands today. A sent sheet keeps the travel terms it
was sent under (`rules.TravelTerms`, fixed on the sheet) and is worded by them, in the past tense: one sent while a
broker had not yet confirmed the provider's own tick says so, even once a broker has confirmed it since.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Sequence

from brokerage.formatting import minutes_words, pounds, weekday_date, words_list
from brokerage.timesheets.rules import Pay, TravelTerms


def travel_sentence(*, provider_name: str, charter: bool | TravelTerms, pay: Pay, to_provider: bool = False, sent: bool = False,
                    confirmed_since: date | None = None, travel_days: Sequence[date] = ()) -> str:
    """Say in plain words whether travel time is paid, and how much it comes to; to the provider themselves, about "you".

    `sent`: the sheet's terms were fixed when it was sent; `confirmed_since`: the day a broker confirmed the charter
    after a sheet was sent waiting for it; `travel_days`: the days of the week's visits with travel.
    """
    terms = charter if isinstance(charter, TravelTerms) else TravelTerms(paid=bool(charter))
    who = "you have" if to_provider else f"{provider_name} has"
    recorded = f" ({minutes_words(pay.travel_minutes)} of travel this week)" if pay.travel_minutes else ""
    keeps = "you keep" if to_provider else f"{provider_name} keeps"
    if terms.awaiting and not terms.paid:
        if not sent:
            return (f"Travel time is not paid yet: a broker has not confirmed that {keeps} the Ethical Care Charter{recorded}. "
                    "Once a broker confirms it, travel is paid for visits from that day.")
        if confirmed_since is not None and travel_days and max(travel_days) < confirmed_since:
            # Sent later, the week would have paid no more: all its travel came before the confirmation.
            days = words_list([weekday_date(day) for day in sorted(set(travel_days))])
            return f"Travel on {days} is not paid: it was before a broker confirmed the Ethical Care Charter on {weekday_date(confirmed_since)}."
        said = (f"Travel time is not paid on this timesheet: when it was sent, a broker had not yet confirmed that {keeps} "
                f"the Ethical Care Charter{recorded}.")
        if confirmed_since is not None:
            said += (f" A broker confirmed it on {weekday_date(confirmed_since)}, after the timesheet was sent. This week's pay was fixed "
                     "when it was sent, so its travel stays unpaid; travel is paid for visits from that day.")
        return said
    if not terms.paid:
        if sent:
            had = "you had" if to_provider else f"{provider_name} had"
            return f"Travel time is not paid on this timesheet: {had} not signed the Ethical Care Charter when it was sent{recorded}."
        if pay.travel_minutes:
            return f"Travel time is recorded but not paid: {who} not signed the Ethical Care Charter{recorded}."
        return f"Travel time is not paid: {who} not signed the Ethical Care Charter."
    because = charter_kept(terms, provider_name=provider_name, to_provider=to_provider)
    # Kept and confirmed before, and ticked again since: the days of the new tick wait for a broker.
    waits = ((" When it was sent, a broker had not yet confirmed" if sent else " A broker has not yet confirmed")
             + f" that {keeps} the Ethical Care Charter again, so travel after that is not paid yet.") if terms.awaiting else ""
    if not pay.travel_minutes:
        return f"Travel time is paid because {because}: no travel is recorded this week.{waits}"
    if not pay.paid_travel_minutes:
        return f"Travel time is not paid on this timesheet: the {minutes_words(pay.travel_minutes)} of travel was on days {charter_days(terms)}.{waits}"
    said = (f"Travel time is paid because {because}: "
            f"{minutes_words(pay.paid_travel_minutes)} of travel at {pounds(pay.rate_pence)} an hour = {pounds(pay.travel_pence)}.")
    unpaid = pay.travel_minutes - pay.paid_travel_minutes
    if unpaid:
        said += f" {minutes_words(unpaid)} of travel is not paid: it was on days {charter_days(terms)}."
    return said + waits


def charter_kept(terms: TravelTerms, *, provider_name: str, to_provider: bool) -> str:
    """Say that the provider kept the charter, on the days it covered, for travel that is paid."""
    who = "you" if to_provider else provider_name
    if terms.earlier:
        if len(joined := _joined(terms.periods)) == 1 and joined[0][1] is None:
            who = "you have" if to_provider else f"{provider_name} has"
        return f"{who} kept the Ethical Care Charter {_spans(terms)}"
    if terms.from_day is None and terms.until_day is None:
        return f"{'you have' if to_provider else f'{provider_name} has'} signed the Ethical Care Charter"
    if terms.until_day is None:
        return f"{'you have' if to_provider else f'{provider_name} has'} kept the Ethical Care Charter since {weekday_date(terms.from_day)}"
    if terms.from_day is None:
        return f"{who} kept the Ethical Care Charter until {weekday_date(terms.until_day)}"
    return f"{who} kept the Ethical Care Charter {_span(terms.from_day, terms.until_day)}"


def charter_days(terms: TravelTerms) -> str:
    """Say which days the charter covered, for travel on days outside them."""
    if terms.earlier:
        return f"outside the times the Ethical Care Charter was kept and confirmed, {_spans(terms)}"
    if terms.from_day is not None and terms.until_day is not None:
        return f"outside the time the Ethical Care Charter was kept and confirmed, {_span(terms.from_day, terms.until_day)}"
    if terms.from_day is not None:
        return f"before a broker confirmed the Ethical Care Charter ({weekday_date(terms.from_day)})"
    return f"after the Ethical Care Charter was given up on {weekday_date(terms.until_day)}"


def _span(first: date, last: date) -> str:
    return f"on {weekday_date(first)}" if first == last else f"from {weekday_date(first)} to {weekday_date(last)}"


def _spans(terms: TravelTerms) -> str:
    # "from Monday 2 November to Wednesday 4 November 2026 and since Friday 6 November 2026": each period, oldest first.
    said = []
    for first, last in _joined(terms.periods):
        if first is None:
            said.append(f"until {weekday_date(last)}" if last is not None else "on every day")
        elif last is None:
            said.append(f"since {weekday_date(first)}")
        else:
            said.append(_span(first, last))
    return words_list(said)


def _joined(periods) -> list:
    # A period that starts on or the day after the last day of the one before reads as one: a re-tick the day after, or the same day.
    joined: list = []
    for first, last in periods:
        if joined and joined[-1][1] is not None and first is not None and first <= joined[-1][1] + timedelta(days=1):
            joined[-1] = (joined[-1][0], None if last is None else max(last, joined[-1][1]))
        else:
            joined.append((first, last))
    return joined


def travel_note(*, travel_paid: bool, awaiting: bool, outside: bool = False) -> str | None:
    """Return why a sent sheet's travel is not paid, in a few words for a list, or None where it is paid.

    `outside`: travel was recorded but none of it paid, all on days outside those the charter was kept and confirmed.
    """
    if outside and travel_paid:
        return "Not paid: the travel was on days outside those the Ethical Care Charter was kept and confirmed"
    if awaiting and not travel_paid:
        return "Not paid: a broker had not confirmed the Ethical Care Charter when it was sent"
    if not travel_paid:
        return "Not paid: no Ethical Care Charter when it was sent"
    return None
