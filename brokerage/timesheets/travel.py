"""Travel time in plain words: whether a week's travel is paid, how much, and why not. Pure: no Flask, no SQL.

A sheet still with its provider is worded by the charter as it stands today. A sent sheet keeps the travel terms it
was sent under (`rules.TravelTerms`, fixed on the sheet) and is worded by them, in the past tense: one sent while a
broker had not yet confirmed the provider's own tick says so, even once a broker has confirmed it since.
"""

from __future__ import annotations

from datetime import date

from brokerage.formatting import minutes_words, pounds, weekday_date
from brokerage.timesheets.rules import Pay, TravelTerms


def travel_sentence(*, provider_name: str, charter: bool | TravelTerms, pay: Pay, to_provider: bool = False, sent: bool = False,
                    confirmed_since: date | None = None) -> str:
    """Say in plain words whether travel time is paid, and how much it comes to; to the provider themselves, about "you".

    `sent`: the sheet's terms were fixed when it was sent; `confirmed_since`: the day a broker confirmed the charter
    after a sheet was sent waiting for it.
    """
    terms = charter if isinstance(charter, TravelTerms) else TravelTerms(paid=bool(charter))
    who = "you have" if to_provider else f"{provider_name} has"
    recorded = f" ({minutes_words(pay.travel_minutes)} of travel this week)" if pay.travel_minutes else ""
    if terms.awaiting:
        keeps = "you keep" if to_provider else f"{provider_name} keeps"
        if not sent:
            return (f"Travel time is not paid yet: a broker has not confirmed that {keeps} the Ethical Care Charter{recorded}. "
                    "Once a broker confirms it, travel is paid for visits from that day.")
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
    if not pay.travel_minutes:
        return f"Travel time is paid because {who} signed the Ethical Care Charter: no travel is recorded this week."
    said = (f"Travel time is paid because {who} signed the Ethical Care Charter: "
            f"{minutes_words(pay.paid_travel_minutes)} of travel at {pounds(pay.rate_pence)} an hour = {pounds(pay.travel_pence)}.")
    unpaid = pay.travel_minutes - pay.paid_travel_minutes
    if unpaid:
        said += f" {minutes_words(unpaid)} of travel is not paid: it was on days {charter_days(terms)}."
    return said


def charter_days(terms: TravelTerms) -> str:
    """Say which days the charter covered, for travel on days outside them."""
    if terms.from_day is not None and terms.until_day is not None:
        return f"outside the time the charter was kept, from {weekday_date(terms.from_day)} to {weekday_date(terms.until_day)}"
    if terms.from_day is not None:
        return f"before the charter was agreed and confirmed, on {weekday_date(terms.from_day)}"
    return f"after the charter was given up on {weekday_date(terms.until_day)}"


def travel_note(*, travel_paid: bool, awaiting: bool) -> str | None:
    """Return why a sent sheet's travel is not paid, in a few words for a list, or None where it is paid."""
    if awaiting:
        return "Not paid: a broker had not confirmed the Ethical Care Charter when it was sent"
    if not travel_paid:
        return "Not paid: no Ethical Care Charter when it was sent"
    return None
