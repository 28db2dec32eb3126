"""Background jobs that belong to accounts and councils."""

from __future__ import annotations

from sqlmodel import func, select

from brokerage.accounts.models import Council
from brokerage.db import session_scope


def ping(*, message: str = "pong") -> dict:
    """Answer with the message and the number of councils, proving the job saw the database."""
    with session_scope() as session:
        councils = session.exec(select(func.count()).select_from(Council)).one()
    return {"message": message, "councils": councils}
