"""What the emails about providers say (applying to offer care, a charter to confirm): plain text in plain English, one function per email (pure: no Flask, no database)."""

from __future__ import annotations

from brokerage.formatting import plural
from brokerage.mail.rules import Message

SUBJECT = "Your application to offer care on carepool"


def confirm_application(*, to: str, name: str, link: str, hours: int) -> Message:
    """Return the email with the link that confirms the address and sends an application to offer care."""
    body = f"""Hello {name},

Thank you for applying to offer care through carepool.

To send your application to the council's brokers, open this link and press "Confirm and send my application":

{link}

This also checks that this email address is yours. Your application is not sent, and no account is made, until you do this.

The link works once, for {plural(hours, "hour")}. If it has run out, fill in the form again.

If you did not apply to offer care, you can ignore this email. Nothing happens unless you open the link and confirm.

carepool
"""
    return Message(to=to, subject=SUBJECT, body=body)


def already_have_account(*, to: str, name: str, sign_in: str) -> Message:
    """Return the email to the owner of an address someone used to apply to offer care, when it already has an account."""
    body = f"""Hello {name},

Someone, perhaps you, filled in the form to offer care on carepool with this email address.

You already have a carepool account with this address, so no application was made and nothing has changed.

To sign in, go to:

{sign_in}

If you have forgotten your password, choose "Forgotten your password?" on that page.

If this was not you, you can ignore this email. Nobody can use your account without your password.

carepool
"""
    return Message(to=to, subject=SUBJECT, body=body)


def charter_to_confirm(*, to: str, name: str, provider: str, their: str, since: str, link: str) -> Message:
    """Return the email asking a broker to confirm a provider's tick of the Ethical Care Charter: its travel is unpaid until then."""
    body = f"""Hello {name},

{provider} ticked the Ethical Care Charter on {their} profile on {since}. It is waiting for a broker to confirm it.

Until a broker confirms it, {their} travel time is not paid. Travel is paid only for visits from the day it is confirmed, not before, so please check it soon.

Check that {provider} keeps the charter (for example {their} signed commitment or {their} contracts of employment), then press "Confirm the Ethical Care Charter" on {their} page:

{link}

Any broker of the council can confirm it. Charter ticks waiting for a broker are also listed on your dashboard.

carepool
"""
    return Message(to=to, subject=f"Please confirm the Ethical Care Charter of {provider}", body=body)
