"""Ledger pages: a holder's statement, the council's journal with filters, verification and the access log."""

from __future__ import annotations

import json
import re

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.audit.models import AccessLog
from brokerage.ledger import rules, services


def test_a_holder_sees_their_wallet_with_running_balances(client, auth, world, session):
    council = world.councils["a"]
    holder = world.records["a"]["holder"]
    services.post_entry(session=session, actor=system_actor(session=session, council_id=council.id), council_id=council.id, kind="pledge_collected", memo="Pledge for 2026-W48",
                        postings=[(rules.wallet_code(holder.id), -12_345), (rules.pool_code(world.records["a"]["cluster"].id, holder.id), 12_345)],
                        idempotency_key="pledge-view")
    session.commit()
    auth.sign_in(world.users["a"][Role.holder].email)
    page = client.get(f"/holders/{holder.id}/statement").data.decode()
    assert "Your money" in page
    assert "£500.00" in page and "−£123.45" in page and "£376.55" in page
    assert "Your share of Cluster a's pool" in page and "£123.45" in page


def test_staff_reading_a_statement_is_logged_and_the_officer_sees_it(client, auth, world, session):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.get(f"/holders/{holder.id}/statement").status_code == 200
    assert client.get(f"/holders/{holder.id}").status_code == 200
    logged = session.exec(select(AccessLog).where(AccessLog.holder_id == holder.id)).all()
    assert {row.what for row in logged} == {"money statement", "record"}
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.council_officer].email)
    page = client.get("/audit/access-log").data.decode()
    assert "<td class=\"govuk-table__cell\" data-label=\"What they looked at\">Money statement</td>" in page and world.users["a"][Role.broker].name in page
    auth.sign_out()
    auth.sign_in(world.users["b"][Role.council_officer].email)
    other = client.get("/audit/access-log").data.decode()
    assert "Nobody has viewed a holder's record yet." in other and world.users["a"][Role.broker].name not in other


def test_the_journal_lists_and_filters_entries(client, auth, world):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    page = client.get("/ledger/").data.decode()
    assert "2 entries" in page and "All sealed" in page and "Balanced" in page
    filtered = client.get(f"/ledger/?account=holder:{world.records['a']['holder'].id}:").data.decode()
    assert "1 entry." in filtered
    none = client.get("/ledger/?kind=no_such_kind")
    assert none.status_code == 422 and "Nothing is listed until the filter is corrected." in none.text
    assert 'id="filter-kind-error"' in none.text and 'href="#filter-kind">Choose a kind of entry from the list</a>' in none.text


def test_a_page_number_that_cannot_be_read_is_said_without_a_link_to_a_box_that_is_not_there(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    for path in ("/ledger/?page=0", "/ledger/accounts?page=0", "/ledger/?page=two"):
        page = client.get(path)
        assert page.status_code == 422 and "There is a problem" in page.text, path
        assert 'href="#filter-page"' not in page.text, path


def test_dates_are_typed_as_people_in_england_write_them():
    from datetime import date

    from brokerage.validation import TYPED_DATE_MESSAGE, parse_typed_date

    for typed in ("3/12/2026", "03/12/2026", "3.12.2026", "3-12-2026", "3 December 2026", "3 dec 2026", " 2026-12-03 "):
        assert parse_typed_date(typed) == date(2026, 12, 3), typed
    for wrong in ("12/2026", "2026/12/03", "3/12/26", "yesterday", "31/2/2026", "3 Smarch 2026", "1" * 30):
        with pytest.raises(ValueError) as refused:
            parse_typed_date(wrong)
        assert str(refused.value) in (TYPED_DATE_MESSAGE, "Enter a real date, for example 27 3 2027", "The year must include 4 numbers"), wrong


def test_the_entry_filters_take_a_date_as_typed_in_england(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    typed = client.get("/ledger/?start=1/1/2000&end=31 December 2999")
    iso = client.get("/ledger/?start=2000-01-01&end=2999-12-31")
    assert typed.status_code == iso.status_code == 200
    assert 'id="filter-start-error"' not in typed.data.decode()


def test_a_date_that_does_not_exist_is_refused_with_the_one_box_example(client, auth, world):
    # 31 February has the right shape: the message gives the example of this box, not of three boxes ("27 3 2027").
    auth.sign_in(world.users["a"][Role.broker].email)
    body = client.get("/ledger/?start=31/02/2026").data.decode()
    assert "Enter a real date, for example 27/3/2027 or 27 March 2027" in body and "27 3 2027" not in body


def test_bad_filters_are_named_beside_the_field(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    response = client.get("/ledger/?start=yesterday&end=2026-01-01")
    assert response.status_code == 422
    body = response.data.decode()
    assert "Enter a real date, for example 27/3/2027 or 27 March 2027" in body and 'id="filter-start-error"' in body
    backwards = client.get("/ledger/?start=2026-02-01&end=2026-01-01")
    assert backwards.status_code == 422 and "on or after the start date" in backwards.data.decode()
    # A filter that cannot be read lists nothing, rather than every entry as if it had matched, and says why: it used to
    # say "0 entries. No entries match.", as if there were none.
    assert "Correct the filter above to see entries." in body and "Nothing is listed until the filter is corrected." in body
    assert "No entries match." not in body and "0 entries" not in body and "2 entries" not in body
    long = client.get("/ledger/?account=" + "x" * 81)
    assert long.status_code == 422 and "Enter at most 80 characters of an account" in long.data.decode()


def test_a_page_past_the_end_shows_the_last_page(client, auth, world):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    page = client.get("/ledger/?page=99")
    assert page.status_code == 200
    assert "2 entries." in page.data.decode() and "No entries match." not in page.data.decode()


def test_an_entry_page_shows_postings_and_offers_a_proof(client, auth, world):
    entry = world.records["a"]["entry"]
    auth.sign_in(world.users["a"][Role.broker].email)
    page = client.get(f"/ledger/entries/{entry.id}").data.decode()
    assert entry.content_hash in page and "−£500.00" in page
    proof = client.get(f"/ledger/entries/{entry.id}/proof.json")
    from brokerage.ledger.merkle import check_proof

    assert check_proof(json.loads(proof.data))[0]


def test_an_officer_can_check_the_ledger_from_the_page(client, auth, world):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    response = client.post("/ledger/verify", follow_redirects=True)
    assert "The ledger checks out: 2 entries, 1 seal, no problems." in response.data.decode()


def test_a_broker_cannot_run_the_officers_check(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.post("/ledger/verify").status_code == 403


def test_a_far_future_date_is_explained_not_a_crash(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    response = client.get("/ledger/?end=9999-12-31")
    assert response.status_code == 422 and "Enter a date between 2000 and 2999" in response.data.decode()


def test_the_old_address_of_a_statement_still_shows_it(client, auth, world):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    old, new = client.get(f"/ledger/holders/{holder.id}"), client.get(f"/holders/{holder.id}/statement")
    assert old.status_code == new.status_code == 200
    # The same page, but for the forms' CSRF tokens, which carry the second they were made.
    def page(response):
        return re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', response.data.decode())

    assert "Your money" in page(old) and page(old) == page(new)


def test_the_journal_names_kinds_in_plain_english(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    page = client.get("/ledger/").data.decode()
    assert ">Direct payment</option>" in page and "dp issued" not in page
    entry = world.records["a"]["entry"]
    assert f"Entry {entry.id}: Direct payment" in client.get(f"/ledger/entries/{entry.id}").data.decode()


def test_an_entry_page_says_where_it_is_sealed_links_its_reversal_and_keeps_machine_codes_in_details(client, auth, world, session):
    entry = world.records["a"]["entry"]
    reversal = services.reverse_entry(session=session, actor=system_actor(session=session, council_id=entry.council_id), entry_id=entry.id,
                                      idempotency_key=f"reverse:{entry.id}", memo="Entered twice")
    session.commit()
    auth.sign_in(world.users["a"][Role.council_officer].email)
    page = client.get(f"/ledger/entries/{entry.id}").data.decode()
    assert "Yes, as sequence number 1 in the sealed ledger" in page
    assert f'href="/ledger/entries/{reversal.id}">Entry {reversal.id}</a>' in page
    details = page[page.index('<details class="govuk-details">'):page.index("</details>")]
    assert "Technical details, for auditors" in details and entry.content_hash in details and "Idempotency key" in details
    assert "Idempotency key" not in page.replace(details, "")  # nothing technical outside the details
    # The total row is the table's foot: on a phone it reads "Total", not "Account: Total".
    assert '<tfoot class="govuk-table__body">\n  <tr class="govuk-table__row"><th scope="row" class="govuk-table__header">Total</th>' in page
    undone = client.get(f"/ledger/entries/{reversal.id}").data.decode()
    assert f'href="/ledger/entries/{entry.id}">Entry {entry.id}</a>' in undone and "Not sealed yet" in undone


def test_an_account_filter_takes_a_number_in_a_code_whole():
    # "holder:1" found holder 13's entries too (448 on the demo, several people's).
    from brokerage.ledger.names import code_contains

    assert code_contains("holder:1:wallet", "holder:1") and not code_contains("holder:13:wallet", "holder:1")
    assert code_contains("pool:8:1", "pool:8:1") and not code_contains("pool:8:11", "pool:8:1")
    assert not code_contains("holder:11:wallet", "1:wallet") and code_contains("holder:1:wallet", "1:wallet")
    assert code_contains("holder:13:wallet", "wall") and code_contains("holder:13:wallet", "holder:")
