"""Council audit: who looked at which holder's record."""

from brokerage.audit.services import log_access  # noqa: F401
