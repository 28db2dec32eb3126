"""A statement read a page at a time: each page's balances match the whole statement's, and only a page is read."""

from __future__ import annotations

from datetime import timedelta

from brokerage.ledger import services
from brokerage.types import utcnow
from tests.ledger.conftest import issue


def test_each_page_of_a_statement_matches_the_whole_statement(session, lw, monkeypatch):
    clock = [utcnow() - timedelta(days=200)]
    monkeypatch.setattr("brokerage.ledger.posting.utcnow", lambda: clock[0])
    for i in range(23):
        clock[0] += timedelta(days=1)
        issue(session, lw, 100 + i, key=f"dp-{i}")
    start, end = utcnow() - timedelta(days=195), utcnow() - timedelta(days=180)
    whole = services.statement(session=session, actor=lw.actor, council_id=lw.council.id, code=lw.wallet(), start=start, end=end)
    assert 10 < len(whole.lines) < 23
    lines = []
    for page in range(1, 5):
        part = services.statement(session=session, actor=lw.actor, council_id=lw.council.id, code=lw.wallet(), start=start, end=end, page=page, per_page=4)
        assert part.page == min(page, part.pages) and part.total_lines == len(whole.lines)
        assert part.opening == (lines[-1].balance if lines else whole.opening) and part.closing == whole.closing
        lines.extend(part.lines)
    assert [(l.entry_id, l.balance) for l in lines] == [(l.entry_id, l.balance) for l in whole.lines]
    latest = services.statement(session=session, actor=lw.actor, council_id=lw.council.id, code=lw.wallet(), page=0, per_page=4)
    assert latest.page == latest.pages == 6 and latest.lines[-1].balance == latest.closing == sum(100 + i for i in range(23))
    # Pages are counted back from the newest: the page people open first is full, the first page holds the 3 left over.
    assert len(latest.lines) == 4 and [l.amount for l in latest.lines] == [119, 120, 121, 122]
    oldest = services.statement(session=session, actor=lw.actor, council_id=lw.council.id, code=lw.wallet(), page=1, per_page=4)
    assert [l.amount for l in oldest.lines] == [100, 101, 102] and oldest.opening == 0 and oldest.closing == latest.closing


def test_the_holders_statement_page_shows_the_latest_lines_and_links_to_earlier_ones(client, auth, world, session):
    from brokerage.accounts.system import system_actor
    from brokerage.ledger import rules
    from brokerage.types import Role

    holder = world.records["a"]["holder"]
    actor = system_actor(session=session, council_id=holder.council_id)
    for i in range(55):
        services.post_entry(session=session, actor=actor, council_id=holder.council_id, kind="dp_issued", memo=f"Payment number {i}",
                            postings=[(rules.funding_code(holder.council_id), -(i + 1)), (rules.wallet_code(holder.id), i + 1)],
                            idempotency_key=f"dp:pages:{i}")
    session.commit()
    auth.sign_in(world.users["a"][Role.council_officer].email)
    wallet = services.find_account(session=session, actor=actor, council_id=holder.council_id, code=rules.wallet_code(holder.id))
    latest = client.get(f"/holders/{holder.id}/statement").text
    # The page that opens holds the newest 50 lines, not the 5 left over after pages of 50 from the oldest.
    assert "Page 2 of 2" in latest and "Earlier lines" in latest and "Payment number 54" in latest and "Payment number 5<" in latest
    assert "Payment number 4<" not in latest
    first = client.get(f"/holders/{holder.id}/statement", query_string={f"page-{wallet.id}": 1}).text
    assert "Page 1 of 2" in first and "Payment number 0<" in first and "Payment number 4<" in first and "Payment number 5<" not in first
