"""The one access helper every view uses: who may use a route, and which council's records."""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING, Callable, TypeVar

from flask_login import current_user

from brokerage.errors import NotAllowed, NotFound
from brokerage.extensions import login_manager
from brokerage.types import Role

if TYPE_CHECKING:
    from sqlmodel import Session

    from brokerage.accounts.models import User

STAFF = (Role.broker, Role.council_officer)

Record = TypeVar("Record")


def roles_required(*roles: Role) -> Callable:
    """Let only signed-in users with one of these roles use the view; others get 403."""
    allowed = {Role(r) for r in roles}

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if current_user.role not in allowed:
                raise NotAllowed("Your account does not give you access to this page.")
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed  # read by the route-matrix test
        return wrapped

    return decorator


def same_council(actor: User, council_id: int | None, *, what: str = "record") -> None:
    """Raise NotFound unless the record belongs to the actor's council (admins see all).

    `what` only tells the reader of the code what is checked: the answer is exactly the one a missing
    record gets (same status, same message), so another council's ids are not even confirmed to exist.
    """
    if actor is None:
        # A programming error, not a refusal: every service knows who acts (a job acts as its council's
        # system user, brokerage.accounts.system), so nothing is ever done without a council check.
        raise TypeError("a service was called without the acting user")
    if actor.role == Role.admin:
        return
    if council_id is None or actor.council_id != council_id:
        raise NotFound()


def get_or_404(session: Session, actor: User, model: type[Record], record_id: int, *, what: str = "record") -> Record:
    """Load a record by id, or raise NotFound if it is missing or belongs to another council.

    The one "load a record and check its council": both cases give the same answer (see `same_council`).
    """
    record = session.get(model, record_id)
    if record is None:
        raise NotFound()
    same_council(actor, record.council_id, what=what)
    return record
