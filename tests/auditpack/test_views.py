"""The auditor pack from the dashboard: an officer asks, a job builds it, the officer downloads it; nobody else gets near it."""

from __future__ import annotations

import hashlib
import io
import re
import zipfile
from datetime import timedelta

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.auditpack import packs, sections
from brokerage.auditpack.models import AuditPackRequest
from brokerage.auditpack.pack import FILES
from brokerage.auditpack.rules import PackStatus, Quarter
from brokerage.errors import NOT_FOUND
from tests.auditpack.conftest import utc
from tests.races import row_appears_after_check

MISSING = 987_654_321


@pytest.fixture()
def folder(app, tmp_path):
    """Keep packs in the test's own folder."""
    app.config["AUDIT_PACK_FOLDER"] = str(tmp_path / "packs")
    return tmp_path / "packs"


def requests_of(session, council_id):
    session.expire_all()
    return session.exec(select(AuditPackRequest).where(AuditPackRequest.council_id == council_id).order_by(AuditPackRequest.id)).all()


def test_an_officer_asks_for_a_pack_the_job_builds_it_and_the_officer_downloads_it(client, auth, q3, session, folder):
    officer = q3.world.users["a"][Role.council_officer]
    auth.sign_in(officer.email)
    page = client.get("/audit-pack")
    assert page.status_code == 200 and '<option value="2026Q3">July to September 2026</option>' in page.get_data(as_text=True)
    asked = client.post("/audit-pack", data={"quarter": "2026Q3"})
    assert asked.status_code == 302 and asked.headers["Location"].endswith("/audit-pack")
    [record] = requests_of(session, q3.council.id)
    assert (record.quarter, record.status, record.requested_by_id, record.requested_at) == ("2026Q3", PackStatus.ready, officer.id, utc(2026, 10, 5, 9))
    stored = folder / str(q3.council.id) / record.file_name
    assert (record.size_bytes, record.sha256) == (stored.stat().st_size, hashlib.sha256(stored.read_bytes()).hexdigest())
    listing = client.get("/audit-pack").get_data(as_text=True)
    assert "The pack of July to September 2026 is being made." in listing and "Ready" in listing
    assert f'href="/audit-pack/{record.id}/download"' in listing
    download = client.get(f"/audit-pack/{record.id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert download.headers["Content-Disposition"] == "attachment; filename=carepool-audit-council-a-2026Q3.zip"
    assert download.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        assert sorted(archive.namelist()) == sorted(FILES)
        assert "Council A" in archive.read("README.txt").decode()
    assert hashlib.sha256(download.data).hexdigest() == record.sha256
    download.close()


def test_a_pack_that_fails_is_recorded_as_failed_and_leaves_no_file(client, auth, q3, session, folder, monkeypatch):
    def broken(**_):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(sections, "write_seals", broken)
    auth.sign_in(q3.world.users["a"][Role.council_officer].email)
    assert client.post("/audit-pack", data={"quarter": "2026Q3"}).status_code == 302
    [record] = requests_of(session, q3.council.id)
    assert record.status == PackStatus.failed and "the disk is full" in record.error and record.file_name is None
    assert list((folder / str(q3.council.id)).iterdir()) == []
    assert "It could not be made. Ask for it again." in client.get("/audit-pack").get_data(as_text=True)
    answer = client.get(f"/audit-pack/{record.id}/download")
    assert answer.status_code == 302
    assert "This pack is not ready." in client.get("/audit-pack").get_data(as_text=True)


def test_a_pack_whose_file_changed_is_not_given_out(client, auth, q3, session, folder):
    auth.sign_in(q3.world.users["a"][Role.council_officer].email)
    client.post("/audit-pack", data={"quarter": "2026Q3"})
    [record] = requests_of(session, q3.council.id)
    stored = folder / str(q3.council.id) / record.file_name
    stored.write_bytes(stored.read_bytes() + b"tampered")
    assert client.get(f"/audit-pack/{record.id}/download").status_code == 302
    assert "has changed since it was made" in client.get("/audit-pack").get_data(as_text=True)
    stored.unlink()
    client.get(f"/audit-pack/{record.id}/download")
    assert "no longer kept" in client.get("/audit-pack").get_data(as_text=True)


def test_asking_again_while_the_quarter_is_being_made_is_refused_but_a_pack_that_stopped_long_ago_is_not(client, auth, q3, session, folder):
    officer = q3.world.users["a"][Role.council_officer]
    stuck = AuditPackRequest(council_id=q3.council.id, quarter="2026Q3", requested_by_id=officer.id, requested_at=utc(2026, 10, 5, 8, 30),
                             status=PackStatus.building)
    session.add(stuck)
    session.commit()
    auth.sign_in(officer.email)
    refused = client.post("/audit-pack", data={"quarter": "2026Q3"})
    assert refused.status_code == 409 and "A pack of July to September 2026 is already being made." in refused.get_data(as_text=True)
    assert len(requests_of(session, q3.council.id)) == 1
    stuck.requested_at = utc(2026, 10, 5, 9) - timedelta(hours=3)
    session.add(stuck)
    session.commit()
    assert client.post("/audit-pack", data={"quarter": "2026Q3"}).status_code == 302
    first, second = requests_of(session, q3.council.id)
    assert (first.status, first.error, second.status) == (PackStatus.failed, packs.STOPPED, PackStatus.ready)


def test_asking_at_the_same_moment_as_another_officer_keeps_one_pack_in_the_making(q3, session):
    officer = q3.world.users["a"][Role.council_officer]
    racing = AuditPackRequest(council_id=q3.council.id, quarter="2026Q3", requested_by_id=officer.id, requested_at=utc(2026, 10, 5, 9))
    with row_appears_after_check(racing, ("council_id", "quarter")) as inserted:
        with pytest.raises(packs.AlreadyMaking) as refused:
            packs.request_pack(session=session, actor=officer, quarter=Quarter(2026, 3))
    assert inserted and refused.value.status == 409
    assert len(requests_of(session, q3.council.id)) == 1


@pytest.mark.parametrize("quarter, says", [("2027Q1", "Choose a quarter from the list"), ("", "Choose a quarter from the list"),
                                           ("2026Q9", "Choose a quarter from the list")])
def test_a_quarter_not_offered_is_refused_beside_the_field(client, auth, q3, session, folder, quarter, says):
    auth.sign_in(q3.world.users["a"][Role.council_officer].email)
    response = client.post("/audit-pack", data={"quarter": quarter})
    assert response.status_code == 422 and says in response.get_data(as_text=True)
    assert requests_of(session, q3.council.id) == []


def test_a_quarter_that_has_not_begun_is_refused_by_the_service(q3, session):
    from brokerage.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        packs.request_pack(session=session, actor=q3.world.users["a"][Role.council_officer], quarter=Quarter(2027, 1))


@pytest.mark.parametrize("role", [Role.broker, Role.holder, Role.representative, Role.provider], ids=lambda r: r.value)
def test_only_council_officers_ask_for_and_download_packs(client, auth, q3, session, folder, role):
    officer = q3.world.users["a"][Role.council_officer]
    record = AuditPackRequest(council_id=q3.council.id, quarter="2026Q3", requested_by_id=officer.id, status=PackStatus.failed)
    session.add(record)
    session.commit()
    auth.sign_in(q3.world.users["a"][role].email)
    assert client.get("/audit-pack").status_code == 403
    assert client.post("/audit-pack", data={"quarter": "2026Q3"}).status_code == 403
    assert client.get(f"/audit-pack/{record.id}/download").status_code == 403
    assert len(requests_of(session, q3.council.id)) == 1


def test_another_councils_pack_answers_like_a_missing_one_in_every_format(client, auth, q3, session, folder):
    b_officer = q3.world.users["b"][Role.council_officer]
    auth.sign_in(b_officer.email)
    client.post("/audit-pack", data={"quarter": "2026Q3"})
    [theirs] = requests_of(session, q3.world.councils["b"].id)
    assert theirs.status == PackStatus.ready
    auth.sign_out()
    auth.sign_in(q3.world.users["a"][Role.council_officer].email)
    for accept in ("text/html", "application/json"):
        answers = [client.get(f"/audit-pack/{pack_id}/download", headers={"Accept": accept}) for pack_id in (theirs.id, MISSING)]
        assert [a.status_code for a in answers] == [404, 404]
        bodies = [re.sub(r'name="csrf_token" value="[^"]*"', "", a.get_data(as_text=True)) for a in answers]
        assert bodies[0] == bodies[1]
    assert client.get(f"/audit-pack/{theirs.id}/download", headers={"Accept": "application/json"}).get_json() == {"error": NOT_FOUND}
    assert "No packs yet." in client.get("/audit-pack").get_data(as_text=True)



def test_downloading_a_pack_logs_a_read_of_each_holders_statement_in_it(client, auth, q3, session, folder):
    """The pack holds every holder's money statement for the quarter: whoever downloads it read each of them."""
    import csv

    from brokerage.audit.models import AccessLog
    from brokerage.audit.rules import AUDIT_PACK, AUDIT_PACK_VISITS
    from brokerage.auditpack import readme
    from brokerage.holders.models import Holder

    from datetime import date, time

    from brokerage.timesheets.models import Visit
    from tests import factories as f

    # A member with care visits in the quarter but no money on their accounts: named in the timesheets only.
    visited_only = f.HolderFactory(session=session, council_id=q3.council.id, name="Only Visited")
    sheet = q3.sheets["sent_back"]
    session.add(Visit(council_id=q3.council.id, timesheet_id=sheet.id, holder_id=visited_only.id, visit_date=date(2026, 7, 1),
                      start_time=time(9), minutes=60))
    session.commit()
    officer = q3.world.users["a"][Role.council_officer]
    auth.sign_in(officer.email)
    assert client.post("/audit-pack", data={"quarter": "2026Q3"}).status_code == 302
    [record] = requests_of(session, q3.council.id)
    assert session.exec(select(AccessLog)).all() == []  # asking for it and making it read nobody's statement
    download = client.get(f"/audit-pack/{record.id}/download")
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.data)) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read(readme.STATEMENTS).decode("utf-8-sig"))))
        sheets = list(csv.DictReader(io.StringIO(archive.read(readme.TIMESHEETS).decode("utf-8-sig"))))
    download.close()
    in_pack = {row["holder"] for row in rows}
    assert q3.holder.name in in_pack and q3.neighbour.name in in_pack
    # The timesheets name each member with their visits: whoever downloads the pack read those too.
    visited = {row["member"] for row in sheets if row["member"]}
    assert q3.holder.name in visited and "Only Visited" in visited and "Only Visited" not in in_pack
    session.expire_all()
    logged = session.exec(select(AccessLog.actor_id, Holder.name, AccessLog.what).join(Holder, Holder.id == AccessLog.holder_id)).all()
    assert sorted(logged) == sorted([(officer.id, name, AUDIT_PACK) for name in in_pack] + [(officer.id, name, AUDIT_PACK_VISITS) for name in visited])
    in_pack = [*in_pack, *visited]  # every line logged
    # A refused download (another council's officer) logs nothing.
    auth.sign_out()
    auth.sign_in(q3.world.users["b"][Role.council_officer].email)
    assert client.get(f"/audit-pack/{record.id}/download").status_code == 404
    assert len(session.exec(select(AccessLog)).all()) == len(in_pack)
