"""Errors of the clusters domain."""

from sqlalchemy.exc import SQLAlchemyError

from brokerage.errors import BrokerageError, Conflict
from brokerage.formatting import date_time

# What one bad record may raise in a run over many; anything else is a fault in the program.
RECORD_ERRORS = (BrokerageError, SQLAlchemyError)


def failure_message(error: Exception) -> str:
    """Return one plain line saying why one record in a run failed."""
    if isinstance(error, BrokerageError):
        return error.message
    detail = str(getattr(error, "orig", error)).splitlines()[0][:200] if str(error) else ""
    return f"the database refused it ({type(error).__name__}: {detail})"


class ClusterError(BrokerageError):
    """A cluster action was refused."""

    status = 422


class BadTransition(ClusterError):
    """A status cannot move that way."""

    status = 409


class PledgeTooHigh(ClusterError):
    """Pledges would exceed the holder's allocation."""


class NotAMember(ClusterError):
    """The person is not an eligible member."""

    status = 403


class ProposalClosed(ClusterError):
    """The proposal is already decided or past its deadline."""

    status = 409


class AlreadyVoted(ClusterError):
    """This member has voted on this proposal already."""

    status = 409


class ClusterFull(ClusterError):
    """The cluster has reached its maximum size."""

    status = 409


class BadPeriod(ClusterError):
    """A money run was given a week it may not post for."""

    status = 422


class AlreadyJoined(ClusterError):
    """The holder has already asked to join this cluster, or is a member."""

    status = 409


class ProposalActionMissing(LookupError):
    """No action is registered for a kind of proposal: a wiring fault in the program, never a member's mistake.

    Deliberately not a BrokerageError: a decision must stop loudly here, not close as "no longer needed".
    """


class SameDecisionOpen(Conflict):
    """The same decision (kind, title, details) is already open for the group's vote: go to it, open no second one."""

    def __init__(self, proposal):
        super().__init__(f"This decision is already open for the group's vote (put forward on {date_time(proposal.created_at)}), "
                         "so it was not put forward again. Here it is.")
        self.proposal_id = proposal.id
