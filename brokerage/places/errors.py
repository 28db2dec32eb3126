"""Errors of postcodes: one that is not a postcode, and one carepool does not know where it is."""

from __future__ import annotations

from brokerage.errors import BrokerageError

INVALID_MESSAGE = "Enter a full UK postcode, like E1 6AN"
# What staff can do about a postcode carepool does not know; people who cannot ask an administrator are told
# something they can do (`remedy`).
STAFF_REMEDY = "If it is, ask a carepool administrator to add it"


class InvalidPostcode(BrokerageError):
    """The text is not a full UK postcode."""

    status = 422

    def __init__(self, message: str = INVALID_MESSAGE, *, field: str = "postcode"):
        super().__init__(message, field=field)


class UnknownPostcode(BrokerageError):
    """A well-formed postcode whose place, and whose district's, is not in the table of centroids."""

    status = 422

    def __init__(self, postcode: str, *, field: str = "postcode", remedy: str = STAFF_REMEDY):
        super().__init__(f"We do not know where {postcode} is. Check it is right. {remedy}", field=field)
        self.postcode = postcode
