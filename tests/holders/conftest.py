"""Helpers for holder tests: sensitive details stored as if the holder had consented."""

from __future__ import annotations

import pytest

from brokerage.holders.models import SensitiveDetail, SensitiveItem, Visibility


@pytest.fixture()
def share(session):
    """Return a function that stores a holder's sensitive item with recorded consent."""

    def store(holder, item: str, value: str, visibility: str, *, by) -> SensitiveDetail:
        row = SensitiveDetail(council_id=holder.council_id, holder_id=holder.id, item=SensitiveItem(item), value=value,
                              visibility=Visibility(visibility), consent_recorded_by_id=by.id)
        session.add(row)
        session.flush()
        return row

    return store
