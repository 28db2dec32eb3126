"""Whose ledger an actor may use: every ledger service names an actor, and reaches only that actor's council."""

from __future__ import annotations

from typing import TYPE_CHECKING

from brokerage.access import same_council
from brokerage.ledger.errors import ActorRequired

if TYPE_CHECKING:
    from brokerage.accounts.models import User


def check_scope(actor: User | None, council_id: int) -> None:
    """Raise NotFound unless the actor may use this council's ledger; no actor at all is a programming error."""
    if actor is None:
        raise ActorRequired(
            "A ledger service needs an actor: pass the signed-in user, or for a job or a command the council's "
            "system user (brokerage.accounts.system.system_actor)."
        )
    same_council(actor, council_id, what="account")
