"""A council's surplus rule: read it (defaults when never set), and let a council officer set their own council's."""

from __future__ import annotations

from sqlmodel import Session

from brokerage.accounts.models import Council, Role, User
from brokerage.errors import NotAllowed, NotFound, ValidationFailed
from brokerage.locks import lock_row
from brokerage.surplus.models import SurplusRule
from brokerage.surplus.rules import RuleKind, RuleSettings, check_settings
from brokerage.types import utcnow

SETTERS = (Role.council_officer,)


def rule_of(*, session: Session, council_id: int) -> RuleSettings:
    """Return the council's surplus rule; a council that never set one has the defaults (rule A, its surplus_weeks, 28 days)."""
    council = session.get(Council, council_id)
    if council is None:
        raise NotFound()
    row = session.get(SurplusRule, council_id)
    if row is None:
        return RuleSettings(weeks=council.surplus_weeks)
    return RuleSettings(kind=RuleKind(row.kind), weeks=council.surplus_weeks, multiple=row.multiple, notice_days=row.notice_days)


def council_rule(*, session: Session, actor: User) -> RuleSettings:
    """Return the officer's own council's rule, for the settings page."""
    if actor.role not in SETTERS:
        raise NotAllowed("Only a council officer can see the council's surplus rule here.")
    return rule_of(session=session, council_id=actor.council_id)


def set_rule(*, session: Session, actor: User, kind: str, weeks: int | None, multiple: int | None, notice_days: int) -> RuleSettings:
    """Set the officer's own council's surplus rule; raise ValidationFailed naming each field, changing nothing.

    Only the chosen rule's number is needed: the other rule's, left out (None), keeps the council's stored number.
    Flags already open keep the dates they were raised with; the next review reads the new rule (see docs/surplus.md).
    """
    if actor.role not in SETTERS:
        raise NotAllowed("Only a council officer can set the council's surplus rule.")
    problems = check_settings(kind=kind, weeks=weeks, multiple=multiple, notice_days=notice_days)
    if problems:
        raise ValidationFailed(problems)
    # The council's row guards its settings: two officers saving at once take turns, and the second one's answer stands.
    council = lock_row(session, Council, actor.council_id)
    stored = rule_of(session=session, council_id=council.id)
    weeks = stored.weeks if weeks is None else weeks
    multiple = stored.multiple if multiple is None else multiple
    row = session.get(SurplusRule, council.id)
    before = None if row is None else (row.kind, row.multiple, row.notice_days, council.surplus_weeks)
    if row is None:
        row = SurplusRule(council_id=council.id)
    row.kind, row.multiple, row.notice_days = RuleKind(kind), multiple, notice_days
    council.surplus_weeks = weeks
    if (row.kind, row.multiple, row.notice_days, council.surplus_weeks) != before:  # the same rule again records no change
        row.updated_by_id, row.updated_at = actor.id, utcnow()
    session.add_all([council, row])
    session.flush()
    return rule_of(session=session, council_id=council.id)
