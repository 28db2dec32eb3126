"""The check every database test runs (tests/conftest.py): a test that leaves committed rows behind fails, whatever ran before it."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from tests import factories as f
from tests.conftest import no_committed_rows_left


def _commit_a_council(engine) -> None:
    with sessionmaker(bind=engine, class_=Session)() as session:
        f.CouncilFactory(session=session, slug="leak-check-probe")
        session.commit()


def _delete_it(engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM council WHERE slug = 'leak-check-probe'"))


def test_a_block_that_commits_a_row_fails_and_so_does_the_one_that_deletes_it(engine, db_url):
    with no_committed_rows_left(engine):
        pass  # nothing committed: passes, and the counts it leaves are the next block's start
    try:
        with pytest.raises(AssertionError, match=r"left committed rows behind .*'council': 1"):
            with no_committed_rows_left(engine):
                _commit_a_council(engine)
        # The next check starts from what the last one left, the council included: deleting it is a change too.
        with pytest.raises(AssertionError, match=r"'council': -1"):
            with no_committed_rows_left(engine):
                _delete_it(engine)
    finally:
        _delete_it(engine)
    with no_committed_rows_left(engine):
        pass
