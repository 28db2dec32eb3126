"""What the emails about applying to offer care say: plain text in plain English, one function per email (pure: no Flask, no database)."""

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
