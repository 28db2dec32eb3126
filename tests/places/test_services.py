"""Looking a postcode up: its own centre, else its district's, else a plain refusal; and storing centroids."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from brokerage.places.errors import InvalidPostcode, UnknownPostcode
from brokerage.places.models import PostcodeCentroid
from brokerage.places.rules import Centroid
from brokerage.places.services import Place, district_centres, locate, store_centroids, work_out_districts


def test_a_known_postcode_is_at_its_own_centre(session, places):
    assert locate(session=session, postcode=" e16an ") == Place("E1 6AN", "E1", 51.5203, -0.0714, exact=True)


def test_an_unlisted_postcode_in_a_known_district_is_at_the_districts_centre(session, places):
    assert locate(session=session, postcode="E2 9PA") == Place("E2 9PA", "E2", 51.5290, -0.0600, exact=False)
    with pytest.raises(UnknownPostcode):
        locate(session=session, postcode="E3 2SJ")  # E3 has no centre


def test_an_unknown_postcode_is_refused_with_a_plain_message_naming_it_and_the_field(session, places):
    with pytest.raises(UnknownPostcode) as refused:
        locate(session=session, postcode="e9 9zz", field="home_postcode")
    assert refused.value.message == "We do not know where E9 9ZZ is. Check it is right. If it is, ask a carepool administrator to add it"
    assert refused.value.field == "home_postcode" and refused.value.status == 422


@pytest.mark.parametrize("text", ["", "E1", "E1 6CA", "51.5155, -0.059", "E1 6AN\x00"])
def test_what_is_not_a_full_postcode_is_refused_before_any_lookup(session, places, text):
    with pytest.raises(InvalidPostcode) as refused:
        locate(session=session, postcode=text)
    assert refused.value.message == "Enter a full UK postcode, like E1 6AN" and refused.value.field == "postcode"


def test_a_district_is_never_placed_at_the_centre_of_a_district_whose_name_starts_its_own(session, places):
    # E1W 1LA has its own row; E1W has no centre, and E1's is not used for other postcodes in E1W.
    assert locate(session=session, postcode="E1W 1LA").exact
    with pytest.raises(UnknownPostcode):
        locate(session=session, postcode="E1W 2RG")


def test_district_centres_lists_only_the_districts_known(session, places):
    assert district_centres(session=session, districts=["e1", "E2", "E9", "E1 6AN"]) == {"E1": (51.5155, -0.0590), "E2": (51.5290, -0.0600)}
    assert district_centres(session=session, districts=[]) == {}


def test_storing_again_changes_nothing_and_a_moved_postcode_is_updated(session, places):
    again = store_centroids(session=session, centroids=places)
    assert (again.added, again.changed, again.unchanged) == (0, 0, 5)
    moved = store_centroids(session=session, centroids=[Centroid("E1 6AN", "E1", 51.5204, -0.0714, False), Centroid("E1 6AN", "E1", 51.5205, -0.0715, False)])
    assert (moved.added, moved.changed, moved.unchanged) == (0, 1, 0)  # given twice: the last place is kept
    assert locate(session=session, postcode="E1 6AN").lat == 51.5205


def test_a_district_centre_is_the_mean_of_its_postcodes(session, places):
    store_centroids(session=session, centroids=[Centroid("E1W 3TJ", "E1W", 51.5043, -0.0560, False)])
    done = work_out_districts(session=session, districts=["E1W", "E9"])
    assert (done.added, done.changed, done.unchanged) == (1, 0, 0)  # E9 has no postcodes: left alone
    assert district_centres(session=session, districts=["E1W"]) == {"E1W": (51.5055, -0.0636)}
    assert (work_out_districts(session=session, districts=["E1W"]).unchanged) == 1


@pytest.mark.parametrize("row", [
    {"postcode": "E9 9ZZ", "district": "E9", "lat": 91.0, "lon": 0.0, "is_district": False},
    {"postcode": "E9 9ZZ", "district": "E9", "lat": 51.0, "lon": 181.0, "is_district": False},
    {"postcode": "E9", "district": "E9", "lat": 51.0, "lon": 0.0, "is_district": False},
    {"postcode": "E9 9ZZ", "district": "E9", "lat": 51.0, "lon": 0.0, "is_district": True},
])
def test_the_database_refuses_a_place_off_the_earth_or_of_the_wrong_kind(session, row):
    with pytest.raises(IntegrityError), session.begin_nested():
        session.add(PostcodeCentroid(**row))
        session.flush()
    assert session.exec(select(PostcodeCentroid).where(PostcodeCentroid.postcode == row["postcode"])).first() is None
