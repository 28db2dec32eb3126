"""The seals page, the check of the whole ledger shown on it, and an entry's proof page (sealed and not yet sealed)."""

from __future__ import annotations

import html
import json
import re
from datetime import datetime, timedelta, timezone

import pytest
from sqlmodel import select

from brokerage import jobs
from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.ledger import merkle, rules, services
from brokerage.ledger.integrity import seal as seal_now
from brokerage.ledger.models import LedgerSeal
from tests.ledger.test_integrity import without_triggers

SEALED_AT = datetime(2026, 6, 15, 13, 2, tzinfo=timezone.utc)  # 2:02pm in England (summer time)


@pytest.fixture()
def sealed_world(freeze_clock, request):
    """The two councils of `world`, sealed at SEALED_AT."""
    freeze_clock(SEALED_AT)
    return request.getfixturevalue("world")


def _post_late_entry(session, world, key="dp-late"):
    council = world.councils["a"]
    return services.post_entry(
        session=session, actor=system_actor(session=session, council_id=council.id), council_id=council.id, kind="dp_issued",
        memo="Direct payment", idempotency_key=key,
        postings=[(rules.funding_code(council.id), -1_000), (rules.wallet_code(world.records["a"]["holder"].id), 1_000)],
    )


def _text(response) -> str:
    """Return the page's text without tags or line breaks, as a person reads it."""
    body = response.get_data(as_text=True).replace("<wbr>", "")
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)))


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer])
def test_the_seals_page_lists_each_seal_with_its_root_chain_and_who_sealed_it(client, auth, world, session, role):
    seal = session.exec(select(LedgerSeal).where(LedgerSeal.council_id == world.councils["a"].id)).one()
    other = session.exec(select(LedgerSeal).where(LedgerSeal.council_id == world.councils["b"].id)).one()
    auth.sign_in(world.users["a"][role].email)
    response = client.get("/ledger/seals")
    assert response.status_code == 200
    page = _text(response)
    assert seal.root in page and seal.seal_hash in page and "There is none: this is the first seal" in page
    assert "1 to 2" in page and "by Scheduled job" in page and "1 seal, newest first" in page
    assert "Waiting to be sealed Nothing: every entry is sealed" in page
    assert other.root not in page and other.seal_hash not in page
    # Only officers run the check of the whole ledger.
    assert ("Check the whole ledger now" in page) == (role == Role.council_officer)


def test_the_journal_links_to_the_seals_page(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert 'href="/ledger/seals"' in client.get("/ledger/").get_data(as_text=True)


def test_a_second_seal_is_chained_to_the_first_and_listed_first(client, auth, world, session):
    _post_late_entry(session, world)
    council_id = world.councils["a"].id
    second = seal_now(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id)
    session.commit()
    auth.sign_in(world.users["a"][Role.council_officer].email)
    page = _text(client.get("/ledger/seals"))
    assert "2 seals" in page and page.index("3 to 3") < page.index("1 to 2")
    assert second.previous_hash in page and second.root in page


def test_the_seals_page_says_when_waiting_entries_will_be_sealed(client, auth, sealed_world, session, freeze_clock):
    freeze_clock(SEALED_AT + timedelta(minutes=3))
    entry = _post_late_entry(session, sealed_world)
    session.commit()
    auth.sign_in(sealed_world.users["a"][Role.broker].email)
    page = _text(client.get("/ledger/seals"))
    # Sealing runs every 10 minutes from the last seal at 2:02pm.
    assert "1 entry The next seal is expected by 15 June 2026 at 2:12pm." in page
    assert "Sealing seems to have stopped" not in page
    freeze_clock(SEALED_AT + timedelta(minutes=38))
    auth.sign_in(sealed_world.users["a"][Role.broker].email)  # the earlier session has been idle too long
    late = _text(client.get("/ledger/seals"))
    # Late, the page does not also promise the next seal (the promise kept moving while sealing had stopped).
    assert "expected by" not in late
    assert "Sealing seems to have stopped: the oldest entry waiting was made on 15 June 2026 at 2:05pm" in late
    proof = _text(client.get(f"/ledger/entries/{entry.id}/proof"))
    assert "expected by" not in proof and "Sealing should run every 10 minutes, but it is late" in proof


def test_the_interval_comes_from_the_setting(app, client, auth, sealed_world, session, freeze_clock):
    app.config["SEAL_EVERY_MINUTES"] = 60
    freeze_clock(SEALED_AT + timedelta(minutes=3))
    entry = _post_late_entry(session, sealed_world)
    session.commit()
    auth.sign_in(sealed_world.users["a"][Role.broker].email)
    assert "Every 1 hour the ledger is sealed" in _text(client.get("/ledger/seals"))
    assert "the next seal is expected by 15 June 2026 at 3:02pm" in _text(client.get(f"/ledger/entries/{entry.id}/proof"))


def test_a_sealed_entrys_proof_page_checks_the_proof_and_explains_how_to_check_it_offline(client, auth, world):
    entry = world.records["a"]["entry"]
    auth.sign_in(world.users["a"][Role.council_officer].email)
    response = client.get(f"/ledger/entries/{entry.id}/proof")
    assert response.status_code == 200
    page = _text(response)
    proof = json.loads(client.get(f"/ledger/entries/{entry.id}/proof.json").data)
    assert merkle.check_proof(proof)[0]
    assert "The proof checks out" in page and "brokerage.ledger.merkle.check_proof" in page
    assert f"Sequence number {proof['seq']}" in page and proof["seal"]["root"] in page and proof["seal"]["hash"] in page
    for step in proof["path"]:
        assert step["hash"] in page
    assert f"brokerage ledger check-proof carepool-proof-entry-{entry.id}.json" in page
    assert f'href="/ledger/entries/{entry.id}/proof.json"' in response.get_data(as_text=True)
    assert f'href="/ledger/entries/{entry.id}/proof"' in client.get(f"/ledger/entries/{entry.id}").get_data(as_text=True)


def test_an_unsealed_entrys_proof_page_says_it_is_not_sealed_yet_and_when_it_will_be(client, auth, sealed_world, session, freeze_clock):
    freeze_clock(SEALED_AT + timedelta(minutes=5))
    entry = _post_late_entry(session, sealed_world)
    session.commit()
    auth.sign_in(sealed_world.users["a"][Role.broker].email)
    response = client.get(f"/ledger/entries/{entry.id}/proof")
    assert response.status_code == 200
    page = _text(response)
    assert "This entry is not sealed yet" in page and "the next seal is expected by 15 June 2026 at 2:12pm" in page
    assert "The proof checks out" not in page and "proof.json" not in response.get_data(as_text=True)
    assert "When this entry will be sealed" in _text(client.get(f"/ledger/entries/{entry.id}"))


@pytest.mark.tampered
def test_a_proof_that_no_longer_matches_its_seal_says_so(client, auth, world, session, is_postgres):
    entry = world.records["a"]["entry"]
    without_triggers(session, is_postgres, "journal_entry", "UPDATE journal_entry SET content_hash = :h WHERE id = :e", {"e": entry.id, "h": "ab" * 32})
    auth.sign_in(world.users["a"][Role.broker].email)
    page = _text(client.get(f"/ledger/entries/{entry.id}/proof"))
    assert "The proof does NOT check out" in page and "not the seal's root" in page


def test_the_check_of_the_whole_ledger_shows_its_result_on_the_seals_page(client, auth, world):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    response = client.post("/ledger/verify", follow_redirects=True)
    assert response.request.path == "/ledger/seals"
    page = _text(response)
    assert "Seals and checks" in page and "The ledger checks out: 2 entries, 1 seal, no problems." in page


@pytest.mark.tampered
def test_the_check_names_the_first_problem_on_the_seals_page(client, auth, world, session, is_postgres):
    entry = world.records["a"]["entry"]
    without_triggers(session, is_postgres, "journal_entry", "UPDATE journal_entry SET memo = 'nothing to see' WHERE id = :e", {"e": entry.id})
    auth.sign_in(world.users["a"][Role.council_officer].email)
    page = _text(client.post("/ledger/verify", follow_redirects=True))
    assert "The ledger check FAILED. The first problem:" in page
    assert f"entry {entry.id} (sequence number 1): the entry's content does not match its hash" in page


def test_a_check_running_on_the_worker_shows_its_result_when_it_has_finished(app, client, auth, world, monkeypatch):
    app.config["REDIS_URL"] = "redis://127.0.0.1:6379/15"
    monkeypatch.setattr(jobs, "enqueue", lambda name, **kwargs: jobs.JobHandle(id="job-1", name=name, status="queued"))
    states = iter([
        jobs.JobHandle(id="job-1", name="ledger.verify", status="started"),
        jobs.JobHandle(id="job-1", name="ledger.verify", status="finished",
                       result={"ok": True, "entries": 1, "seals": 3, "problems": 0, "first_problem": None}),
    ])
    monkeypatch.setattr(jobs, "fetch", lambda job_id: next(states))
    auth.sign_in(world.users["a"][Role.council_officer].email)
    running = _text(client.post("/ledger/verify", follow_redirects=True))
    assert "The check is running in the background" in running and "The check is still running" in running
    assert "The ledger checks out: 1 entry, 3 seals, no problems." in _text(client.get("/ledger/seals"))
    # Shown once: the browser forgets the finished job.
    assert "The ledger checks out" not in _text(client.get("/ledger/seals"))


def test_a_broker_cannot_run_the_check_and_other_roles_cannot_see_the_seals(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.post("/ledger/verify").status_code == 403
    for role in (Role.holder, Role.representative, Role.provider):
        auth.sign_out()
        auth.sign_in(world.users["a"][role].email)
        assert client.get("/ledger/seals").status_code == 403
        assert client.get(f"/ledger/entries/{world.records['a']['entry'].id}/proof").status_code == 403


@pytest.mark.parametrize("fmt", ["text/html", "application/json"])
def test_another_councils_entry_proof_page_is_a_404_like_a_missing_one(client, auth, world, fmt):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    answers = [client.get(f"/ledger/entries/{entry_id}/proof", headers={"Accept": fmt}) for entry_id in (world.records["b"]["entry"].id, 987_654_321)]
    assert [a.status_code for a in answers] == [404, 404]
    # The sign-out form's CSRF token carries the second it was made.
    bodies = [re.sub(r'name="csrf_token" value="[^"]*"', "", a.get_data(as_text=True)) for a in answers]
    assert bodies[0] == bodies[1]
