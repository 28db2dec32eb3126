"""A few places to look up: two full postcodes and three districts."""

from __future__ import annotations

import pytest

from brokerage.places.rules import Centroid
from brokerage.places.services import store_centroids

PLACES = [
    Centroid("E1 6AN", "E1", 51.5203, -0.0714, False),
    Centroid("E1W 1LA", "E1W", 51.5067, -0.0712, False),
    Centroid("E1", "E1", 51.5155, -0.0590, True),
    Centroid("E2", "E2", 51.5290, -0.0600, True),
    Centroid("LS6", "LS6", 53.8196, -1.5796, True),
]


@pytest.fixture()
def places(session):
    """Store the places above in the test's transaction (these tests count them, so they are their own)."""
    store_centroids(session=session, centroids=PLACES)
    session.flush()
    return PLACES
