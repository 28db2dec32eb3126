"""Brokers change and withdraw what a group asks for; every request shows its times and why it is not met (issue 12)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import select

from brokerage.accounts.models import Council, User
from brokerage.clusters import governance
from brokerage.clusters.models import Cluster, Membership, MembershipStatus, Proposal
from brokerage.clusters.rules import Choice, ProposalStatus
from brokerage.contracts.models import Contract
from brokerage.errors import Conflict, NotAllowed, NotFound, ValidationFailed
from brokerage.formatting import plural, slot_hours_words
from brokerage.matching import demand, services, snapshot
from brokerage.matching.models import DemandLine, DemandLineChange, MatchAssignment, MatchGap
from brokerage.matching.rules import AssignmentStatus, DemandLineStatus
from brokerage.matching.vocabulary import times_phrase
from brokerage.providers.models import Provider
from brokerage.providers.rules import ProviderStatus
from tests.demo_support import PASSWORD

SOMALI = "Somali elders of Whitechapel"


@pytest.fixture()
def app(demo_app):
    """Every test here starts from the demo, loaded once per process (tests/demo_support.py), in a rolled-back transaction."""
    return demo_app


@pytest.fixture()
def demo(session):
    """Return the demo's broker and a way to find a group's request by service."""
    broker = session.exec(select(User).where(User.email == "broker@riverside.example")).one()

    def line(group: str, service: str) -> DemandLine:
        cluster = session.exec(select(Cluster).where(Cluster.name == group)).one()
        return session.exec(select(DemandLine).where(DemandLine.cluster_id == cluster.id, DemandLine.service == service)).one()

    return broker, line


def _as_it_is(line: DemandLine, **changes) -> dict:
    """Return an edit's arguments: the line as it is, with some changes."""
    fields = {"service": line.service, "slot_hours": dict(line.slot_hours), "languages": list(line.languages),
              "language_required": line.language_required, "carer_gender": line.carer_gender, "max_rate_pence": line.max_rate_pence,
              "served": [int(h) for h in line.shares]}
    return {**fields, **changes}


def _sign_in(client, email):
    assert client.post("/sign-in", data={"email": email, "password": PASSWORD}).status_code == 302


def test_a_broker_changes_a_request_and_its_history_keeps_what_it_was(session, demo):
    broker, line = demo
    respite = line(SOMALI, "respite")
    demand.edit_demand_line(session=session, actor=broker, line_id=respite.id, **_as_it_is(respite, slot_hours={"sun_eve": 3, "sat_eve": 3}))
    assert (respite.hours, respite.slots, respite.changed_at is not None) == (6, ["sat_eve", "sun_eve"], True)
    assert respite.slot_hours == {"sat_eve": 3, "sun_eve": 3} and list(respite.slot_hours) == ["sat_eve", "sun_eve"]  # in the order of the week
    (change,) = session.exec(select(DemandLineChange).where(DemandLineChange.demand_line_id == respite.id)).all()
    assert change.kind.value == "edited" and change.actor_id == broker.id
    assert change.changes == {"hours": [4, 6], "slot_hours": [{"sun_eve": 4}, {"sat_eve": 3, "sun_eve": 3}]}
    page = demand.demand_line_page(session=session, actor=broker, line_id=respite.id)
    assert page.history[0][2] == ("hours from 4 hours a week to 6 hours a week; "
                                  "times from Sunday evening, 4 hours to Saturday and Sunday evenings, 3 hours each")


def test_weekly_hours_and_times_given_without_hours_per_time_are_spread_over_the_times(session, demo):
    broker, line = demo
    respite = line(SOMALI, "respite")
    fields = {k: v for k, v in _as_it_is(respite).items() if k != "slot_hours"}
    demand.edit_demand_line(session=session, actor=broker, line_id=respite.id, **fields, hours=7, slots=["sun_eve", "sat_eve", "sat_am"])
    assert (respite.slot_hours, respite.hours, respite.slots) == ({"sat_am": 3, "sat_eve": 2, "sun_eve": 2}, 7, ["sat_am", "sat_eve", "sun_eve"])


def test_a_time_of_day_asks_no_more_than_its_people_can_have_and_hours_kept_stay(session, demo):
    broker, line = demo
    respite = line(SOMALI, "respite")
    one = [int(h) for h in respite.shares][:1]
    with pytest.raises(ValidationFailed) as refused:
        demand.edit_demand_line(session=session, actor=broker, line_id=respite.id, **_as_it_is(respite, served=one, slot_hours={"mon_am": 7}))
    assert refused.value.errors["slot_hours"][0] == ("Monday morning hours must be a whole number from 0 to 6 "
                                                     "(one person has up to 6 hours of care in a morning, an afternoon or an evening)")
    fields = {k: v for k, v in _as_it_is(respite, served=one).items() if k != "slot_hours"}
    with pytest.raises(ValidationFailed) as refused:
        demand.edit_demand_line(session=session, actor=broker, line_id=respite.id, **fields, hours=13, slots=["mon_am", "tue_am"])
    assert refused.value.errors["hours"][0] == ("Enter at most 12 hours for 2 times of day "
                                                "(one person has up to 6 hours of care in a morning, an afternoon or an evening)")
    assert (respite.slot_hours, respite.changed_at) == ({"sun_eve": 4}, None)
    # Hours recorded before the limit stay allowed, so the line's other details can still be changed.
    respite.slot_hours, respite.hours = {"sun_eve": 30}, 30
    session.add(respite)
    session.flush()
    demand.edit_demand_line(session=session, actor=broker, line_id=respite.id, **_as_it_is(respite, max_rate_pence=respite.max_rate_pence + 100))
    assert respite.slot_hours == {"sun_eve": 30}


@pytest.mark.parametrize(("slot_hours", "message"), [
    ({}, "Enter the hours for at least one time of day"),
    ({"mon_am": 0}, "Enter the hours for at least one time of day"),
    # The line is for 4 members: each has up to 6 hours of care in one time of day (40 in a Monday morning was taken).
    ({"mon_am": 25}, "Monday morning hours must be a whole number from 0 to 24 (up to 6 hours for each of the 4 people it is for)"),
    ({"someday": 2}, "Enter hours only for the times of day on the form"),
    ({slot: 24 for slot in ("mon_am", "mon_pm", "mon_eve", "tue_am", "tue_pm", "tue_eve", "wed_am", "wed_pm")},
     "The hours add up to 192 a week: enter no more than 168 in all"),
])
def test_bad_hours_per_time_of_day_are_refused_and_nothing_changes(session, demo, slot_hours, message):
    broker, line = demo
    respite = line(SOMALI, "respite")
    with pytest.raises(ValidationFailed) as refused:
        demand.edit_demand_line(session=session, actor=broker, line_id=respite.id, **_as_it_is(respite, slot_hours=slot_hours))
    assert message in refused.value.errors["slot_hours"][0]
    assert (respite.slot_hours, respite.hours, respite.changed_at) == ({"sun_eve": 4}, 4, None)


def test_a_rate_no_care_costs_is_refused_and_nothing_changes(session, demo):
    # £1,000,000 an hour passed every check, and a provider's such rate would have stopped every later run:
    # the matching format refuses a rate over £10,000 an hour.
    broker, line = demo
    respite = line(SOMALI, "respite")
    with pytest.raises(ValidationFailed) as refused:
        demand.edit_demand_line(session=session, actor=broker, line_id=respite.id, **_as_it_is(respite, max_rate_pence=100_000_000))
    assert refused.value.errors["max_rate"] == ["Enter an hourly rate of £1,000.00 or less"]
    assert respite.changed_at is None


def test_an_edit_that_changes_nothing_records_nothing(session, demo):
    broker, line = demo
    respite = line(SOMALI, "respite")
    demand.edit_demand_line(session=session, actor=broker, line_id=respite.id, **_as_it_is(respite))
    assert respite.changed_at is None
    assert session.exec(select(DemandLineChange).where(DemandLineChange.demand_line_id == respite.id)).all() == []


def _home_care_out_to_vote(session, demo):
    """Run matching and send it to the groups; return the broker, the Somali group's home care and its care out to the vote."""
    broker, line = demo
    council = session.exec(select(Council).where(Council.slug == "riverside")).one()
    run = services.run_matching(session=session, actor=broker, council_id=council.id)
    services.send_to_clusters(session=session, actor=broker, run_id=run.id)
    home_care = line(SOMALI, "home_care")
    sent = session.exec(select(MatchAssignment).where(MatchAssignment.demand_line_id == home_care.id, MatchAssignment.status == AssignmentStatus.sent))
    return broker, home_care, list(sent)


def test_a_request_with_care_out_to_a_vote_keeps_its_service_members_and_those_hours(session, demo):
    broker, home_care, sent = _home_care_out_to_vote(session, demo)
    assert sum(a.hours for a in sent) == 14
    with pytest.raises(ValidationFailed) as refused:
        demand.edit_demand_line(session=session, actor=broker, line_id=home_care.id,
                                **_as_it_is(home_care, service="companionship", slot_hours={"mon_am": 10}, served=[int(h) for h in home_care.shares][:2]))
    assert set(refused.value.errors) == {"service", "slot_hours", "served"}
    assert "14 hours a week are already arranged or out to the group's vote" in refused.value.errors["slot_hours"][0]
    # Times and the price only steer future matching: they may change.
    more = {**home_care.slot_hours, "fri_pm": 4}
    demand.edit_demand_line(session=session, actor=broker, line_id=home_care.id, **_as_it_is(home_care, slot_hours=more, max_rate_pence=2500))
    assert (home_care.hours, home_care.max_rate_pence, home_care.service) == (16, 2500, "home_care")


def test_a_request_with_care_out_to_a_vote_cannot_move_away_from_that_care_s_times(session, demo):
    # A broker moved a request's hours from the daytime, out to the members' vote, to the evenings, keeping the total:
    # the vote went on offering daytime care, and the next run counted it against the evenings.
    broker, home_care, sent = _home_care_out_to_vote(session, demo)
    voting = {}
    for a in sent:
        for slot, hours in a.slot_hours.items():
            voting[slot] = voting.get(slot, 0) + hours
    assert sum(voting.values()) == 14 and not any(slot.endswith("_eve") for slot in voting)
    before = dict(home_care.slot_hours)
    evenings = {f"{day}_eve": 2 for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}  # 14 hours, none at the voted times
    with pytest.raises(ValidationFailed) as refused:
        demand.edit_demand_line(session=session, actor=broker, line_id=home_care.id, **_as_it_is(home_care, slot_hours=evenings))
    message = refused.value.errors["slot_hours"][0]
    assert message.startswith("Care at these times is already arranged or out to the group's vote: ") and "morning" in message
    assert dict(home_care.slot_hours) == before
    assert session.exec(select(DemandLineChange).where(DemandLineChange.demand_line_id == home_care.id)).all() == []
    # Adding evenings beside the voted times is allowed.
    demand.edit_demand_line(session=session, actor=broker, line_id=home_care.id, **_as_it_is(home_care, slot_hours={**before, **evenings}))
    assert home_care.hours == 28


def test_when_the_only_providers_who_could_come_are_booked_by_care_out_to_a_vote_the_gap_says_so(session, demo):
    # The snapshot takes committed care off a provider's hours; the reason then read "No vetted Somali-speaking
    # provider within reach offers home care on ..." although the provider works then and is simply booked.
    broker, home_care, sent = _home_care_out_to_vote(session, demo)
    council_id = home_care.council_id
    voting = {a.provider_id for a in sent}
    _, by_provider = snapshot.committed_care(session, council_id)
    for provider in session.exec(select(Provider).where(Provider.council_id == council_id)):
        if provider.id in voting:  # it works exactly the hours already committed
            provider.slot_hours, provider.capacity_hours = dict(by_provider[provider.id].slot_hours), by_provider[provider.id].hours
        else:
            provider.status = ProviderStatus.pending_review  # out of matching
        session.add(provider)
    slot = next(iter(sent[0].slot_hours))
    more = {**home_care.slot_hours, slot: home_care.slot_hours[slot] + 2}
    demand.edit_demand_line(session=session, actor=broker, line_id=home_care.id, **_as_it_is(home_care, slot_hours=more))
    run = services.run_matching(session=session, actor=broker, council_id=council_id)
    (gap,) = session.exec(select(MatchGap).where(MatchGap.run_id == run.id, MatchGap.demand_line_id == home_care.id)).all()
    assert gap.hours == 2 and gap.slot_hours == {slot: 2}
    who = "the only provider who could come is" if len({a.provider_id for a in sent if slot in a.slot_hours}) == 1 else "providers who could come are"
    assert gap.reason.startswith(f"On {times_phrase([slot])} ") and f"{who} fully booked" in gap.reason, gap.reason


def test_a_provider_taking_off_times_its_care_out_to_a_vote_uses_is_told_that_care_goes_on(client, session, demo):
    # A provider could remove the times of care already out to a group's vote without a word.
    broker, home_care, sent = _home_care_out_to_vote(session, demo)
    provider = session.get(Provider, sent[0].provider_id)
    voted = next(iter(sent[0].slot_hours))
    offered = {slot: hours for slot, hours in services.provider_slot_hours(provider).items() if slot != voted}
    form = {"name": provider.name, "kind": provider.kind.value, "services": list(provider.services), "languages": list(provider.languages),
            "staff_genders": list(provider.staff_genders), "staff_count": str(provider.staff_count),
            "capacity_hours": "" if provider.capacity_hours is None else str(provider.capacity_hours), "radius_km": f"{provider.radius_km:g}",
            "hourly_rate": f"{provider.hourly_rate_pence / 100:.2f}", "ownership_model": provider.ownership_model,
            **({"living_wage": "y"} if provider.living_wage else {}), **({"ethical_care_charter": "y"} if provider.ethical_care_charter else {}),
            **{f"slot_hours-{slot}": str(hours) for slot, hours in offered.items()}}
    _sign_in(client, broker.email)
    saved = client.post(f"/providers/{provider.id}/edit", data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    page = client.get(saved.headers["Location"]).get_data(as_text=True).replace("&#39;", "'")
    committed = snapshot.committed_care(session, provider.council_id)[1][provider.id].slot_hours[voted]
    assert "profile was updated" in page and "has care already agreed or out to a group's vote at times no longer offered: " in page
    # Whose care goes on, and what, not only when (it named the times alone).
    assert (f"home care for {SOMALI} on {times_phrase([voted])} ({plural(committed, 'hour')}). "
            "That care goes on as agreed; only new work stops at those times.") in page
    # Putting the time back says nothing more.
    form[f"slot_hours-{voted}"] = str(committed)
    page = client.get(client.post(f"/providers/{provider.id}/edit", data=form).headers["Location"]).get_data(as_text=True)
    assert "profile was updated" in page and "no longer offered" not in page


def test_withdrawing_a_request_takes_it_out_of_matching_and_keeps_it(session, demo):
    broker, line = demo
    council = session.exec(select(Council).where(Council.slug == "riverside")).one()
    respite = line(SOMALI, "respite")
    demand.withdraw_demand_line(session=session, actor=broker, line_id=respite.id, reason="They found a day centre")
    assert respite.status == DemandLineStatus.withdrawn
    instance = services.build_instance(session=session, actor=broker, council_id=council.id)
    assert f"d-{respite.id}" not in {d["id"] for d in instance["demand"]} and len(instance["demand"]) == 5
    cluster = session.get(Cluster, respite.cluster_id)
    assert respite.id not in {view.line.id for view in demand.demand_of_cluster(session=session, actor=broker, cluster=cluster)}
    assert session.get(DemandLine, respite.id) is not None
    (change,) = session.exec(select(DemandLineChange).where(DemandLineChange.demand_line_id == respite.id)).all()
    assert (change.kind.value, change.reason, change.actor_id) == ("withdrawn", "They found a day centre", broker.id)
    with pytest.raises(Conflict, match="was withdrawn"):
        demand.withdraw_demand_line(session=session, actor=broker, line_id=respite.id)
    with pytest.raises(Conflict, match="was withdrawn"):
        demand.edit_demand_line(session=session, actor=broker, line_id=respite.id, **_as_it_is(respite, hours=2))


def test_only_the_councils_brokers_change_or_withdraw_a_request(session, demo):
    broker, line = demo
    respite = line(SOMALI, "respite")
    officer = session.exec(select(User).where(User.email == "officer@riverside.example")).one()
    holder = session.exec(select(User).where(User.email == "holder@riverside.example")).one()
    elsewhere = session.exec(select(User).where(User.email == "broker@northfield.example")).one()
    for person in (officer, holder):
        with pytest.raises(NotAllowed):
            demand.withdraw_demand_line(session=session, actor=person, line_id=respite.id)
        with pytest.raises(NotAllowed):
            demand.edit_demand_line(session=session, actor=person, line_id=respite.id, **_as_it_is(respite, slot_hours={"sun_eve": 2}))
    with pytest.raises(NotFound):
        demand.withdraw_demand_line(session=session, actor=elsewhere, line_id=respite.id)
    with pytest.raises(NotFound):
        demand.demand_line_page(session=session, actor=elsewhere, line_id=respite.id)
    assert respite.status == DemandLineStatus.open and respite.hours == 4


def test_a_run_made_before_a_change_does_not_send_the_changed_or_withdrawn_requests(session, demo):
    broker, line = demo
    # The demo's newest run waits for the broker's review; then the broker changes and withdraws what two groups ask for.
    run_id = services.latest_run_id(session, broker.council_id)
    bengali, bow = line("Bengali women's care circle", "companionship"), line("Bow carers' respite group", "respite")
    demand.edit_demand_line(session=session, actor=broker, line_id=bengali.id, **_as_it_is(bengali, slot_hours={"tue_pm": 6}))
    demand.withdraw_demand_line(session=session, actor=broker, line_id=bow.id)
    services.send_to_clusters(session=session, actor=broker, run_id=run_id)
    sent = {a.demand_line_id: a.status for a in session.exec(select(MatchAssignment).where(MatchAssignment.run_id == run_id))}
    assert sent[bengali.id] == AssignmentStatus.proposed and sent[bow.id] == AssignmentStatus.proposed
    assert sent[line(SOMALI, "home_care").id] == AssignmentStatus.sent
    assert not session.exec(select(Proposal).where(Proposal.cluster_id == bow.cluster_id, Proposal.kind == "accept_match",
                                                   Proposal.status == ProposalStatus.open)).all()


def test_a_vote_on_care_whose_request_was_withdrawn_is_no_longer_needed(session, demo):
    broker, line = demo
    run_id = services.latest_run_id(session, broker.council_id)
    (proposal,) = [p for p in services.send_to_clusters(session=session, actor=broker, run_id=run_id).proposals
                   if session.get(Cluster, p.cluster_id).name == "Bow carers' respite group"]
    demand.withdraw_demand_line(session=session, actor=broker, line_id=line("Bow carers' respite group", "respite").id)
    for membership in session.exec(select(Membership).where(Membership.cluster_id == proposal.cluster_id, Membership.status == MembershipStatus.active)):
        voter = session.exec(select(User).where(User.holder_id == membership.holder_id)).first()
        if voter is not None and proposal.status == ProposalStatus.open:
            governance.cast_vote(session=session, actor=voter, proposal_id=proposal.id, holder_id=membership.holder_id, choice=Choice.yes)
    if proposal.status == ProposalStatus.open:  # too few of the members have accounts to decide it: the deadline does
        governance.close_due_proposals(session=session, actor=broker, council_id=broker.council_id, now=proposal.deadline)
    session.refresh(proposal)
    assert proposal.status == ProposalStatus.lapsed
    assert "withdrew the request for this care" in proposal.outcome


# --- the pages ------------------------------------------------------------------------------------


def test_a_broker_changes_a_request_from_its_page_and_the_group_page_shows_it(app, session, demo):
    broker, line = demo
    respite = line(SOMALI, "respite")
    client = app.test_client()
    _sign_in(client, "broker@riverside.example")
    page = client.get(f"/matching/demand/{respite.id}/edit").get_data(as_text=True)
    assert "Change what the group asks for" in page and "Sunday evening, 4 hours" in page
    assert 'id="slot_hours-sun_eve" name="slot_hours-sun_eve" type="text" inputmode="numeric" value="4"' in page  # the form shows the line's hours
    # The boxes say which hours of the clock each part of the day is, and the first day's boxes point a screen reader to it.
    assert '<div id="slot_hours-times" class="govuk-hint">A morning is 6am to midday, an afternoon midday to 5pm and an evening 5pm to 10pm.</div>' in page
    assert re.search(r'aria-describedby="[^"]*slot_hours-times[^"]*">\s*<legend[^>]*>Monday</legend>', page)
    form = {"service": "respite", "slot_hours-sat_eve": "3", "slot_hours-sun_eve": "3", "languages": "so", "language_required": "y",
            "carer_gender": "female", "max_rate": "26.00", "served": list(respite.shares)}
    bad = client.post(f"/matching/demand/{respite.id}/edit", data={**form, "slot_hours-sat_eve": "three"})
    text = bad.get_data(as_text=True)
    assert bad.status_code == 422 and "There is a problem" in text
    message = "Saturday evening hours must be a whole number from 0 to 40"
    assert f'<p id="slot_hours-sat_eve-error" class="govuk-error-message"><span class="govuk-visually-hidden">Error:</span> {message}</p>' in text
    assert f'<a href="#slot_hours-sat_eve">{message}</a>' in text and 'value="three" aria-describedby="slot_hours-sat_eve-error" aria-invalid="true"' in text
    session.refresh(respite)
    assert (respite.hours, respite.slot_hours) == (4, {"sun_eve": 4})
    done = client.post(f"/matching/demand/{respite.id}/edit", data=form)
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/clusters/{respite.cluster_id}#what-the-group-asks-for")
    group = client.get(f"/clusters/{respite.cluster_id}").get_data(as_text=True)
    assert "6 hours a week of respite" in group and "Saturday and Sunday evenings, 3 hours each" in group and "The request for care was changed" in group
    history = client.get(f"/matching/demand/{respite.id}/edit").get_data(as_text=True)
    assert "Changed by Bola Broker" in history and "hours from 4 hours a week to 6 hours a week" in history
    # Saving it again as it is changes nothing, and says so (it said "The request for care was changed").
    again = client.post(f"/matching/demand/{respite.id}/edit", data=form, follow_redirects=True).get_data(as_text=True)
    assert "Nothing was changed: the request for care is as it was." in again and "The request for care was changed" not in again
    assert len(session.exec(select(DemandLineChange).where(DemandLineChange.demand_line_id == respite.id)).all()) == 1


def test_a_broker_withdraws_a_request_from_its_page(app, session, demo):
    broker, line = demo
    respite = line(SOMALI, "respite")
    client = app.test_client()
    _sign_in(client, "broker@riverside.example")
    done = client.post(f"/matching/demand/{respite.id}/withdraw", data={"reason": "A day centre now."})
    assert done.status_code == 302
    session.refresh(respite)
    assert respite.status == DemandLineStatus.withdrawn
    group = client.get(f"/clusters/{respite.cluster_id}").get_data(as_text=True)
    assert "4 hours a week of respite" not in group and "was withdrawn. It will not be matched again" in group
    page = client.get(f"/matching/demand/{respite.id}/edit").get_data(as_text=True)
    words = re.sub(r"<[^>]+>", "", page)
    assert "What the group asked for" in page and "Withdrawn by Bola Broker" in page and "“A day centre now.”" in words and "now.”." not in words
    assert "Save the changes" not in page
    again = client.post(f"/matching/demand/{respite.id}/withdraw", data={})
    assert again.status_code == 409 and "This request for care was withdrawn" in again.get_data(as_text=True)


@pytest.mark.parametrize("email", ["holder@riverside.example", "rep@riverside.example", "officer@riverside.example", "provider@riverside.example"])
def test_no_one_but_a_broker_opens_or_sends_the_forms(app, session, demo, email):
    _, line = demo
    respite = line(SOMALI, "respite")
    client = app.test_client()
    _sign_in(client, email)
    assert client.get(f"/matching/demand/{respite.id}/edit").status_code == 403
    assert client.post(f"/matching/demand/{respite.id}/edit", data={"hours": "1"}).status_code == 403
    assert client.post(f"/matching/demand/{respite.id}/withdraw", data={}).status_code == 403
    session.refresh(respite)
    assert respite.status == DemandLineStatus.open and respite.hours == 4


def test_another_councils_broker_finds_no_request(app, session, demo):
    _, line = demo
    respite = line(SOMALI, "respite")
    client = app.test_client()
    _sign_in(client, "broker@northfield.example")
    for path in (f"/matching/demand/{respite.id}/edit", "/matching/demand/987654321/edit"):
        assert client.get(path).status_code == 404
    assert client.post(f"/matching/demand/{respite.id}/withdraw", data={}).status_code == 404
    assert client.post(f"/matching/demand/{respite.id}/edit", data={"hours": "1"}).status_code == 404
    session.refresh(respite)
    assert respite.status == DemandLineStatus.open


def test_a_member_reads_when_each_request_is_wanted_and_why_one_is_not_met(app, session, demo):
    _, line = demo
    respite = line(SOMALI, "respite")
    client = app.test_client()
    _sign_in(client, "holder@riverside.example")
    group = client.get(f"/clusters/{respite.cluster_id}").get_data(as_text=True)
    assert "4 hours a week of respite" in group and "Sunday evening, 4 hours" in group and "A woman who speaks Somali" in group
    assert "Not met yet." in group and "No vetted Somali-speaking provider within reach offers respite on Sunday evenings." in group
    assert "Monday to Thursday mornings, 3 hours each; Friday afternoon, 2 hours" in group
    assert "Change or withdraw" not in group


def test_the_matching_pages_show_each_requests_times(app, session, demo):
    client = app.test_client()
    _sign_in(client, "officer@riverside.example")
    for path in ("/matching/", "/matching/gaps", f"/matching/runs/{services.latest_run_id(session, demo[0].council_id)}"):
        page = client.get(path).get_data(as_text=True)
        assert "Sunday evening, 4 hours" in page, path
    assert "Change or withdraw" not in client.get("/matching/").get_data(as_text=True)


def test_the_care_put_to_a_vote_says_when_it_was_asked_for(app, session, demo):
    broker, line = demo
    (proposal,) = [p for p in services.send_to_clusters(session=session, actor=broker, run_id=services.latest_run_id(session, broker.council_id)).proposals
                   if session.get(Cluster, p.cluster_id).name == SOMALI]
    client = app.test_client()
    _sign_in(client, "holder@riverside.example")
    page = client.get(f"/clusters/proposals/{proposal.id}").get_data(as_text=True)
    # The times the provider comes, from the match: hours in each time of day.
    assert "The care and what it costs" in page and "Monday to Thursday mornings, 3 hours each; Friday afternoon, 2 hours" in page
    assert "(Monday to Thursday mornings, 3 hours each; Friday afternoon, 2 hours)" in proposal.description
    # Said once: the explanation's own "Monday to Thursday mornings and Friday afternoons (14 hours)." followed it.
    assert proposal.description.count("Monday to Thursday mornings") == 1



def test_care_beyond_a_providers_offer_names_each_groups_care_and_puts_the_hours_beyond_to_the_latest_agreed(session, demo):
    broker, home_care, sent = _home_care_out_to_vote(session, demo)
    provider = session.get(Provider, sent[0].provider_id)
    voted = next(iter(sent[0].slot_hours))
    respite = demo[1]("Bow carers' respite group", "respite")
    # A contract made before the vote, for another group, at the same time.
    session.add(Contract(council_id=provider.council_id, provider_id=provider.id, cluster_id=respite.cluster_id, demand_line_id=respite.id,
                         service="respite", hours_per_week=2, rate_pence=2000, start_date=respite.created_at.date(), member_shares=respite.shares,
                         slot_hours={voted: 2}))
    provider.slot_hours = {**services.provider_slot_hours(provider), voted: 0}
    session.flush()
    assert snapshot.committed_beyond_offer(session, provider) == [
        snapshot.BeyondOffer("Bow carers' respite group", "respite", {voted: 2}), snapshot.BeyondOffer(SOMALI, "home_care", {voted: 3})]
    # Two of the five hours still offered: the three beyond them are the care agreed last, the vote's.
    provider.slot_hours = {**provider.slot_hours, voted: 2}
    session.flush()
    assert snapshot.committed_beyond_offer(session, provider) == [snapshot.BeyondOffer(SOMALI, "home_care", {voted: 3})]
    provider.slot_hours = {**provider.slot_hours, voted: 4}
    session.flush()
    assert snapshot.committed_beyond_offer(session, provider) == [snapshot.BeyondOffer(SOMALI, "home_care", {voted: 1})]


def test_a_request_offering_less_than_the_national_living_wage_is_refused():
    # £0.01 an hour was accepted ("The broker will look for care that fits"), though no carer could ever be paid it.
    from brokerage.matching.rules import demand_problems

    kwargs = {"service": "home_care", "languages": [], "language_required": False, "carer_gender": None, "served": [1], "members": [1]}
    for too_little in (0, 1, -100):  # £0 was told "Enter the most the group will pay an hour", as if the box were empty
        assert demand_problems(max_rate_pence=too_little, **kwargs)["max_rate"] == (
            "Enter at least £12.71 an hour: no carer can be paid less than the National Living Wage")
    assert demand_problems(max_rate_pence=None, **kwargs)["max_rate"] == "Enter the most the group will pay an hour"
    assert "max_rate" not in demand_problems(max_rate_pence=1271, **kwargs)


def test_a_provider_taking_fewer_hours_a_week_than_its_care_out_to_a_vote_is_told_that_care_goes_on(client, session, demo):
    # Cutting "Most hours you take each week" below the care already agreed said nothing; removing times did.
    broker, home_care, sent = _home_care_out_to_vote(session, demo)
    provider = session.get(Provider, sent[0].provider_id)
    form = {"name": provider.name, "kind": provider.kind.value, "services": list(provider.services), "languages": list(provider.languages),
            "staff_genders": list(provider.staff_genders), "staff_count": str(provider.staff_count), "capacity_hours": "1",
            "radius_km": f"{provider.radius_km:g}", "hourly_rate": f"{provider.hourly_rate_pence / 100:.2f}", "ownership_model": provider.ownership_model,
            **({"living_wage": "y"} if provider.living_wage else {}), **({"ethical_care_charter": "y"} if provider.ethical_care_charter else {}),
            **{f"slot_hours-{slot}": str(hours) for slot, hours in services.provider_slot_hours(provider).items()}}
    committed = sum(piece.hours for piece in snapshot._committed(session, provider.council_id, None, provider.id))
    assert committed > 1
    _sign_in(client, broker.email)
    saved = client.post(f"/providers/{provider.id}/edit", data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    page = client.get(saved.headers["Location"]).get_data(as_text=True).replace("&#39;", "'")
    assert (f"{provider.name} has {plural(committed, 'hour')} a week of care already agreed or out to a group's vote, more than the "
            "1 hour a week it now takes. That care goes on as agreed; no new work is offered until it is below the limit.") in page
    # Back to enough hours: nothing more is said.
    form["capacity_hours"] = str(committed)
    page = client.get(client.post(f"/providers/{provider.id}/edit", data=form).headers["Location"]).get_data(as_text=True)
    assert "profile was updated" in page and "a week of care already agreed" not in page
