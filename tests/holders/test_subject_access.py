"""Subject access: the holder or their representative downloads everything held about the holder."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

import pytest

from brokerage.accounts.models import Role
from brokerage.accounts.system import system_actor
from brokerage.clusters.models import Proposal, Vote
from brokerage.clusters.rules import Choice, ProposalKind
from brokerage.ledger import rules
from brokerage.ledger.services import post_entry
from brokerage.types import utcnow

SECTIONS = {"exported_at", "exported_by", "profile", "sign_in_accounts", "sensitive_details", "representations", "memberships", "votes", "ledger",
            "top_ups", "care_visits", "care_costs", "contracts", "access_log"}


@pytest.fixture()
def history(world, session, share):
    """Give holder a a pledge, a vote cast by their representative, a sensitive item and a staff read."""
    holder = world.records["a"]["holder"]
    cluster = world.records["a"]["cluster"]
    rep = world.users["a"][Role.representative]
    holder.broker_id = world.users["a"][Role.broker].id  # their broker is among those the item is shared with
    post_entry(session=session, actor=system_actor(session=session, council_id=holder.council_id), council_id=holder.council_id, kind="pledge_collected", memo="Pledge for 2026-W48",
               postings=[(rules.wallet_code(holder.id), -12_345), (rules.pool_code(cluster.id, holder.id), 12_345)], idempotency_key="sar-pledge")
    proposal = Proposal(council_id=holder.council_id, cluster_id=cluster.id, kind=ProposalKind.free_text, title="=HYPERLINK(\"http://evil\")",
                        deadline=utcnow() + timedelta(days=14))
    session.add(proposal)
    session.flush()
    session.add(Vote(council_id=holder.council_id, proposal_id=proposal.id, holder_id=holder.id, choice=Choice.yes, cast_by_id=rep.id))
    share(holder, "faith", "Muslim", "broker", by=rep)
    session.commit()
    return holder


def test_the_json_download_holds_every_section_and_every_posting(client, auth, world, history):
    broker = world.users["a"][Role.broker]
    auth.sign_in(broker.email)
    assert client.get(f"/holders/{history.id}").status_code == 200  # a staff read, which the holder must be able to see
    auth.sign_out()
    auth.sign_in(world.users["a"][Role.holder].email)
    response = client.get(f"/holders/{history.id}/data.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Content-Disposition"].startswith("attachment;")
    assert response.headers["Cache-Control"] == "no-store"
    data = json.loads(response.data)
    assert set(data) == SECTIONS
    assert data["profile"]["name"] == "Holder a" and data["profile"]["weekly_allocation"] == {"pence": 50_000, "pounds": "£500.00"}
    assert data["sensitive_details"][0]["value"] == "Muslim" and data["sensitive_details"][0]["consent_given_at"]
    assert data["sensitive_details"][0]["consent_recorded_by"].startswith(world.users["a"][Role.representative].name)
    assert [r["representative"].split(" (")[0] for r in data["representations"]] == [world.users["a"][Role.representative].name]
    assert data["memberships"][0]["group"] == "Cluster a" and data["memberships"][0]["weekly_pledge"]["pence"] == 10_000
    assert data["votes"][0]["choice"] == "yes" and data["votes"][0]["cast_by"].startswith(world.users["a"][Role.representative].name)
    accounts = {a["kind"]: a for a in data["ledger"]}
    assert [(p["kind"], p["amount"]["pence"], p["amount"]["pounds"]) for p in accounts["wallet"]["postings"]] == [
        ("dp_issued", 50_000, "£500.00"), ("pledge_collected", -12_345, "−£123.45"),
    ]
    assert accounts["wallet"]["balance"]["pence"] == 37_655
    assert accounts["pool"]["group"] == "Cluster a" and accounts["pool"]["postings"][0]["amount"]["pence"] == 12_345
    assert {(line["who"].split(" (")[0], line["what"]) for line in data["access_log"]} == {(broker.name, "record"), (broker.name, "special-category data")}


def test_the_csv_download_parses_with_one_row_per_item(client, auth, world, history):
    auth.sign_in(world.users["a"][Role.representative].email)
    response = client.get(f"/holders/{history.id}/data.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and response.headers["Content-Disposition"].startswith("attachment;")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows and list(rows[0]) == ["section", "field", "value", "when"]
    sections = {row["section"] for row in rows}
    assert {"profile", "sensitive_details", "representations", "memberships", "votes", "ledger"} <= sections
    money = [(row["value"], row["when"] != "") for row in rows if row["section"] == "ledger" and "entry" in row["field"]]
    assert ("£500.00", True) in money and ("−£123.45", True) in money and ("£123.45", True) in money
    vote = next(row for row in rows if row["section"] == "votes")
    assert vote["field"].startswith("'=")  # a member's formula is shown as text, not run by the spreadsheet


@pytest.mark.parametrize("role", [Role.broker, Role.council_officer, Role.provider])
@pytest.mark.parametrize("suffix", ["data.json", "data.csv"])
def test_staff_and_providers_cannot_download_a_holders_data(client, auth, world, role, suffix):
    auth.sign_in(world.users["a"][role].email)
    assert client.get(f"/holders/{world.records['a']['holder'].id}/{suffix}").status_code == 403


# --- top-ups, care visits, what care cost and contracts --------------------------------------------


@pytest.fixture()
def care_and_payments(world, session):
    """Give holder a three top-ups (paid by card, failed, waiting), a sent timesheet charging them a part, and leave
    the world's draft visit and contract; the neighbour's visit and contract, and council b's, are not theirs."""
    from brokerage.payments.models import StripeEvent, TopUp
    from brokerage.payments.rules import TopUpStatus
    from brokerage.timesheets.models import Timesheet, Visit
    from brokerage.timesheets.rules import TimesheetStatus
    from datetime import date, time

    records = world.records["a"]
    holder, cluster, council_id = records["holder"], records["cluster"], world.councils["a"].id
    rep = world.users["a"][Role.representative]
    paid = TopUp(council_id=council_id, holder_id=holder.id, cluster_id=cluster.id, created_by_id=rep.id, payment_intent_id="pi_paid",
                 amount_pence=2500, methods=["card", "bacs_debit"], status=TopUpStatus.succeeded, event_ids=["evt_paid"])
    failed = TopUp(council_id=council_id, holder_id=holder.id, cluster_id=cluster.id, payment_intent_id="pi_failed", amount_pence=1000,
                   methods=["card"], status=TopUpStatus.failed, failure_message="Your card was declined.", event_ids=["evt_failed"])
    waiting = TopUp(council_id=council_id, holder_id=holder.id, cluster_id=cluster.id, payment_intent_id="pi_waiting", amount_pence=4000,
                    methods=["bacs_debit", "card"])
    session.add_all([paid, failed, waiting])
    session.add(StripeEvent(event_id="evt_paid", type="payment_intent.succeeded", council_id=council_id, subject_id="pi_paid",
                            stripe_created_at=utcnow(), processed_at=utcnow(),
                            payload={"data": {"object": {"object": "payment_intent", "id": "pi_paid", "latest_charge": {
                                "object": "charge", "payment_method_details": {"type": "card"}}}}}))
    session.add(StripeEvent(event_id="evt_failed", type="payment_intent.payment_failed", council_id=council_id, subject_id="pi_failed",
                            stripe_created_at=utcnow(), processed_at=utcnow(),
                            payload={"data": {"object": {"object": "payment_intent", "id": "pi_failed", "payment_method_types": ["card"]}}}))
    sent = Timesheet(council_id=council_id, contract_id=records["contract"].id, provider_id=records["provider"].id, cluster_id=cluster.id,
                     week="2026-W03", status=TimesheetStatus.submitted, total_pence=4400, rate_pence=2200, hours_per_week=10,
                     allocation_rule="by_hours", parts={str(holder.id): 4400})
    session.add(sent)
    session.flush()
    session.add(Visit(council_id=council_id, timesheet_id=sent.id, holder_id=holder.id, visit_date=date(2026, 1, 13), start_time=time(14, 30),
                      minutes=120, travel_minutes=15))
    session.commit()
    return holder


def test_the_download_holds_every_top_up_in_every_state_with_how_it_was_paid_and_stripes_reason(client, auth, world, care_and_payments):
    auth.sign_in(world.users["a"][Role.representative].email)
    data = json.loads(client.get(f"/holders/{care_and_payments.id}/data.json").data)
    rows = [(t["amount"]["pence"], t["status"], t["method"], t["failure_message"], t["group"]) for t in data["top_ups"]]
    assert rows == [
        (2500, "succeeded", "Card", None, "Cluster a"),
        (1000, "failed", "Card", "Your card was declined.", "Cluster a"),
        (4000, "waiting", None, None, "Cluster a"),
    ]
    assert all(t["started_at"] and t["last_changed_at"] for t in data["top_ups"])
    assert data["top_ups"][0]["started_by"].startswith(world.users["a"][Role.representative].name)
    assert data["top_ups"][2]["could_be_paid_by"] == ["Direct Debit from a UK bank account", "Debit or credit card"]


def test_the_download_holds_the_care_visits_what_care_cost_them_and_the_contracts_that_name_them(client, auth, world, care_and_payments):
    auth.sign_in(world.users["a"][Role.holder].email)
    data = json.loads(client.get(f"/holders/{care_and_payments.id}/data.json").data)
    visits = [(v["provider"], v["group"], v["date"], v["start_time"], v["minutes"], v["travel_minutes"], v["timesheet"]) for v in data["care_visits"]]
    # The neighbour's visit (another group) and council b's are not theirs.
    assert visits == [
        ("Co-op a", "Cluster a", "2026-01-05", "09:00", 60, 0, "Not sent yet"),
        ("Co-op a", "Cluster a", "2026-01-13", "14:30", 120, 15, "Waiting for approval"),
    ]
    costs = [(c["week"], c["week_total"], c["your_share"]) for c in data["care_costs"]]
    assert costs == [
        ("week of 5 January 2026", None, None),
        ("week of 12 January 2026", {"pence": 4400, "pounds": "£44.00"}, {"pence": 4400, "pounds": "£44.00"}),
    ]
    [contract] = data["contracts"]
    assert (contract["service"], contract["provider"], contract["group"], contract["hours_per_week"]) == ("Home care", "Co-op a", "Cluster a", 10)
    assert contract["your_share_of_the_hours"] == "1 of 1" and contract["your_weekly_part"] == {"pence": 22_000, "pounds": "£220.00"}
    assert contract["start_date"] == "2026-01-05" and contract["hourly_rate"]["pounds"] == "£22.00"


def test_the_spreadsheet_has_a_row_for_each_top_up_visit_week_of_care_and_contract(client, auth, world, care_and_payments):
    auth.sign_in(world.users["a"][Role.holder].email)
    rows = list(csv.DictReader(io.StringIO(client.get(f"/holders/{care_and_payments.id}/data.csv").data.decode("utf-8-sig"))))
    by = {}
    for row in rows:
        by.setdefault(row["section"], []).append(row)
    assert [r["field"] for r in by["top_ups"]] == ["£25.00 to Cluster a's pool", "£10.00 to Cluster a's pool", "£40.00 to Cluster a's pool"]
    assert by["top_ups"][0]["value"].startswith("Added to the pool; paid by Card")
    assert by["top_ups"][1]["value"].startswith("Payment failed; tried by Card; Stripe said: Your card was declined.")
    assert by["top_ups"][2]["value"].startswith("Waiting for the payment; could be paid by Direct Debit")
    assert [(r["field"], r["when"]) for r in by["care_visits"]] == [("Co-op a (Cluster a)", "2026-01-05T09:00"), ("Co-op a (Cluster a)", "2026-01-13T14:30")]
    assert "120 minutes, 15 minutes' travel" in by["care_visits"][1]["value"]
    assert "your share £44.00 of £44.00" in by["care_costs"][1]["value"]
    assert by["contracts"][0]["field"] == "Home care from Co-op a (Cluster a)" and "your part £220.00 a week" in by["contracts"][0]["value"]


# --- what each representative may do, and when things happened ---------------------------------------


def _representation(session, holder):
    from sqlmodel import select

    from brokerage.holders.models import Representation

    return session.exec(select(Representation).where(Representation.holder_id == holder.id)).one()


def test_the_download_says_what_each_representative_may_do_in_the_holders_words(client, auth, world, session):
    holder = world.records["a"]["holder"]
    _representation(session, holder).set_powers(["money", "care"])
    session.commit()
    auth.sign_in(world.users["a"][Role.holder].email)
    data = json.loads(client.get(f"/holders/{holder.id}/data.json").data)
    assert [r["may"] for r in data["representations"]] == [["See money and statements", "Manage care: timesheets, care requests and my care profile"]]
    rows = list(csv.DictReader(io.StringIO(client.get(f"/holders/{holder.id}/data.csv").data.decode("utf-8-sig"))))
    [row] = [r for r in rows if r["section"] == "representations"]
    assert "may: See money and statements, Manage care" in row["value"] and "Vote and join groups" not in row["value"]


def test_every_moment_in_the_download_is_to_the_second_in_englands_time(client, auth, world, session, history):
    import re
    from datetime import datetime, timezone

    # Made today a moment carries microseconds; one made before did not. In summer England is an hour ahead of UTC.
    _representation(session, history).granted_at = datetime(2026, 7, 1, 9, 5, 3, 293_869, tzinfo=timezone.utc)
    session.commit()
    auth.sign_in(world.users["a"][Role.holder].email)
    response = client.get(f"/holders/{history.id}/data.json")
    assert json.loads(response.data)["representations"][0]["granted_at"] == "2026-07-01T10:05:03+01:00"
    assert not re.search(r"\d\d:\d\d:\d\d\.\d", response.data.decode())
    csv_text = client.get(f"/holders/{history.id}/data.csv").data.decode("utf-8-sig")
    assert "2026-07-01T10:05:03+01:00" in csv_text and not re.search(r"\d\d:\d\d:\d\d\.\d", csv_text)
