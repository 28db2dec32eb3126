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

SECTIONS = {"exported_at", "exported_by", "profile", "sign_in_accounts", "sensitive_details", "representations", "memberships", "votes", "ledger", "access_log"}


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
