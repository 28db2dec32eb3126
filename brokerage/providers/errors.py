"""Errors of the providers domain."""

from __future__ import annotations

from brokerage.errors import BrokerageError, Conflict, NotAllowed


class SameChecker(NotAllowed):
    """Four eyes: the person who added a piece of evidence may not also verify it."""

    def __init__(self, message: str, *, provider_id: int):
        super().__init__(message)
        self.provider_id = provider_id


class BadProviderMove(Conflict):
    """A provider's status cannot move from where it is to that one."""


# One answer for every link to confirm an application that does not work (never sent, used, replaced by a newer
# application, run out): a different answer for each would tell whoever holds a link which one it is.
APPLICATION_LINK_NOT_USABLE = (
    "This link cannot be used. It may have been used already, replaced by a newer application, or it may have run out. "
    "If your application was not sent, fill in the form again."
)


class ApplicationLinkNotUsable(BrokerageError):
    """A link to confirm an application to offer care that cannot be used; every reason answers exactly alike (410 Gone, one plain page)."""

    status = 410
    title = "This link cannot be used"

    def __init__(self, message: str = APPLICATION_LINK_NOT_USABLE, *, field: str | None = None):
        super().__init__(APPLICATION_LINK_NOT_USABLE, field=field)


class ApplicationOutdated(Conflict):
    """A confirmed application no longer passes its checks (the address has an account by now, or no council covers the postcode)."""

    title = "Your application was not sent"
