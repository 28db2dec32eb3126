"""Postcodes as people type them, and rows of the ONS Postcode Directory: pure rules, no database."""

from __future__ import annotations

import pytest

from brokerage.places.rules import (
    BadFile, Centroid, Columns, district_of, find_columns, is_valid_district, is_valid_postcode, normalise_postcode, read_row,
)


@pytest.mark.parametrize("typed, stored", [
    ("E1 6AN", "E1 6AN"),
    ("e1 6an", "E1 6AN"),
    ("  E16AN ", "E1 6AN"),
    ("E1   6AN", "E1 6AN"),
    ("e1\t6an", "E1 6AN"),
    ("sw1a1aa", "SW1A 1AA"),
    ("EC1A 1BB", "EC1A 1BB"),
    ("gir0aa", "GIR 0AA"),
    ("E1W", "E1W"),
    (" e1 ", "E1"),
    ("E16", "E16"),
    ("E161AA", "E16 1AA"),
    ("E1 61AA", "E16 1AA"),  # the inward code is always the last three characters
    ("", ""),
    (None, ""),
])
def test_normalise_postcode_gives_capitals_and_one_space_before_the_inward_code(typed, stored):
    assert normalise_postcode(typed) == stored


@pytest.mark.parametrize("text", [
    "E1 6AN", "e1 6an", "E16AN",          # A9 9AA
    "M60 1NW", "B33 8TH",                 # A99 9AA
    "CR2 6XH", "LS6 3BR",                 # AA9 9AA
    "DN55 1PT", "E14 5AB",                # AA99 9AA / A99 9AA
    "W1A 0AX", "E1W 1LA",                 # A9A 9AA
    "EC1A 1BB", "SW1A 1AA", "SW1A1AA",    # AA9A 9AA
    "GIR 0AA", "gir0aa",                  # the one exception
    "BT1 1AA", "JE2 3AB", "GY1 1AA", "IM1 1AA", "ZE1 0AA",
])
def test_valid_full_postcodes(text):
    assert is_valid_postcode(text)


@pytest.mark.parametrize("text", [
    "", "   ", "E1", "E1W", "SW1A",             # districts alone are not full postcodes
    "E1 6A", "E1 6ANN", "E1 AAN", "E1 6A1",      # the inward code is a digit and two letters
    "E1 6CA", "E1 6AI", "E1 6KA", "E1 6AM", "E1 6OA", "E1 6AV",  # letters the inward code never uses
    "Q1 1AA", "V1 1AA", "X1 1AA",                # letters never first
    "AI1 1AA", "EJ1 1AA", "EZ1 1AA",             # letters never second
    "E1I 1AA", "W1L 1AA",                        # letters never third in A9A
    "SW1C 1AA", "EC1Z 1AA",                      # letters never fourth in AA9A
    "EEE1 1AA", "E123 1AA", "1E1 1AA",
    "GIR 0AB", "E1-6AN", "E1 6AN!", "E1 6ÅN", "Ｅ1 6AN", "E١ 6AN",
    "E1 6AN E1 6AN", "postcode",
])
def test_invalid_postcodes(text):
    assert not is_valid_postcode(text)


@pytest.mark.parametrize("text, valid", [
    ("E1", True), ("e1", True), ("E1W", True), ("EC1A", True), ("SW1A", True), ("LS6", True), ("M60", True), ("DN55", True), ("W1A", True),
    ("E1 6AN", False), ("", False), ("E", False), ("1E", False), ("EC1Z", False), ("Q1", False), ("E123", False),
])
def test_districts(text, valid):
    assert is_valid_district(text) is valid


@pytest.mark.parametrize("postcode, district", [
    ("E1 6AN", "E1"), ("e16an", "E1"), ("E1W 1LA", "E1W"), ("SW1A 1AA", "SW1A"), ("EC1A1BB", "EC1A"), ("E14 5AB", "E14"),
    ("GIR 0AA", "GIR"), ("E1W", "E1W"), ("ls6", "LS6"),
])
def test_district_of(postcode, district):
    assert district_of(postcode) == district


@pytest.mark.parametrize("text", ["", "E1 6CA", "not a postcode", "E1-6AN"])
def test_district_of_refuses_what_is_not_a_postcode(text):
    with pytest.raises(ValueError):
        district_of(text)


@pytest.mark.parametrize("header, columns", [
    (["pcd", "pcd2", "pcds", "dointr", "lat", "long"], Columns(2, 4, 5)),  # the ONSPD: pcds preferred
    (["pcd2", "lat", "long"], Columns(0, 1, 2)),
    (["PCD", "LAT", "LONG"], Columns(0, 1, 2)),
    (["postcode", "latitude", "longitude"], Columns(0, 1, 2)),
    ([" Postcode ", "lon", "lat"], Columns(0, 2, 1)),
])
def test_find_columns_takes_the_ons_names_and_plain_ones(header, columns):
    assert find_columns(header) == columns


@pytest.mark.parametrize("header, says", [
    (["lat", "long"], "no postcode column: name it pcds or pcd or pcd2 or postcode"),
    (["pcds", "long"], "no latitude column"),
    (["pcds", "lat", "easting"], "no longitude column"),
])
def test_find_columns_names_the_missing_column(header, says):
    with pytest.raises(BadFile, match=says):
        find_columns(header)


COLUMNS = Columns(0, 1, 2)


def test_read_row_gives_the_normalised_postcode_and_its_district():
    assert read_row(["e1  6an", "51.520300", "-0.071400"], COLUMNS) == Centroid("E1 6AN", "E1", 51.5203, -0.0714, False)
    assert read_row(["E1W", "51.507", "-0.059"], COLUMNS) == Centroid("E1W", "E1W", 51.507, -0.059, True)


@pytest.mark.parametrize("values", [["E1 6AN", "99.999999", "0.000000"], ["E1 6AN", "", ""], ["E1 6AN", " ", ""]])
def test_a_postcode_without_a_location_is_none(values):
    assert read_row(values, COLUMNS) is None


@pytest.mark.parametrize("values, says", [
    (["E1 6CA", "51.5", "-0.05"], "'E1 6CA' is not a UK postcode"),
    (["", "51.5", "-0.05"], "is not a UK postcode"),
    (["E1 6AN", "north", "-0.05"], "must be numbers"),
    (["E1 6AN", "nan", "-0.05"], "must be numbers"),
    (["E1 6AN", "51.5", ""], "must be numbers"),
    (["E1 6AN", "1e1", "-0.05"], "must be numbers"),
    (["E1 6AN", "-0.05", "51.5"], "not in the United Kingdom"),
    (["E1 6AN", "91", "0"], "not in the United Kingdom"),
    (["E1 6AN", "51.5"], "fewer than the header's columns"),
])
def test_read_row_refuses_what_it_cannot_read(values, says):
    with pytest.raises(BadFile, match=says):
        read_row(values, COLUMNS)


def test_districts_sort_as_people_read_them():
    from brokerage.places.rules import district_sort_key

    assert sorted(["E15", "E2", "E1W", "E14", "E1", "EC1A", "E3", "LS6"], key=district_sort_key) == ["E1", "E1W", "E2", "E3", "E14", "E15", "EC1A", "LS6"]
