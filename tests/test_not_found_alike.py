"""Another council's ids are indistinguishable from ids that do not exist: every route, every method, every role, every format."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.auditpack.models import AuditPackRequest
from brokerage.auditpack.rules import PackStatus
from brokerage.errors import NOT_FOUND
from brokerage.holders.models import Representation
from brokerage.invitations.models import Invitation
from brokerage.invitations.rules import InvitationKind, InvitationStatus, hash_token, new_token
from brokerage.matching.models import DemandLine, MatchAssignment
from brokerage.payments.models import TopUp
from brokerage.surplus.models import Clawback, SurplusFlag
from brokerage.types import utcnow
from tests import factories as f
from tests.test_access_matrix import SPENDING

ROLES = [Role.holder, Role.representative, Role.broker, Role.council_officer, Role.provider, "admin"]
MISSING = 987_654_321
FORMATS = {"json": "application/json", "html": "text/html"}


def foreign_ids(session, world) -> dict[str, int]:
    """Return, for each id a route takes, a record of council B (the other council) to put there."""
    b = world.records["b"]
    council_id = world.councils["b"].id
    line = DemandLine(council_id=council_id, cluster_id=b["cluster"].id, service="home_care", hours=4, slots=["mon_am"], lat=51.5, lon=-0.05,
                      max_rate_pence=2500)
    session.add(line)
    session.flush()
    assignment = MatchAssignment(council_id=council_id, run_id=b["run"].id, demand_line_id=line.id, cluster_id=b["cluster"].id,
                                 provider_id=b["provider"].id, hours=4, solver_hours=4, rate_pence=2200, distance_km=1.0, explanation="Near")
    session.add(assignment)
    item = f.VettingFactory(session=session, council_id=council_id, provider_id=b["provider"].id, verified_at=None)
    representation = session.exec(select(Representation).where(Representation.council_id == council_id)).first()
    top_up = TopUp(council_id=council_id, holder_id=b["holder"].id, cluster_id=b["cluster"].id, payment_intent_id="pi_foreign",
                   amount_pence=500, methods=["card"])
    session.add(top_up)
    flag, clawback = _surplus_records(session, world)
    pack = AuditPackRequest(council_id=council_id, quarter="2026Q3", requested_by_id=world.users["b"][Role.council_officer].id, status=PackStatus.failed)
    session.add(pack)
    # A waiting invitation of council B's holder; and the token of one that was cancelled (a link is not a council's record:
    # a dead one must answer exactly like one that never existed).
    invitation = Invitation(council_id=council_id, kind=InvitationKind.holder, name=b["holder"].name, email="invited-b@example.org",
                            holder_id=b["holder"].id, token_hash=hash_token(new_token()), expires_at=utcnow() + timedelta(days=7))
    dead_token = new_token()
    dead = Invitation(council_id=council_id, kind=InvitationKind.holder, name=b["other_holder"].name, email="dead-b@example.org",
                      holder_id=b["other_holder"].id, token_hash=hash_token(dead_token), expires_at=utcnow() + timedelta(days=7),
                      status=InvitationStatus.cancelled)
    session.add_all([invitation, dead])
    session.commit()
    return {
        "holder_id": b["holder"].id, "cluster_id": b["cluster"].id, "membership_id": b["membership"].id, "proposal_id": b["proposal"].id,
        "provider_id": b["provider"].id, "run_id": b["run"].id, "entry_id": b["entry"].id, "assignment_id": assignment.id,
        "item_id": item.id, "representation_id": representation.id, "user_id": world.users["b"][Role.broker].id,
        "payment_run_id": b["payment_run"].id, "payment_line_id": b["payment_line"].id,
        "top_up_id": top_up.id, "flag_id": flag.id, "clawback_id": clawback.id, "audit_pack_id": pack.id,
        "contract_id": b["contract"].id, "timesheet_id": b["timesheet"].id, "visit_id": b["visit"].id, "line_id": line.id,
        "slug": world.councils["b"].slug,  # a council that has not opted in to a public report: a 404, as for an unknown slug
        "invitation_id": invitation.id, "token": dead_token,
        "message_id": MISSING - 1,  # the outbox belongs to no council: only administrators read it, and they read all of it
    }


def _surplus_records(session, world):
    """Add a surplus flag of council B whose notice has ended, and a clawback waiting under it."""
    b = world.records["b"]
    council_id = world.councils["b"].id
    flag = SurplusFlag(council_id=council_id, cluster_id=b["cluster"].id, holder_id=b["holder"].id, membership_id=b["membership"].id,
                       rule="unspent_weeks", amount_pence=5_000, reason="Unspent", raised_on=date(2026, 1, 1), clawback_from=date(2026, 1, 29),
                       reviewed_on=date(2026, 1, 1))
    session.add(flag)
    session.flush()
    clawback = Clawback(council_id=council_id, flag_id=flag.id, cluster_id=flag.cluster_id, holder_id=flag.holder_id, amount_pence=1_000,
                        reason="Unspent", proposed_by_id=world.users["b"][Role.council_officer].id)
    session.add(clawback)
    return flag, clawback


def plausible_form(world) -> dict:
    """Return a form filled with valid-looking answers for every POST route, so the services are reached, not only the form checks."""
    holder = world.records["a"]["holder"]
    return {
        "holder_id": str(holder.id), "pledge": "10", "choice": "yes", "kind": "dbs", "reference": "REF-1", "expires_on": (date.today() + timedelta(days=700)).isoformat(),
        "title": "A proposal", "description": "Why", "hours": "2", "service": "home_care", "slots": "mon_am", "served": str(holder.id),
        "max_rate": "25", "name": "Name", "relationship": "daughter", "email": "someone@example.org", "allocation": "100",
        "new": "a-long-new-passphrase-2026", "password": "a-long-new-passphrase-2026", "capacity_hours": "10", "radius_km": "3",
        "postcode": "E1 6AN", "home-postcode": "E2 9PA", "languages": "en", "services": "home_care",
        "staff_genders": "female", "staff_count": "3", "hours_per_week": "10", "hourly_rate": "22", "end_date": (date.today() + timedelta(days=400)).isoformat(), "allocation_rule": "equal",
        "amount": "5", "reason": "Unspent for months", "note": "Not yet",
    }


def routes_with_ids(app) -> list[tuple[str, str, str]]:
    """Return (endpoint, method, rule) for every route that takes an id."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.arguments or rule.endpoint == "static":
            continue
        for method in sorted(rule.methods & {"GET", "POST"}):
            found.append((rule.endpoint, method, rule))
    return sorted(found, key=lambda r: (r[0], r[1]))


def _normalised(response) -> tuple:
    body = re.sub(r'name="csrf_token" value="[^"]*"', 'name="csrf_token"', response.get_data(as_text=True))
    return response.status_code, response.mimetype, response.headers.get("Location"), body


def test_every_route_with_an_id_is_covered(app, session, world):
    ids = foreign_ids(session, world)
    for endpoint, method, rule in routes_with_ids(app):
        assert set(rule.arguments) <= set(ids), f"{method} {rule} takes an id this test cannot fill: add it to foreign_ids"


@pytest.mark.parametrize("role", ROLES, ids=lambda r: getattr(r, "value", r))
def test_another_councils_id_answers_exactly_like_a_missing_one(app, client, auth, session, world, role):
    ids = foreign_ids(session, world)
    email = "admin@example.org" if role == "admin" else world.users["a"][role].email
    assert auth.sign_in(email).status_code == 302
    differences = []
    checked = 0
    for endpoint, method, rule in routes_with_ids(app):
        if role == "admin" and endpoint in ("accounts.account", "accounts.reset_password", "accounts.set_active", "accounts.change_role", "mail.message"):
            continue  # administrators manage every council's accounts and read the whole outbox: there is no other council for them
        foreign = rule.build({name: ids[name] for name in rule.arguments})[1]
        missing = rule.build({name: MISSING for name in rule.arguments})[1]
        payloads = [{}, plausible_form(world)] if method == "POST" else [{}]
        for label, accept in FORMATS.items():
            for data in payloads:
                answers = [_normalised(client.open(url, method=method, headers={"Accept": accept}, data=data)) for url in (foreign, missing)]
                checked += 1
                if answers[0] != answers[1]:
                    differences.append(f"{method} {rule} ({label}, {'filled' if data else 'empty'} form): another council's id gives "
                                       f"{answers[0][:3]} {answers[0][3][:120]!r}, a missing one {answers[1][:3]} {answers[1][3][:120]!r}")
    assert checked > 40
    assert not differences, "\n".join(differences)


def test_the_ledger_entry_and_its_proof_say_the_same_for_another_councils_entry_and_a_missing_one(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    foreign = world.records["b"]["entry"].id
    for suffix in ("", "/proof.json"):
        for entry_id in (foreign, MISSING):
            response = client.get(f"/ledger/entries/{entry_id}{suffix}", headers={"Accept": "application/json"})
            assert (response.status_code, response.get_json()) == (404, {"error": NOT_FOUND})


def test_sending_another_councils_run_is_a_404_and_sends_nothing(client, auth, world, session):
    from brokerage.clusters.models import Proposal

    auth.sign_in(world.users["a"][Role.broker].email)
    before = session.exec(select(Proposal.id)).all()
    response = client.post(f"/matching/runs/{world.records['b']['run'].id}/send")
    assert response.status_code == 404 and "Location" not in response.headers
    assert session.exec(select(Proposal.id)).all() == before


@pytest.mark.parametrize("zero", ["\u0660", "\uff10", "\u09e6"], ids=["arabic-indic", "full-width", "bengali"])
def test_an_id_in_another_scripts_digits_is_a_404_not_the_record_with_that_number(client, auth, world, zero):
    auth.sign_in(world.users["a"][Role.broker].email)
    holder_id = world.records["a"]["holder"].id
    assert client.get(f"/holders/{holder_id}").status_code == 200
    # werkzeug's \d+ and int() read "١٢" or "１２" as 12: the same holder under another spelling.
    other_script = "".join(chr(ord(zero) + int(d)) for d in str(holder_id))
    assert client.get(f"/holders/{other_script}").status_code == 404


@pytest.mark.parametrize("fmt", sorted(FORMATS.values()))
def test_the_proof_page_and_the_holders_list_of_readers_say_the_same_for_another_councils_id_and_a_missing_one(client, auth, world, fmt):
    pairs = [
        (world.users["a"][Role.broker].email, "/ledger/entries/{}/proof", world.records["b"]["entry"].id),
        (world.users["a"][Role.holder].email, "/holders/{}/record-views", world.records["b"]["holder"].id),
        (world.users["a"][Role.representative].email, "/holders/{}/record-views", world.records["b"]["holder"].id),
    ]
    for email, path, foreign in pairs:
        auth.sign_in(email)
        answers = [_normalised(client.get(path.format(record_id), headers={"Accept": fmt})) for record_id in (foreign, MISSING)]
        assert answers[0][0] == 404 and answers[0] == answers[1], path
        auth.sign_out()


def test_the_access_log_refuses_another_councils_staff_member_like_a_missing_one_in_html_and_csv(client, auth, world):
    auth.sign_in(world.users["a"][Role.council_officer].email)
    for path in ("/audit/access-log", "/audit/access-log.csv"):
        answers = [_normalised(client.get(path, query_string={"staff": staff})) for staff in (world.users["b"][Role.broker].id, MISSING)]
        assert answers[0][0] == 422 and answers[0] == answers[1], path


@pytest.mark.parametrize("role", ROLES, ids=lambda r: getattr(r, "value", r))
def test_another_councils_id_in_a_spend_reports_filter_answers_like_a_missing_one(app, client, auth, world, role):
    email = "admin@example.org" if role == "admin" else world.users["a"][role].email
    assert auth.sign_in(email).status_code == 302
    b = world.records["b"]
    foreign = {"group": b["cluster"].id, "holder": b["holder"].id, "provider": b["provider"].id}
    differences = []
    for endpoint in SPENDING:
        path = next(rule.rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
        for name, record_id in foreign.items():
            for extra, accept in (({}, "text/html"), ({}, "application/json"), ({"format": "csv"}, "text/csv"), ({"to_month": "13"}, "text/html")):
                answers = [_normalised(client.get(path, query_string={name: value, **extra}, headers={"Accept": accept}))
                           for value in (record_id, MISSING)]
                if answers[0] != answers[1] or answers[0][0] not in (403, 404):
                    differences.append(f"{path}?{name}= ({accept}, {extra}): another council's id gives {answers[0][:3]}, a missing one {answers[1][:3]}")
    assert not differences, "\n".join(differences)
