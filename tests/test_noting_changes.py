"""`db.noting_changes` tells a page whether a save changed anything, so it never says "saved" for nothing."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Council
from brokerage.db import noting_changes
from brokerage.errors import ValidationFailed


def test_equal_values_are_no_change_and_a_new_value_an_insert_or_a_delete_are(session, world):
    council = session.exec(select(Council).order_by(Council.id)).first()
    with noting_changes(session) as changes:
        council.name = str(council.name)  # the same value again
        council.notice_weeks = int(council.notice_weeks)
    assert changes.none and changes.rows == 0
    with noting_changes(session) as changes:
        council.notice_weeks += 1
    assert not changes.none and changes.rows == 1
    extra = Council(slug="noting-test", name="Noting", area_districts="", cluster_min_size=3, cluster_max_size=8, notice_weeks=4,
                    surplus_weeks=8, quorum_percent=50, majority_percent=50, dissolve_numerator=2, dissolve_denominator=3)
    with noting_changes(session) as changes:
        session.add(extra)
    assert changes.rows == 1
    with noting_changes(session) as changes:
        session.delete(extra)
    assert changes.rows == 1


def test_a_refused_save_stops_counting(session, world):
    council = session.exec(select(Council).order_by(Council.id)).first()
    with pytest.raises(ValidationFailed), noting_changes(session) as changes:
        raise ValidationFailed({"name": "Enter the name"})
    assert changes.none
    council.notice_weeks += 1
    session.flush()  # after the block: nothing is counted any more
    assert changes.rows == 0
