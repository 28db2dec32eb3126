"""When the next scheduled seal is due, and when sealing looks stopped (pure rules)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from brokerage.ledger.rules import next_seal_due, seal_overdue

EVERY = timedelta(minutes=10)
LAST = datetime(2026, 6, 15, 13, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize(("minutes_after", "due_after"), [(0, 10), (3, 10), (9, 10), (10, 20), (38, 40), (600, 610)])
def test_the_next_seal_is_the_next_whole_period_after_the_last_one(minutes_after, due_after):
    now = LAST + timedelta(minutes=minutes_after)
    assert next_seal_due(last_sealed_at=LAST, now=now, every=EVERY) == LAST + timedelta(minutes=due_after)


def test_without_a_seal_the_next_is_one_period_from_now():
    now = LAST + timedelta(hours=5)
    assert next_seal_due(last_sealed_at=None, now=now, every=EVERY) == now + EVERY
    # A seal stamped in the future (clocks of two machines) is not trusted either.
    assert next_seal_due(last_sealed_at=now + timedelta(minutes=1), now=now, every=EVERY) == now + EVERY


def test_an_interval_must_be_positive():
    with pytest.raises(ValueError):
        next_seal_due(last_sealed_at=LAST, now=LAST, every=timedelta(0))


@pytest.mark.parametrize(("waited", "overdue"), [(None, False), (5, False), (20, False), (21, True)])
def test_sealing_is_overdue_when_an_entry_waited_more_than_two_periods(waited, overdue):
    oldest = None if waited is None else LAST - timedelta(minutes=waited)
    assert seal_overdue(oldest_unsealed_at=oldest, now=LAST, every=EVERY) is overdue
