"""Errors of the ledger."""

from brokerage.errors import BrokerageError


class LedgerError(BrokerageError):
    """A ledger operation was refused."""

    status = 422


class Unbalanced(LedgerError):
    """The postings do not sum to zero, or there are fewer than two."""


class Overdraft(LedgerError):
    """A non-negative account would go below zero."""


class IdempotencyConflict(LedgerError):
    """The idempotency key was used before for different content."""

    status = 409


class AlreadyReversed(LedgerError):
    """The entry has been reversed before."""

    status = 409


class UnknownAccount(LedgerError):
    """No such account in this council."""

    status = 404


class TamperDetected(LedgerError):
    """Verification found a record that does not match its hash or the rules."""

    status = 500


class UnknownKind(LedgerError):
    """The entry's kind is not one of the ledger's EntryKinds."""


class ActorRequired(TypeError):
    """A ledger service was called with no actor: a programming error, never a user's.

    Jobs and command-line runs act as their council's system user (brokerage.accounts.system).
    """


class OwnerCheckMissing(RuntimeError):
    """No domain package registered the check for an account's owner, so the ledger refuses the account.

    The checks are registered by brokerage.wiring.connect_domains(), which create_app calls.
    """


class LedgerDatabaseRefused(LedgerError):
    """A database check refused entries the application had checked (a rule of migration 0002); nothing was written."""

    status = 409
