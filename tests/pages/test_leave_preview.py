"""The leave page says what unspent money the council may take back from the share it promises to return."""

from __future__ import annotations

import re
from datetime import date

from brokerage.accounts.models import Role
from brokerage.surplus.models import SurplusFlag
from brokerage.surplus.rules import RuleKind


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def test_the_leave_page_says_what_the_council_may_take_back_before_the_share_returns(client, auth, world, session):
    # It promised the whole share back on the day the council could take most of it back, and said nothing of that.
    records = world.records["a"]
    session.add(SurplusFlag(council_id=world.councils["a"].id, cluster_id=records["cluster"].id, holder_id=records["holder"].id,
                            membership_id=records["membership"].id, rule=RuleKind.unspent_weeks, amount_pence=41_313, reason="Unspent",
                            raised_on=date(2026, 11, 30), clawback_from=date(2027, 1, 2), reviewed_on=date(2026, 11, 30)))
    session.commit()
    auth.sign_in(world.users["a"][Role.holder].email)
    text = _text(client.get(f"/clusters/memberships/{records['membership'].id}/leave"))
    # Notice ends the flag (the daily review applies the rule to active members only): the page says so, as the officer's does.
    assert ("Some of this share has not been spent, and the council could take back up to £413.13 of it from 2 January 2027. "
            "Once notice is given, it no longer can: the share a member leaves with goes back to their wallet.") in text


def test_without_a_flag_the_leave_page_says_nothing_of_taking_back(client, auth, world):
    records = world.records["a"]
    auth.sign_in(world.users["a"][Role.holder].email)
    text = _text(client.get(f"/clusters/memberships/{records['membership'].id}/leave"))
    assert "take back" not in text and "Give notice to leave?" in text
