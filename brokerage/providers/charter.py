"""The Ethical Care Charter on a provider's profile: the days it was agreed and given up, and a broker's confirmation of it.

Travel time is paid only for visits on days the charter was kept, from the day a broker confirmed it
(`timesheets.rules.travel_terms`). A provider ticking it on its own profile, or applying with it, waits for
a broker to confirm it, as vetting evidence waits to be verified; a broker who ticks it has checked it.
A charter ticked before these days were kept has no day agreed and none confirmed: its travel is paid for
every visit, as it always was, until a broker looks at it. Confirming it changes nobody's pay (its travel
stays paid for every visit); a broker who finds it is not kept unticks it, which stops travel from that day.
Each period kept and confirmed stays paid: ticked again on a later day, the period given up is kept in
`Provider.charter_earlier`, on the provider's row and so under its lock, and travel on its days stays paid.
Services flush, never commit.
"""

from __future__ import annotations

from datetime import date
from typing import NamedTuple

from sqlmodel import Session, select

from brokerage import clock
from brokerage.access import get_or_404
from brokerage.accounts.models import Role, User
from brokerage.errors import Conflict, NotAllowed, NotFound
from brokerage.formatting import its, weekday_date
from brokerage.locks import lock_row
from brokerage.mail import services as mail
from brokerage.providers import messages
from brokerage.providers.models import Provider
from brokerage.providers.rules import ProviderStatus, periods_to_json


def record_charter(provider: Provider, charter: bool, *, broker_id: int | None = None) -> None:
    """Set the charter flag, keeping the day it was agreed or given up; a broker (broker_id) ticking it confirms it too."""
    charter = bool(charter)
    if charter != bool(provider.ethical_care_charter):
        today = clock.today()
        if charter and provider.charter_until == today and provider.charter_confirmed_by_id is not None:
            # Ticked again on the day it was given up, a period a broker confirmed resumes as it was: nothing was ever not
            # kept, so its days stay confirmed and paid. Not after a broker gave it up (that empties the confirmer), nor an
            # unconfirmed tick; a tick on a later day opens a new period from that day.
            provider.charter_until = None
        elif charter:
            # A new period from today: the one given up keeps its days paid, if a broker had confirmed it (or it predates these days).
            if (closed := _paid_period(provider)) is not None:
                provider.charter_earlier = [*(provider.charter_earlier or []), *periods_to_json([closed])]
            confirmed = (today, broker_id) if broker_id is not None else (None, None)
            provider.charter_since, provider.charter_until = today, None
            provider.charter_confirmed_on, provider.charter_confirmed_by_id = confirmed
        else:
            provider.charter_until = today
            if broker_id is not None:
                # A broker found it is not kept: the days confirmed before stay paid, but ticking it again waits for a broker.
                provider.charter_confirmed_by_id = None
    provider.ethical_care_charter = charter


def _paid_period(provider: Provider) -> tuple[date | None, date] | None:
    # The period last given up, from the later of the days it was agreed and confirmed to the day it was given up, if its travel was paid.
    since, until, confirmed = provider.charter_since, provider.charter_until, provider.charter_confirmed_on
    if until is None or (since is not None and confirmed is None):
        return None
    first = max(since, confirmed) if since is not None else None
    return (first, until) if first is None or first <= until else None


class CharterConfirmation(NamedTuple):
    """A broker's press of Confirm: the provider, and the day it was already confirmed when the press changed nothing."""

    provider: Provider
    already_on: date | None


def confirm_charter(*, session: Session, actor: User, provider_id: int) -> CharterConfirmation:
    """Record that a broker has checked the provider keeps the Ethical Care Charter: its travel is paid for visits from today."""
    provider = get_or_404(session, actor, Provider, provider_id, what="provider")
    if actor.role != Role.broker:
        raise NotAllowed("Only a broker can confirm that a provider keeps the Ethical Care Charter.")
    provider = lock_row(session, Provider, provider.id)
    if not provider.ethical_care_charter:
        raise Conflict(f"{provider.name} has not said it keeps the Ethical Care Charter, so there is nothing to confirm.")
    if provider.charter_confirmed_on is not None:
        # A second press (a stale tab, a double click) keeps the day first confirmed, and says so.
        return CharterConfirmation(provider, provider.charter_confirmed_on)
    provider.charter_confirmed_on, provider.charter_confirmed_by_id = clock.today(), actor.id
    session.add(provider)
    session.flush()
    return CharterConfirmation(provider, None)


def waiting(provider: Provider) -> bool:
    """Tell whether the provider's tick of the charter waits for a broker to confirm it."""
    return bool(provider.ethical_care_charter) and provider.charter_confirmed_on is None


def tell_brokers(*, session: Session, provider: Provider, was_waiting: bool) -> int:
    """Email the council's brokers when an approved provider's tick of the charter has just begun waiting for them; return how many were sent.

    Travel is paid only from the day a broker confirms it, never before, so each day it waits unseen costs the provider.
    An application's tick is not sent: brokers review the application, and once approved it is on their dashboard.
    """
    if was_waiting or not waiting(provider) or provider.status != ProviderStatus.approved:
        return 0
    brokers = list(session.exec(select(User).where(
        User.council_id == provider.council_id, User.role == Role.broker, User.is_active_account.is_(True)).order_by(User.name, User.id)))
    link = mail.link("providers.show", provider_id=provider.id)
    for broker in brokers:
        mail.send(session=session, message=messages.charter_to_confirm(
            to=broker.email, name=broker.name, provider=provider.name, their=its(provider.kind),
            since=weekday_date(provider.charter_since or clock.today()), link=link))
    return len(brokers)


def unconfirmed_charters(*, session: Session, actor: User) -> list[Provider]:
    """Return the council's approved providers whose charter no broker has confirmed: undated ticks first, then by the day ticked."""
    if actor.role not in (Role.broker, Role.council_officer):
        raise NotFound()
    rows = session.exec(select(Provider).where(
        Provider.council_id == actor.council_id, Provider.status == ProviderStatus.approved,
        Provider.ethical_care_charter.is_(True), Provider.charter_confirmed_on.is_(None),
    ))
    return sorted(rows, key=lambda p: (p.charter_since is not None, p.charter_since or date.min, p.name, p.id))


def confirmed_words(provider: Provider, *, already_on: date | None = None) -> str:
    """Say what a broker's confirmation of the charter means for the provider's travel pay, or that it was already confirmed."""
    if already_on is not None:
        return f"{provider.name}'s Ethical Care Charter was already confirmed on {weekday_date(already_on)}; nothing has changed."
    if provider.charter_since is None:
        return (f"Confirmed: {provider.name} keeps the Ethical Care Charter. They ticked the charter before those days were recorded, "
                "so their travel time stays paid for every visit, as before.")
    # "Their", not "its": a provider may be a personal assistant, a person.
    return f"Confirmed: {provider.name} keeps the Ethical Care Charter. Their travel time is paid for visits from today."
