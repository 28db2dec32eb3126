"""`brokerage geo import`: an ONS-like file is loaded, districts worked out, a second run changes nothing, and bad files exit 2."""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from brokerage.places.models import PostcodeCentroid
from brokerage.places.services import district_centres, locate

# The ONS Postcode Directory's own columns (a few of its many), in its own formats: pcd is 7 characters,
# pcd2 8, pcds as people write it; a postcode with no location has latitude 99.999999.
ONSPD = """\ufeffpcd,pcd2,pcds,dointr,doterm,oseast1m,osnrth1m,lat,long
E1  6AN,E1   6AN,E1 6AN,198001,,533590,181880,51.520300,-0.071400
E1  1BB,E1   1BB,E1 1BB,198001,,534410,181750,51.519000,-0.059600
E1W 1LA,E1W  1LA,E1W 1LA,198001,,533870,180510,51.506700,-0.071200
E1W 3TJ,E1W  3TJ,E1W 3TJ,199912,,534660,180280,51.504300,-0.056000
E1  9ZZ,E1   9ZZ,E1 9ZZ,202301,,,,99.999999,0.000000
LS6 3BR,LS6  3BR,LS6 3BR,198001,,428390,435850,53.817400,-1.582200
"""


def _import(runner, path, *options):
    return runner.invoke(args=["geo", "import", str(path), *options])


def _rows(session) -> dict[str, tuple]:
    return {c.postcode: (c.district, c.lat, c.lon, c.is_district) for c in session.exec(select(PostcodeCentroid))}


def test_the_ons_directory_is_imported_with_district_centres_and_no_location_skipped(runner, session, tmp_path):
    path = tmp_path / "onspd.csv"
    path.write_text(ONSPD, encoding="utf-8")
    result = _import(runner, path, "--batch-size", "2")
    assert result.exit_code == 0, result.output + result.stderr
    assert result.output.splitlines() == [
        f"Read 6 rows from {path}.",
        "Postcodes and districts in the file: 5 added, 0 changed, 0 unchanged.",
        "Skipped 1 postcode the file gives no location for.",
        "District centres worked out from their postcodes: 3 added, 0 changed, 0 unchanged.",
    ]
    rows = _rows(session)
    assert rows["E1 6AN"] == ("E1", 51.5203, -0.0714, False)
    assert "E1 9ZZ" not in rows
    assert rows["E1"] == ("E1", 51.51965, -0.0655, True) and rows["E1W"] == ("E1W", 51.5055, -0.0636, True)
    assert rows["LS6"] == ("LS6", 53.8174, -1.5822, True)
    # A postcode the file has no location for is placed at its district's centre.
    assert (locate(session=session, postcode="E1 9ZZ").lat, locate(session=session, postcode="E1 9ZZ").exact) == (51.51965, False)


def test_importing_the_same_file_again_changes_nothing(runner, session, tmp_path):
    path = tmp_path / "onspd.csv"
    path.write_text(ONSPD, encoding="utf-8")
    assert _import(runner, path).exit_code == 0
    before = _rows(session)
    again = _import(runner, path)
    assert again.exit_code == 0
    assert "5 added" not in again.output and "0 added, 0 changed, 5 unchanged" in again.output
    assert "District centres worked out from their postcodes: 0 added, 0 changed, 3 unchanged." in again.output
    assert _rows(session) == before


def test_a_moved_postcode_is_updated_and_its_district_moves_with_it(runner, session, tmp_path):
    path = tmp_path / "onspd.csv"
    path.write_text(ONSPD, encoding="utf-8")
    assert _import(runner, path).exit_code == 0
    path.write_text("pcds,lat,long\nE1 1BB,51.521000,-0.059600\n", encoding="utf-8")
    result = _import(runner, path)
    assert "0 added, 1 changed, 0 unchanged" in result.output and "0 added, 1 changed, 0 unchanged." in result.output.splitlines()[-1]
    assert district_centres(session=session, districts=["E1"]) == {"E1": (51.52065, -0.0655)}


def test_plain_headers_and_districts_given_by_the_file_are_kept(runner, session, tmp_path):
    path = tmp_path / "places.csv"
    path.write_text("Postcode,Latitude,Longitude\ne1 6an,51.5203,-0.0714\nE1,51.5155,-0.059\n", encoding="utf-8")
    result = _import(runner, path)
    assert result.exit_code == 0, result.stderr
    assert _rows(session)["E1"] == ("E1", 51.5155, -0.059, True)  # the file's own centre, not the mean of E1 6AN
    assert "District centres worked out from their postcodes: 0 added" in result.output


def test_no_districts_leaves_district_centres_alone(runner, session, tmp_path):
    path = tmp_path / "onspd.csv"
    path.write_text(ONSPD, encoding="utf-8")
    result = _import(runner, path, "--no-districts")
    assert result.exit_code == 0 and "District centres" not in result.output
    assert not [code for code, row in _rows(session).items() if row[3]]


@pytest.mark.parametrize("content, says", [
    (b"", "is empty: it needs a header row"),
    (b"postcode,easting,northing\nE1 6AN,533590,181880\n", "no latitude column"),
    (b"lat,long\n51.5,-0.05\n", "no postcode column"),
    (b"pcds,lat,long\nE1 6AN,51.5203,-0.0714\nE1 6CA,51.5,-0.05\n", "line 3: 'E1 6CA' is not a UK postcode or postcode district; nothing was imported"),
    (b"pcds,lat,long\nE1 6AN,51.5203,-0.0714\nE1 1BB,north,west\n", "line 3: the latitude 'north' and longitude 'west' of E1 1BB must be numbers"),
    (b"pcds,lat,long\nE1 6AN,-0.0714,51.5203\n", "line 2: E1 6AN is at latitude -0.0714, longitude 51.5203, which is not in the United Kingdom"),
    (b"pcds,lat,long\nE1 6AN,51.5203\n", "line 2: it has 2 values"),
    (b"pcds,lat,long\nE1 6AN,51.5203,-0.0714\n\xff\xfeE1 1BB,51.5,-0.05\n", "line 3 is not UTF-8 text"),
    (b'pcds,lat,long\n"E1 6AN,51.5203,-0.0714\n', "line 2"),
], ids=["empty", "no-lat", "no-postcode", "bad-postcode", "bad-number", "swapped", "short-row", "not-utf8", "open-quote"])
def test_bad_files_exit_2_with_one_line_and_import_nothing(runner, session, tmp_path, content, says):
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = _import(runner, path)
    assert result.exit_code == 2, result.output + result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: ") and says in result.stderr, result.stderr
    assert session.exec(select(func.count()).select_from(PostcodeCentroid)).one() == 0


def test_a_bad_row_after_a_full_batch_leaves_nothing_imported(runner, session, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("pcds,lat,long\nE1 6AN,51.5203,-0.0714\nE1 1BB,51.519,-0.0596\nE1 6CA,51.5,-0.05\n", encoding="utf-8")
    result = _import(runner, path, "--batch-size", "1")
    assert result.exit_code == 2 and "line 4" in result.stderr
    assert session.exec(select(func.count()).select_from(PostcodeCentroid)).one() == 0


@pytest.mark.parametrize("args, says", [
    (["geo", "import", "{tmp}/missing.csv"], "does not exist"),
    (["geo", "import", "{tmp}"], "is a directory"),
    (["geo", "import"], "Missing argument"),
    (["geo", "import", "{tmp}/x.csv", "--batch-size", "0"], "batch-size"),
])
def test_bad_arguments_exit_2_with_one_line(runner, tmp_path, args, says):
    (tmp_path / "x.csv").write_text(ONSPD, encoding="utf-8")
    result = runner.invoke(args=[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert result.exit_code == 2 and len(result.stderr.strip().splitlines()) == 1 and says in result.stderr, result.stderr


@pytest.mark.parametrize("row", [
    b'"E1' + b"X" * 100_000 + b'",51.5,-0.05',
    b'E1 6AN,51.' + b"5" * 100_000 + b",west",
    b'E1 6AN,-0.0714,51.' + b"5" * 100_000,
    b'"E1 6CA\nerror: forged",51.5,-0.05',
], ids=["long-postcode", "long-number", "long-out-of-range", "newline"])
def test_what_a_bad_row_says_is_echoed_escaped_and_short(runner, session, tmp_path, row):
    path = tmp_path / "bad.csv"
    path.write_bytes(b"pcds,lat,long\n" + row + b"\n")
    result = _import(runner, path)
    assert result.exit_code == 2, result.output + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("error: line ") and len(line) < 400, line[:500]
    assert "forged" not in row.decode() or "'E1 6CA\\nerror: forged'" in line


def test_an_empty_file_is_named_escaped_on_one_line(runner, session, tmp_path):
    path = tmp_path / ("line\nbreak-" * 15 + ".csv")
    path.write_bytes(b"")
    result = _import(runner, path)
    assert result.exit_code == 2 and len(result.stderr.splitlines()) == 1
    assert "line\\nbreak-line\\nbreak" in result.stderr and "is empty" in result.stderr
