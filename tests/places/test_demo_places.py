"""The demo knows where its own districts and postcodes are, so its forms work without importing anything."""

from __future__ import annotations

from brokerage.demo import data
from brokerage.demo.people import load_places
from brokerage.geo import haversine_km
from brokerage.places.rules import is_valid_postcode
from brokerage.places.services import district_centres, locate


def test_every_demo_district_has_a_centre_and_every_demo_postcode_is_found_in_its_district(session):
    load_places(session=session)
    districts = (data.COUNCIL_DISTRICTS + " " + data.OTHER_DISTRICTS).split()
    assert sorted(district_centres(session=session, districts=districts)) == sorted(districts)
    centres = district_centres(session=session, districts=districts)
    for postcode in data.POSTCODES:
        assert is_valid_postcode(postcode)
        place = locate(session=session, postcode=postcode)
        assert place.exact and place.district in districts
        assert haversine_km(place.lat, place.lon, *centres[place.district]) < 3.0, postcode
    # Any other postcode in a demo district is placed at the district's centre.
    assert not locate(session=session, postcode="E2 7QB").exact
