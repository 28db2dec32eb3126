"""A representative who sends a form after the holder took away the power it needs is told so (403), and nothing changes (R5-18).

Pages outside a representative's powers still answer "Page not found" (test_powers.py), and so does every form to
anyone who does not act for the person, or whose authority was ended.
"""

from __future__ import annotations

import pytest
from sqlmodel import func, select

from brokerage.accounts.models import Role
from brokerage.clusters.models import Cluster, Membership, Proposal, Vote
from brokerage.holders.models import Holder, Power, Representation
from brokerage.matching.models import DemandLine
from brokerage.payments.models import TopUp
from brokerage.timesheets.models import Timesheet, TimesheetApprover
from brokerage.timesheets.rules import TimesheetStatus
from brokerage.types import utcnow

GROUPS = "Holder a no longer lets you vote or change their groups for them, so "
CARE = "Holder a no longer lets you manage their care for them, so "
MONEY = "Holder a no longer lets you see their money for them, so "


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture()
def sent(world, session):
    """Make holder A's group ready for every form: a submitted timesheet that holder A approves, and a waiting top-up."""
    records = world.records["a"]
    sheet = records["timesheet"]
    sheet.status, sheet.submitted_at = TimesheetStatus.submitted, utcnow()
    session.add(TimesheetApprover(council_id=world.councils["a"].id, cluster_id=records["cluster"].id, holder_id=records["holder"].id,
                                  proposal_id=records["proposal"].id))
    top_up = TopUp(council_id=world.councils["a"].id, holder_id=records["holder"].id, cluster_id=records["cluster"].id,
                   payment_intent_id="pi_stale", amount_pence=1000, methods=["card"])
    session.add_all([sheet, top_up])
    session.commit()
    records["top_up"] = top_up
    return world


def forms(world):
    """Return every form a representative sends for holder A: (what it needs, page it is on, where it is sent, what it sends, what did not happen)."""
    r = world.records["a"]
    holder, cluster, membership = r["holder"], r["cluster"], r["membership"]
    return [
        (Power.groups, f"/clusters/{cluster.id}", f"/clusters/memberships/{membership.id}/pledge", {f"m{membership.id}-pledge": "12.00"},
         "the pledge was not changed"),
        (Power.groups, f"/clusters/memberships/{membership.id}/leave", f"/clusters/memberships/{membership.id}/leave", {}, "no notice was given"),
        (Power.groups, f"/clusters/{r['private_cluster'].id}", f"/clusters/{r['private_cluster'].id}/join",
         {"join-holder_id": str(holder.id), "join-pledge": "10.00"}, "no request to join was sent"),
        (Power.groups, f"/clusters/proposals/{r['proposal'].id}", f"/clusters/proposals/{r['proposal'].id}",
         {"holder_id": str(holder.id), "choice": "yes"}, "the vote was not recorded"),
        (Power.groups, f"/clusters/{cluster.id}/propose", f"/clusters/{cluster.id}/propose", {"kind": "free_text", "title": "Tea"},
         "nothing was put to the members"),
        (Power.groups, f"/timesheets/groups/{cluster.id}/approver", f"/timesheets/groups/{cluster.id}/approver", {"holder_id": str(holder.id)},
         "nobody was put to the vote to approve timesheets"),
        (Power.groups, "/clusters/new", "/clusters/new",
         {"name": "Tea club", "kinds": ["neighbourhood"], "districts": ["E3"], "min_size": "2", "max_size": "6", "holder_id": str(holder.id),
          "pledge": "10.00"}, "the group was not started"),
        (Power.care, f"/timesheets/{r['timesheet'].id}", f"/timesheets/{r['timesheet'].id}/approve", {}, "the timesheet was not approved"),
        (Power.care, f"/timesheets/{r['timesheet'].id}", f"/timesheets/{r['timesheet'].id}/reject", {"reject-reason": "Wrong day"},
         "the timesheet was not sent back"),
        (Power.care, f"/holders/{holder.id}/profile", f"/holders/{holder.id}/profile", {"goals": "Changed"}, "their profile was not changed"),
        (Power.care, f"/matching/clusters/{cluster.id}/demand", f"/matching/clusters/{cluster.id}/demand",
         {"service": "home_care", "hours": "2"}, "nothing was asked for"),
        (Power.money, f"/holders/{holder.id}/top-up", f"/holders/{holder.id}/top-up", {"cluster": str(cluster.id), "amount": "10"},
         "no payment was started"),
        (Power.money, f"/top-ups/{r['top_up'].id}", f"/top-ups/{r['top_up'].id}/cancel", {}, "the payment was not cancelled"),
    ]


def state(session) -> dict:
    """Return what any of the forms would change."""
    session.expire_all()
    counts = {model.__name__: session.exec(select(func.count()).select_from(model)).one()
              for model in (Cluster, Membership, Proposal, Vote, DemandLine, TopUp, TimesheetApprover)}
    return {
        **counts,
        "memberships": sorted((m.id, m.status, m.weekly_pledge_pence, m.leaves_on) for m in session.exec(select(Membership))),
        "sheets": sorted((t.id, t.status, t.decided_by_id) for t in session.exec(select(Timesheet))),
        "goals": sorted((h.id, h.goals) for h in session.exec(select(Holder))),
        "top_ups": sorted((t.id, t.status) for t in session.exec(select(TopUp))),
    }


def take_away(client, auth, world, session, power: Power) -> None:
    """The holder unticks one power on their page; their representative stays, with the other two."""
    holder = world.records["a"]["holder"]
    rep = world.users["a"][Role.representative]
    row = session.exec(select(Representation).where(Representation.representative_id == rep.id)).one()
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.holder].email)
    kept = [p.value for p in Power if p != power]
    assert client.post(f"/holders/{holder.id}/representatives/{row.id}/powers", data={"powers": kept}).status_code == 302
    auth.sign_out()
    auth.sign_in(rep.email)


@pytest.mark.parametrize("index", range(13), ids=lambda i: str(i))
def test_a_form_sent_after_its_power_was_taken_away_says_so_and_changes_nothing(client, auth, sent, session, index):
    power, page, url, data, undone = forms(sent)[index]
    auth.sign_in(sent.users["a"][Role.representative].email)
    assert client.get(page).status_code == 200, page  # the form is open
    take_away(client, auth, sent, session, power)
    before = state(session)
    response = client.post(url, data=data)
    assert response.status_code == 403, (url, text(response)[:3000])
    words = {Power.groups: GROUPS, Power.care: CARE, Power.money: MONEY}[power] + undone + "."
    assert words in text(response), url
    assert "You can no longer do this for them" in text(response)
    assert state(session) == before
    # The page itself, opened again, is still not found (the rule pinned by test_powers.py).
    open_to_all = {f"/clusters/{sent.records['a']['cluster'].id}", f"/clusters/{sent.records['a']['private_cluster'].id}", "/clusters/new"}
    if page not in open_to_all:
        assert client.get(page).status_code == 404, page


@pytest.mark.parametrize("index", range(13), ids=lambda i: str(i))
def test_someone_who_acts_for_nobody_concerned_still_finds_nothing(client, auth, sent, session, index):
    from tests import factories as f

    council = sent.councils["a"]
    stranger = f.UserFactory(session=session, role=Role.representative, council_id=council.id, email="stranger@example.org")
    f.RepresentationFactory(session=session, council_id=council.id, representative_id=stranger.id, holder_id=sent.records["a"]["other_holder"].id)
    session.commit()
    auth.sign_in(stranger.email)
    _finds_nothing(client, session, forms(sent)[index])


@pytest.mark.parametrize("index", range(13), ids=lambda i: str(i))
def test_a_representative_whose_authority_was_ended_still_finds_nothing(client, auth, sent, session, index):
    rep = sent.users["a"][Role.representative]
    row = session.exec(select(Representation).where(Representation.representative_id == rep.id)).one()
    row.revoked_at = utcnow()
    session.add(row)
    session.commit()
    auth.sign_in(rep.email)
    _finds_nothing(client, session, forms(sent)[index])


def _finds_nothing(client, session, form):
    """Send the form: refused as before (404, or the form's own 422), without the words, and nothing changes."""
    power, page, url, data, undone = form
    before = state(session)
    response = client.post(url, data=data)
    assert response.status_code in (404, 422), (url, response.status_code)
    assert "no longer lets you" not in text(response)
    assert state(session) == before
