"""What a holder lets a representative do: see money, act in groups, manage care; each checked where representatives act."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.formatting import pounds
from brokerage.holders.models import Power, Representation


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture()
def representation(world, session):
    """Return the row that lets council A's representative act for holder A (with every power, as before powers existed)."""
    row = session.exec(select(Representation).where(Representation.representative_id == world.users["a"][Role.representative].id)).one()
    assert row.powers == frozenset(Power)
    return row


def choose(client, auth, world, representation, powers):
    """The holder ticks what their representative may do; then the representative signs in."""
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.holder].email)
    response = client.post(f"/holders/{holder.id}/representatives/{representation.id}/powers", data={"powers": [p.value for p in powers]})
    assert response.status_code == 302, text(response)
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.representative].email)


def money_pages(world):
    holder = world.records["a"]["holder"]
    return [f"/holders/{holder.id}/statement", f"/ledger/holders/{holder.id}", f"/holders/{holder.id}/top-up"]


def group_pages(world):
    records = world.records["a"]
    return [f"/clusters/proposals/{records['proposal'].id}", f"/clusters/memberships/{records['membership'].id}/leave"]


def care_pages(world):
    records = world.records["a"]
    return [f"/timesheets/{records['timesheet'].id}", f"/contracts/{records['contract'].id}", f"/matching/clusters/{records['cluster'].id}/demand",
            f"/holders/{records['holder'].id}/profile"]


@pytest.mark.parametrize("withheld", list(Power), ids=lambda p: p.value)
def test_a_representative_reaches_only_what_the_holder_lets_them(client, auth, world, representation, session, withheld):
    pages = {Power.money: money_pages(world), Power.groups: group_pages(world), Power.care: care_pages(world)}
    auth.sign_in(world.users["a"][Role.representative].email)
    for power, urls in pages.items():
        for url in urls:
            assert client.get(url).status_code == 200, url
    auth.sign_out()
    choose(client, auth, world, representation, set(Power) - {withheld})
    for power, urls in pages.items():
        for url in urls:
            assert client.get(url).status_code == (404 if power == withheld else 200), url
    # The record page is still theirs to read, without the links they may not follow.
    page = text(client.get(f"/holders/{world.records['a']['holder'].id}"))
    assert ("money, week by week" in page) is (withheld != Power.money)
    assert ("Weekly care budget" in page) is (withheld != Power.money)
    assert ("languages, care needs, goals, culture, faith and heritage" in page) is (withheld != Power.care)


def test_without_the_groups_power_a_representative_cannot_vote_for_the_holder(client, auth, world, representation, session):
    from brokerage.clusters.models import Vote

    choose(client, auth, world, representation, {Power.money, Power.care})
    proposal = world.records["a"]["proposal"]
    assert client.get(f"/clusters/proposals/{proposal.id}").status_code == 404
    # A vote sent from a page opened before the power was taken away is told why (test_stale_powers.py), not "Page not found".
    response = client.post(f"/clusters/proposals/{proposal.id}", data={"holder_id": str(world.records["a"]["holder"].id), "choice": "yes"})
    assert response.status_code == 403
    assert "Holder a no longer lets you vote or change their groups for them, so the vote was not recorded." in text(response)
    assert session.exec(select(Vote).where(Vote.proposal_id == proposal.id)).all() == []


def test_without_the_money_power_the_dashboard_shows_no_money_and_the_download_is_refused(client, auth, world, representation):
    holder = world.records["a"]["holder"]
    choose(client, auth, world, representation, {Power.groups, Power.care})
    dashboard = text(client.get("/dashboard"))
    assert holder.name in dashboard and f"/holders/{holder.id}/statement" not in dashboard
    assert client.get(f"/holders/{holder.id}/data.csv").status_code == 404


def test_only_the_holder_changes_what_a_representative_may_do_and_never_to_nothing(client, auth, world, representation, session):
    holder = world.records["a"]["holder"]
    url = f"/holders/{holder.id}/representatives/{representation.id}/powers"
    auth.sign_in(world.users["a"][Role.holder].email)
    page = text(client.get(f"/holders/{holder.id}"))
    assert "Change what" in page and page.count('name="powers"') == 3
    empty = client.post(url, data={"csrf_token": "as a browser sends it, with no box ticked"})
    assert empty.status_code == 422 and "Choose at least one thing they may do" in text(empty)
    auth.sign_out()
    for who in (Role.representative, Role.broker):
        auth.sign_in(world.users["a"][who].email)
        assert client.post(url, data={"powers": ["money"]}).status_code == 403
        auth.sign_out()
    auth.sign_in(world.users["b"][Role.holder].email)
    assert client.post(url, data={"powers": ["money"]}).status_code == 404
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.holder].email)
    assert client.post(f"/holders/{holder.id}/representatives/987654321/powers", data={"powers": ["money"]}).status_code == 404
    session.refresh(representation)
    assert representation.powers == frozenset(Power)
    assert client.post(url, data={"powers": ["care"]}).status_code == 302
    session.refresh(representation)
    assert representation.powers == frozenset({Power.care})


@pytest.mark.parametrize("withheld", [Power.money, Power.groups], ids=lambda p: p.value)
def test_the_record_page_and_dashboard_show_groups_and_pledges_only_with_the_groups_power(client, auth, world, representation, withheld):
    # A pledge is the group's business, as on the group page: the groups power shows it, the money power alone does not.
    records = world.records["a"]
    holder, cluster, membership = records["holder"], records["cluster"], records["membership"]
    pledge = f"pledges {pounds(membership.weekly_pledge_pence)} a week"
    auth.sign_in(world.users["a"][Role.representative].email)
    page = text(client.get(f"/holders/{holder.id}"))
    assert cluster.name in page and pledge in page
    assert cluster.name in text(client.get("/dashboard"))
    auth.sign_out()
    choose(client, auth, world, representation, set(Power) - {withheld})
    page = text(client.get(f"/holders/{holder.id}"))
    dashboard = text(client.get("/dashboard"))
    if withheld == Power.groups:
        assert pledge not in page
        # With the care power kept, the group is named only to reach its care (tests below), with no pledge.
        assert "has not asked you to help with their groups, but you manage their care" in page
        assert "Their groups" not in dashboard and cluster.name not in dashboard
    else:
        assert cluster.name in page and cluster.name in dashboard and pledge in page
        assert "their weekly care budget and their money statement are not shown here" in page


@pytest.mark.parametrize("withheld", [Power.money, Power.care], ids=lambda p: p.value)
def test_who_looked_at_the_record_needs_the_same_powers_as_the_download(client, auth, world, representation, withheld):
    holder = world.records["a"]["holder"]
    auth.sign_in(world.users["a"][Role.representative].email)
    assert client.get(f"/holders/{holder.id}/record-views").status_code == 200
    auth.sign_out()
    choose(client, auth, world, representation, set(Power) - {withheld})
    assert client.get(f"/holders/{holder.id}/record-views").status_code == 404
    assert client.get(f"/holders/{holder.id}/data.csv").status_code == 404


@pytest.mark.parametrize("withheld", [Power.money, Power.care], ids=lambda p: p.value)
def test_the_record_page_says_why_there_is_no_download_when_a_power_it_needs_is_withheld(client, auth, world, representation, withheld):
    holder = world.records["a"]["holder"]
    why = f"{holder.name} has not asked you to both see their money and manage their care, so you cannot download everything we hold about them"
    auth.sign_in(world.users["a"][Role.representative].email)
    page = text(client.get(f"/holders/{holder.id}"))
    assert f"/holders/{holder.id}/data.csv" in page and why not in page
    auth.sign_out()
    choose(client, auth, world, representation, set(Power) - {withheld})
    page = text(client.get(f"/holders/{holder.id}"))
    assert f"/holders/{holder.id}/data.csv" not in page and why in page


def test_the_record_page_shows_care_needs_and_goals_only_to_a_representative_who_manages_care(client, auth, world, representation, session):
    # A representative who may only see money opened the record page and read the person's care needs and goals.
    holder = world.records["a"]["holder"]
    holder.care_needs, holder.goals = ["day_activities"], "Build up strength after my fall"
    session.add(holder)
    session.commit()
    choose(client, auth, world, representation, {Power.money})
    page = text(client.get(f"/holders/{holder.id}"))
    assert "Weekly care budget" in page
    assert "Care needs" not in page and "Day activities" not in page and "Build up strength" not in page
    assert "has not asked you to help with their care" in page
    auth.sign_out()
    choose(client, auth, world, representation, {Power.care})
    page = text(client.get(f"/holders/{holder.id}"))
    assert "Day activities" in page and "Build up strength after my fall" in page
    assert "has not asked you to help with their care" not in page
    for who in (Role.holder, Role.broker):
        auth.sign_out()
        auth.sign_in(world.users["a"][who].email)
        page = text(client.get(f"/holders/{holder.id}"))
        assert "Day activities" in page and "Build up strength after my fall" in page and "has not asked you" not in page


def test_the_group_page_shows_the_groups_care_only_to_a_representative_who_manages_a_members_care(client, auth, world, representation):
    # The care pages answered 404 to a representative without the care power, but the group page listed the same care.
    records = world.records["a"]
    cluster, contract = records["cluster"], records["contract"]
    auth.sign_in(world.users["a"][Role.representative].email)
    page = text(client.get(f"/clusters/{cluster.id}"))
    assert "What the group asks for" in page and f"/contracts/{contract.id}" in page
    auth.sign_out()
    choose(client, auth, world, representation, {Power.groups, Power.money})
    page = text(client.get(f"/clusters/{cluster.id}"))
    assert "What the group asks for" not in page and f"/contracts/{contract.id}" not in page and "Care arranged" not in page
    assert "has asked you to help with their care" in page
    assert client.get(f"/contracts/{contract.id}").status_code == 404


def test_without_the_money_power_the_record_page_says_why_no_money_is_shown_and_the_downloads_are_refused(client, auth, world, representation):
    # The weekly budget and the statement link simply vanished, with nothing to say why.
    holder = world.records["a"]["holder"]
    said = f"{holder.name} has not asked you to see their money, so their weekly care budget and their money statement are not shown here."
    auth.sign_in(world.users["a"][Role.representative].email)
    assert said not in text(client.get(f"/holders/{holder.id}"))
    auth.sign_out()
    choose(client, auth, world, representation, {Power.groups, Power.care})
    assert said in text(client.get(f"/holders/{holder.id}"))
    # The data download holds the statement and the pledges, in both its forms.
    for form in ("json", "csv"):
        assert client.get(f"/holders/{holder.id}/data.{form}").status_code == 404, form
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.holder].email)
    assert "has not asked you" not in text(client.get(f"/holders/{holder.id}"))


def test_a_representative_who_only_manages_care_finds_the_groups_care_from_the_record_and_no_dead_links(client, auth, world, representation, session):
    # With only "Manage care", the record page said the groups were not shown, and the group page showed no care at
    # all, though the contract and timesheet pages opened when typed; the contract's "See the decision" led to a 404 (R5-6).
    from brokerage.contracts.queries import contract_page

    records = world.records["a"]
    holder, cluster, contract = records["holder"], records["cluster"], records["contract"]
    choose(client, auth, world, representation, {Power.care})
    record = text(client.get(f"/holders/{holder.id}"))
    assert "you manage their care: you can see the care of the groups they are in" in record
    assert f'href="/clusters/{cluster.id}"' in record and "pledges" not in record
    page = text(client.get(f"/clusters/{cluster.id}"))
    assert 'id="care-only"' in page and "What the group asks for" in page and f"/contracts/{contract.id}" in page
    assert "Timesheets" in page and "Choose who approves timesheets" not in page
    assert "Decisions" not in page and "Put a decision to the members" not in page
    assert client.get(f"/contracts/{contract.id}").status_code == 200
    rep = world.users["a"][Role.representative]
    assert contract_page(session=session, actor=rep, contract_id=contract.id).links_decisions is False
    # With the groups power too, the members, decisions and links are back, and the care-only sentence goes.
    auth.sign_out()
    choose(client, auth, world, representation, {Power.care, Power.groups})
    page = text(client.get(f"/clusters/{cluster.id}"))
    assert 'id="care-only"' not in page and "Decisions" in page and "What the group asks for" in page
    assert contract_page(session=session, actor=rep, contract_id=contract.id).links_decisions is True


def test_a_representative_who_only_sees_money_finds_the_persons_share_of_the_pool_and_why_nothing_else_is_shown(client, auth, world, representation, session):
    # With only "See money and statements" the group page showed Stage, Area and Size, no money and nothing to say why (R5-11).
    from brokerage.accounts.system import system_actor
    from brokerage.ledger import rules
    from brokerage.ledger.services import post_entry

    records = world.records["a"]
    holder, cluster, contract = records["holder"], records["cluster"], records["contract"]
    post_entry(session=session, actor=system_actor(session=session, council_id=holder.council_id), council_id=holder.council_id,
               kind="pledge_collected", memo="Pledge for 2026-W48", idempotency_key="r5-11-pledge",
               postings=[(rules.wallet_code(holder.id), -12_345), (rules.pool_code(cluster.id, holder.id), 12_345)])
    session.commit()
    why = f"{holder.name} has not asked you to help with their groups, so the group's members, decisions and care are not shown here."
    choose(client, auth, world, representation, {Power.money})
    page = text(client.get(f"/clusters/{cluster.id}"))
    assert why in page and f'id="own-share-{holder.id}"' in page
    assert "own share of the group's pool: <strong>£123.45</strong>" in page and f'href="/holders/{holder.id}/statement"' in page
    assert "Members" not in page and "Decisions" not in page and f"/contracts/{contract.id}" not in page and "Money in the pool" not in page
    # With the care power too the care comes back, under the care-only sentence; the share stays; with groups, the group's own page.
    auth.sign_out()
    choose(client, auth, world, representation, {Power.money, Power.care})
    page = text(client.get(f"/clusters/{cluster.id}"))
    assert 'id="care-only"' in page and f"/contracts/{contract.id}" in page and "£123.45" in page and why not in page
    auth.sign_out()
    choose(client, auth, world, representation, {Power.money, Power.groups})
    page = text(client.get(f"/clusters/{cluster.id}"))
    assert why not in page and f'id="own-share-{holder.id}"' not in page and "Money in the pool" in page and "Decisions" in page
    auth.sign_out()
    choose(client, auth, world, representation, {Power.care})
    assert f'id="own-share-{holder.id}"' not in text(client.get(f"/clusters/{cluster.id}"))
