"""Errors of the accounts domain."""

from brokerage.errors import BrokerageError


class SignInFailed(BrokerageError):
    """The email or password was wrong; deliberately vague."""

    status = 401


class AccountSwitchedOff(SignInFailed):
    """The password was right, but an administrator has switched the account off: it says whom to ask.

    Only someone who knows the password is told, so it reveals nothing about who has an account.
    """

    status = 403


class AccountLocked(BrokerageError):
    """Too many failed sign-ins; the account is locked for a while."""

    status = 429

    def __init__(self, message: str, *, field: str | None = None, retry_after: int | None = None):
        super().__init__(message, field=field)
        self.retry_after = retry_after


class DuplicateEmail(BrokerageError):
    """Another account already uses this email address."""

    status = 409


class DuplicateCouncil(BrokerageError):
    """Another council already uses this short name."""

    status = 409


class RoleInUse(BrokerageError):
    """The account still owns records of its role, so the role cannot change yet."""

    status = 409
