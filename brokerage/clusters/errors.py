"""Errors of the clusters domain."""

from brokerage.errors import BrokerageError


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


class AlreadyJoined(ClusterError):
    """The holder has already asked to join this cluster, or is a member."""

    status = 409
