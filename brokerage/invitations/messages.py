"""What the emails say: plain text in plain English, one function per email (pure: no Flask, no database)."""

from __future__ import annotations

from brokerage.formatting import plural
from brokerage.mail.rules import Message

SIGN_OFF = "carepool, for {council}"
NOT_YOU = "If you were not expecting this email, you can ignore it. Nothing happens unless you open the link."


def _days(days: int) -> str:
    return plural(days, "day")


def holder_invitation(*, to: str, name: str, council: str, broker: str, link: str, days: int) -> Message:
    """Return the email inviting a budget holder to make their own carepool account."""
    body = f"""Hello {name},

{broker}, your broker at {council}, has invited you to carepool.

carepool is where you can see your care budget, join a group of people like you to buy care together, and vote on what your group decides.

To make your account, open this link and choose a password:

{link}

The link works once, for {_days(days)}. If it has run out, ask your broker for a new one.

{NOT_YOU}

{SIGN_OFF.format(council=council)}
"""
    return Message(to=to, subject=f"{council}: make your carepool account", body=body)


def representative_invitation(*, to: str, name: str, holder: str, council: str, link: str, days: int, powers: list[str]) -> Message:
    """Return the email in which a holder asks someone to act for them."""
    allowed = "\n".join(f"- {power}" for power in powers)
    body = f"""Hello {name},

{holder} has asked you to help them with their care budget on carepool, for {council}.

They have chosen that you may:
{allowed}

To accept, open this link. If you do not have a carepool account yet, you will choose a password:

{link}

The link works once, for {_days(days)}. If it has run out, ask {holder} to send a new one. {holder} can stop you acting for them at any time.

{NOT_YOU}

{SIGN_OFF.format(council=council)}
"""
    return Message(to=to, subject=f"{holder} has asked you to help on carepool", body=body)


def provider_invitation(*, to: str, name: str, council: str, broker: str, link: str, days: int) -> Message:
    """Return the email inviting a provider or personal assistant the council registered to make their carepool account."""
    body = f"""Hello {name},

{broker}, a broker at {council}, has registered you on carepool as someone who provides care, and invited you to make your account.

With it you can keep your profile and the hours you are free up to date, record the visits you make on timesheets, and set up how you are paid. You are paid only for visits recorded on a timesheet.

To make your account, open this link and choose a password:

{link}

The link works once, for {_days(days)}. If it has run out, ask the broker for a new one.

{NOT_YOU}

{SIGN_OFF.format(council=council)}
"""
    return Message(to=to, subject=f"{council}: make your carepool account to record care and be paid", body=body)


def staff_invitation(*, to: str, name: str, role: str, council: str, link: str, days: int) -> Message:
    """Return the email inviting a broker or a council officer to make their carepool account."""
    body = f"""Hello {name},

You have been given a carepool account as a {role.lower()} for {council}.

To start, open this link and choose a password:

{link}

The link works once, for {_days(days)}. If it has run out, ask your carepool administrator for a new one.

{NOT_YOU}

{SIGN_OFF.format(council=council)}
"""
    return Message(to=to, subject=f"{council}: your carepool account", body=body)


def password_reset(*, to: str, name: str, link: str, minutes: int) -> Message:
    """Return the email with a link to choose a new password."""
    body = f"""Hello {name},

Someone asked to reset the password of your carepool account. If it was you, open this link to choose a new password:

{link}

The link works once, for {minutes} minutes. Choosing a new password signs you out everywhere else.

If you did not ask for this, you can ignore this email: your password has not changed.

carepool
"""
    return Message(to=to, subject="Reset your carepool password", body=body)


def account_switched_off(*, to: str, name: str, who: str) -> Message:
    """Return the email that answers a password reset asked for an account an administrator has switched off."""
    body = f"""Hello {name},

Someone asked to reset the password of your carepool account. Your account has been switched off, so you cannot
sign in with it and its password cannot be reset.

If you think that is a mistake, ask {who}.

If you did not ask for this, you can ignore this email.

carepool
"""
    return Message(to=to, subject="Your carepool account is switched off", body=body)
