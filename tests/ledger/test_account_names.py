"""Accounts are shown by name ("Holder a's share of Cluster a"), never by code alone, and can be found by name."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.ledger import names, rules, services
from brokerage.formatting import pounds
from brokerage.ledger.models import LedgerAccount
from tests import factories as f

CODE = re.compile(r"\b(?:holder|pool|provider|council):[0-9]+:?[a-z0-9]*|stripe:clearing|external:topups")
SMALL_PRINT = re.compile(r'<span class="govuk-body-s app-account-code[^"]*"[^>]*>.*?</span>', re.DOTALL)


@pytest.fixture()
def money(world, session):
    """Post, in council A, an entry touching every kind of account; return the names each should have."""
    council, holder, cluster, provider = world.councils["a"], world.records["a"]["holder"], world.records["a"]["cluster"], world.records["a"]["provider"]
    job = system_actor(session=session, council_id=council.id)
    pool, payable, paid = rules.pool_code(cluster.id, holder.id), rules.payable_code(provider.id), rules.paid_code(provider.id)
    flows = [
        ("pledge_collected", rules.wallet_code(holder.id), pool, 10_000),
        ("care_cost", pool, payable, 6_000),
        ("payout_sent", payable, rules.CLEARING_CODE, 6_000),
        ("payout_paid", rules.CLEARING_CODE, paid, 6_000),
        ("topup", rules.TOPUPS_CODE, pool, 500),
    ]
    for i, (kind, source, target, amount) in enumerate(flows):
        services.post_entry(session=session, actor=job, council_id=council.id, kind=kind, memo=kind, idempotency_key=f"names-{i}",
                            postings=[(source, -amount), (target, amount)])
    session.commit()
    return {
        rules.funding_code(council.id): "Council A funding",
        rules.wallet_code(holder.id): "Holder a's wallet",
        pool: "Holder a's share of Cluster a",
        payable: "Owed to Co-op a",
        paid: "Paid to Co-op a",
        rules.CLEARING_CODE: "Stripe clearing",
        rules.TOPUPS_CODE: "Money added by card or Direct Debit",
    }


def _main_text(body: str) -> str:
    """Return a page without the small print that carries account codes."""
    return SMALL_PRINT.sub(" ", body).replace("<wbr>", "")


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer])
def test_the_journal_names_every_account_and_keeps_codes_to_the_small_print(client, auth, world, money, role):
    auth.sign_in(world.users["a"][role].email)
    body = client.get("/ledger/").get_data(as_text=True).replace("&#39;", "'")
    for name in money.values():
        assert name in body
    assert not CODE.findall(_main_text(body)), CODE.findall(_main_text(body))
    # Each posting and each line of the trial balance gives the name first, the code after it.
    for code, name in money.items():
        for found in re.finditer(re.escape(code.replace(":", ":<wbr>")), body):
            assert body.rfind(name, 0, found.start()) > body.rfind("<li>", 0, found.start()) or body.rfind(name, 0, found.start()) > body.rfind("<tr", 0, found.start())


def _table(body: str, table_id: str) -> str:
    table = body[body.index(f'id="{table_id}-caption"'):]
    return table[:table.index("</table>")]


def test_the_journal_gives_the_trial_balance_by_type_in_the_order_money_flows(client, auth, world, money, session):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    body = client.get("/ledger/").get_data(as_text=True).replace("&#39;", "'")
    table = _table(body, "trial-balance")
    # Funding, wallets, pool shares, then providers: one line per type, with how many accounts and their sum.
    order = ["The council's funding", "Holders' wallets", "Holders' shares of group pools", "Owed to providers", "Stripe clearing", "Paid to providers"]
    positions = [table.index(label) for label in order]
    assert positions == sorted(positions)
    accounts = session.exec(select(LedgerAccount).where(LedgerAccount.council_id == world.councils["a"].id)).all()
    pools = [a for a in accounts if a.account_type == rules.AccountType.pool]
    row = table[table.index("Holders' shares of group pools"):]
    row = row[:row.index("</tr>")]
    assert f">{len(pools)}<" in row and pounds(sum(a.balance_pence for a in pools)) in row
    assert 'href="/ledger/accounts?type=pool">Holders\' shares of group pools' in table
    assert f">{len(accounts)}<" in table[table.index(">Total<"):] and "Balanced" in body


def test_the_accounts_page_lists_each_account_by_name_with_its_balance(client, auth, world, money):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    response = client.get("/ledger/accounts")
    assert response.status_code == 200
    table = _table(response.get_data(as_text=True).replace("&#39;", "'"), "accounts")
    assert "Holder a's share of Cluster a" in table and "£45.00" in table and "Neighbour a's wallet" in table and "£400.00" in table
    assert not CODE.findall(_main_text(table))
    # Money in the order it flows: the council's funding first, what reached providers near the end.
    assert table.index("Council A funding") < table.index("Holder a's wallet") < table.index("Owed to Co-op a") < table.index("Paid to Co-op a")


def test_the_accounts_page_filters_by_type_and_by_name(client, auth, world, money):
    auth.sign_in(world.users["a"][Role.broker].email)
    pools = _table(client.get("/ledger/accounts?type=pool").get_data(as_text=True).replace("&#39;", "'"), "accounts")
    assert "Holder a's share of Cluster a" in pools and "wallet" not in pools and "Council A funding" not in pools
    found = _table(client.get("/ledger/accounts?account=neighbour+a").get_data(as_text=True).replace("&#39;", "'"), "accounts")
    assert "Neighbour a's wallet" in found and "Holder a's" not in found
    # Council B's holder is nobody here, by name or by code.
    other = world.records["b"]["holder"]
    for text in ("Holder b", rules.wallet_code(other.id)):
        assert "No accounts match." in client.get("/ledger/accounts", query_string={"account": text}).get_data(as_text=True)


@pytest.mark.parametrize("query", ["type=treasure", "page=0", "account=" + "x" * 81])
def test_a_filter_that_cannot_be_read_is_explained_and_lists_nothing(client, auth, world, money, query):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    response = client.get(f"/ledger/accounts?{query}")
    body = response.get_data(as_text=True)
    assert response.status_code == 422 and "There is a problem" in body and "Nothing is listed until the filter is corrected." in body and "Correct the filter above to see accounts." in body


def test_the_accounts_page_pages_through_many_accounts(client, auth, world, session):
    council = world.councils["a"]
    job = system_actor(session=session, council_id=council.id)
    holders = [f.HolderFactory(session=session, council_id=council.id, name=f"Paging holder {i}") for i in range(55)]
    for i, holder in enumerate(holders):
        services.post_entry(session=session, actor=job, council_id=council.id, kind="dp_issued", memo="paging", idempotency_key=f"paging-{i}",
                            postings=[(rules.funding_code(council.id), -(100 + i)), (rules.wallet_code(holder.id), 100 + i)])
    session.commit()
    auth.sign_in(world.users["a"][Role.council_officer].email)
    first = client.get("/ledger/accounts?type=wallet").get_data(as_text=True).replace("&#39;", "'")
    second = client.get("/ledger/accounts?type=wallet&page=2").get_data(as_text=True).replace("&#39;", "'")
    assert "page 1 of 2" in first and "page 2 of 2" in second
    # Biggest balance first: the holder paid most heads the first page, the one paid least is on the second.
    assert "Paging holder 54" in first and "Paging holder 0's wallet" in second and "Paging holder 0's wallet" not in first


def test_the_entry_page_names_its_accounts(client, auth, world, money):
    auth.sign_in(world.users["a"][Role.broker].email)
    entry = world.records["a"]["entry"]
    body = client.get(f"/ledger/entries/{entry.id}").get_data(as_text=True).replace("&#39;", "'")
    assert "Council A funding" in body and "Holder a's wallet" in body
    assert not CODE.findall(_main_text(body))


@pytest.mark.parametrize(("typed", "count"), [
    ("holder a", 4),  # the direct payment, the pledge, the care paid from the share, the top-up
    ("Neighbour A", 1),
    ("Co-op a", 3),  # owed to, paid to: the care, the payout sent and the payout confirmed
    ("stripe clearing", 2),
    ("Cluster a", 3),
    ("stripe:clearing", 2),  # a code still works for staff who know it
    ("Holder b", 0),  # another council's holder is nobody here
])
def test_the_journal_finds_entries_by_a_persons_groups_or_providers_name(client, auth, world, money, typed, count):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    body = client.get("/ledger/", query_string={"account": typed}).get_data(as_text=True)
    if count:
        assert f"{count} {'entry' if count == 1 else 'entries'}." in body
    else:
        assert "No entries match." in body


def test_names_cost_a_few_queries_however_many_accounts(session, world):
    council = world.councils["a"]
    holders = [f.HolderFactory(session=session, council_id=council.id, name=f"Member {i}") for i in range(30)]
    codes = [rules.wallet_code(h.id) for h in holders] + [rules.pool_code(world.records["a"]["cluster"].id, h.id) for h in holders]
    codes += [rules.funding_code(council.id), rules.payable_code(world.records["a"]["provider"].id), rules.CLEARING_CODE]
    statements = []
    connection = session.connection()
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(connection, "before_cursor_execute", listener)
    try:
        named = names.name_accounts(session=session, council_id=council.id, codes=codes)
    finally:
        event.remove(connection, "before_cursor_execute", listener)
    assert len(statements) <= 4, statements
    assert named[rules.pool_code(world.records["a"]["cluster"].id, holders[7].id)] == "Member 7's share of Cluster a"
    assert named[rules.CLEARING_CODE] == "Stripe clearing"


def test_another_councils_records_are_never_named_and_nothing_falls_back_to_a_code(session, world, monkeypatch):
    council = world.councils["a"]
    foreign = rules.wallet_code(world.records["b"]["holder"].id)
    assert names.name_accounts(session=session, council_id=council.id, codes=[foreign]) == {foreign: "A holder's wallet"}
    monkeypatch.setattr(names, "_namers", [])
    plain = names.name_accounts(session=session, council_id=council.id, codes=[rules.funding_code(council.id), "not a code"])
    assert plain == {rules.funding_code(council.id): "The council's funding", "not a code": "An account"}


def test_the_application_registers_the_namer(app):
    assert names.has_namer()
