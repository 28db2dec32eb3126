"""Connect the domain packages' cross-package hooks; called once by `create_app` (the top layer).

A lower package offers a registry; a higher package registers what it owns here, so no lower package
ever imports a higher one (issue 9: the ledger knows no domain, clusters never imports matching).
"""

from __future__ import annotations

from brokerage.clusters import actions as proposal_actions
from brokerage.clusters.rules import ProposalKind
from brokerage.matching.decisions import CARE_MATCH


def connect_domains() -> None:
    """Register every package's hooks; safe to call more than once."""
    _connect_proposal_actions()


# --- proposal actions: what a passed proposal of another package's kind does -------------------


def _connect_proposal_actions() -> None:
    """Register the kinds of proposal whose action belongs to a package above clusters (clusters' own are built in)."""
    proposal_actions.register(ProposalKind.accept_match, CARE_MATCH)
