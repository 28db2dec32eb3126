"""Every route, every role, own and other council's ids: who gets in, and who gets 403/404."""

from __future__ import annotations

import pytest

from brokerage.accounts.models import Role

ROLES = [Role.holder, Role.representative, Role.broker, Role.council_officer, Role.provider]
STAFF = {Role.broker, Role.council_officer}

# Routes anyone may open without signing in.
PUBLIC = {"accounts.home", "accounts.sign_in", "static", "payments.webhook",  # Stripe's webhook checks its signature instead
          "transparency.public_report", "transparency.public_csv",  # a council's public report (tests/transparency/test_public.py)
          "offer_care.apply", "offer_care.sent",  # the public "offer care" form and its "check your email" (tests/providers/test_applications.py)
          "accounts.accessibility", "accounts.privacy",  # the accessibility statement and privacy notice (tests/accounts/test_public_pages.py)
          "offer_care.confirm",  # the link that confirms an application is its own key (tests/providers/test_confirming.py)
          # An invitation's or a reset's link is its own key; asking for a reset link needs no account (tests/invitations).
          "invitations.accept", "invitations.forgotten_password", "invitations.forgotten_sent", "invitations.reset_password"}
# The pooled spend reports: the council's brokers and officers only (their filters' ids: tests/test_not_found_alike.py).
SPENDING = ("spending.index", "spending.groups", "spending.members", "spending.providers", "spending.services", "spending.kinds")


def expected(endpoint: str, role: Role | str, target: str) -> set[int]:
    """Return the allowed statuses for a role opening a route about a record.

    target is "own" (the role's own record or none), "neighbour" (another record in the same council)
    or "foreign" (a record of the other council).
    """
    admin = role == "admin"
    if endpoint in ("dashboard.index", "accounts.change_password"):
        return {200}
    if endpoint in ("accounts.councils", "accounts.users", "accounts.account", "invitations.staff", "mail.outbox"):
        # Administrators manage every council's accounts: another council's account is theirs to open too.
        return {200} if admin else {403}
    if endpoint == "mail.message":
        # The world's outbox is empty: the administrator finds nothing (tests/mail read real messages).
        return {404} if admin else {403}
    if endpoint == "invitations.index":
        return {200} if role == Role.broker else {403}
    if endpoint == "invitations.invite_holder":
        if role == Role.broker:
            return {200} if target != "foreign" else {404}
        return {403}
    if endpoint == "invitations.invite_provider":
        # The council's brokers invite its providers (tests/invitations/test_providers.py); nobody else, and another council's is missing.
        if role == Role.broker:
            return {200} if target != "foreign" else {404}
        return {403}
    if endpoint == "invitations.invite_representative":
        # Only the holder themselves chooses who acts for them.
        if role == Role.holder:
            return {200} if target == "own" else {404}
        return {403}
    if endpoint == "matching.change_times":
        # The world's part is of a withdrawn request (conftest), so its own council's broker is sent back to the run
        # with why: such a part offers no change (matching.parts._refuse_unchangeable). tests/matching/test_part_times.py
        # opens the page itself.
        if role == Role.broker:
            return {302} if target != "foreign" else {404}
        return {403}
    if endpoint == "matching.review":
        if role in STAFF:
            return {200} if target != "foreign" else {404}
        return {403}
    if endpoint in ("holders.index", "clusters.index", "providers.index", "ledger.index", "ledger.accounts", "matching.index", "matching.gaps", *SPENDING):
        return {200} if role in STAFF else {403}
    if endpoint == "providers.queue":
        # Applications to offer care: the council's brokers review them, its officers may look.
        return {200} if role in STAFF else {403}
    if endpoint in ("providers.new", "holders.new"):
        return {200} if role == Role.broker else {403}
    if endpoint in ("clusters.find", "clusters.new"):
        return {200} if role in (Role.holder, Role.representative, Role.broker) else {403}
    if endpoint in ("clusters.propose", "matching.cluster_demand"):
        if role == Role.broker:
            return {200} if target != "foreign" else {404}
        if role in (Role.holder, Role.representative):
            return {200} if target == "own" else {404}
        return {403}
    if endpoint in ("payruns.index",):
        return {200} if role in STAFF else {403}
    if endpoint == "payruns.reconciliation":
        return {200} if role == Role.council_officer else {403}
    if endpoint == "payruns.mine":
        return {200} if role == Role.provider else {403}
    if endpoint == "payruns.show":
        if role in STAFF:
            return {200} if target != "foreign" else {404}
        return {403}
    if endpoint == "payruns.remittance_advice":
        if role in STAFF:
            return {200} if target != "foreign" else {404}
        if role == Role.provider:
            return {200} if target == "own" else {404}
        return {403}
    if endpoint == "payments.top_ups":
        return {200} if role in STAFF else {403}
    if endpoint == "payments.new_top_up":
        if role in (Role.holder, Role.representative):
            return {200} if target == "own" else {404}
        return {403}
    if endpoint == "payments.top_up":
        # The world has no top-up: every role allowed in finds nothing (tests/payments check real ones).
        return {404} if role in STAFF or role in (Role.holder, Role.representative) else {403}
    if endpoint == "timesheets.choose_approver":
        if role == Role.broker:
            return {200} if target != "foreign" else {404}
        if role in (Role.holder, Role.representative):
            return {200} if target == "own" else {404}
        return {403}
    if endpoint in ("contracts.change", "contracts.notice", "matching.edit_demand"):
        if role == Role.broker:
            return {200} if target != "foreign" else {404}
        return {403}
    if endpoint == "contracts.show":
        # The group's members and their representatives, the provider's own accounts, and the council's staff.
        if role in STAFF:
            return {200} if target != "foreign" else {404}
        if role in (Role.holder, Role.representative, Role.provider):
            return {200} if target == "own" else {404}
        return {403}
    if endpoint in ("audit.access_log", "audit.access_log_csv"):
        return {200} if role == Role.council_officer else {403}
    if endpoint in ("surplus.index", "surplus.settings"):
        return {200} if role == Role.council_officer else {403}
    if endpoint == "surplus.flag":
        # The world has no surplus flag: an officer finds nothing (tests/surplus check real ones).
        return {404} if role == Role.council_officer else {403}
    if endpoint == "auditpack.compliance":
        return {200} if role in STAFF else {403}
    if endpoint == "auditpack.index":
        return {200} if role == Role.council_officer else {403}
    if endpoint == "auditpack.download":
        # The world has no pack: the officer, the one role let in, finds nothing (tests/auditpack check real ones).
        return {404} if role == Role.council_officer else {403}
    if endpoint in ("transparency.wealth", "transparency.wealth_csv"):
        return {200} if role in STAFF else {403}
    if endpoint == "transparency.settings":
        return {200} if role == Role.council_officer else {403}
    if admin:
        # Admins manage accounts; the care pages are for council staff and members.
        return {403}
    if endpoint == "ledger.seals":
        return {200} if role in STAFF else {403}
    if endpoint in ("ledger.entry", "ledger.proof", "ledger.proof_page"):
        if role in STAFF:
            return {200} if target != "foreign" else {404}
        return {403}
    if endpoint in ("holders.show", "ledger.holder_statement", "holders.statement"):
        if role in STAFF:
            return {200} if target != "foreign" else {404}
        if role in (Role.holder, Role.representative):
            return {200} if target == "own" else {404}
        return {403}
    if endpoint == "clusters.show":
        # Open groups can be found and asked to join: their page shows no members to non-members.
        if role in STAFF or role in (Role.holder, Role.representative):
            return {200} if target != "foreign" else {404}
        return {403}
    if endpoint == "clusters.proposal":
        if role in STAFF:
            return {200} if target != "foreign" else {404}
        if role in (Role.holder, Role.representative):
            return {200} if target == "own" else {404}
        return {403}
    if endpoint in ("holders.profile", "holders.data_json", "holders.data_csv", "holders.record_views", "clusters.leave"):
        if role in (Role.holder, Role.representative):
            return {200} if target == "own" else {404}
        return {403}
    if endpoint == "providers.edit":
        if role == Role.broker:
            return {200} if target != "foreign" else {404}
        if role == Role.provider:
            return {200} if target == "own" else {404}
        return {403}
    if endpoint == "providers.show":
        if role in STAFF:
            return {200} if target != "foreign" else {404}
        if role == Role.provider:
            return {200} if target == "own" else {404}
        return {403}
    if endpoint == "timesheets.index":
        return {200} if role == Role.provider else {403}
    if endpoint == "timesheets.waiting":
        return {200} if role in STAFF else {403}
    if endpoint == "timesheets.show":
        # The provider, the council's staff, and the group's members (or their representatives).
        if role in STAFF:
            return {200} if target != "foreign" else {404}
        if role in (Role.provider, Role.holder, Role.representative):
            return {200} if target == "own" else {404}
        return {403}
    if endpoint in ("timesheets.edit_visit", "timesheets.remove_visit"):
        if role == Role.provider:
            return {200} if target == "own" else {404}
        return {403}
    raise AssertionError(f"route {endpoint} is not in the access matrix: add it")


def url_for_target(world, endpoint: str, target: str) -> str:
    """Build the URL of a route for the own, neighbour or foreign record."""
    council = "b" if target == "foreign" else "a"
    records = world.records[council]
    mine = target in ("own", "foreign")
    if endpoint == "holders.show":
        return f"/holders/{(records['holder'] if mine else records['other_holder']).id}"
    if endpoint == "invitations.invite_holder":
        return f"/holders/{(records['holder'] if mine else records['other_holder']).id}/invite"
    if endpoint == "invitations.invite_representative":
        return f"/holders/{(records['holder'] if mine else records['other_holder']).id}/representatives/invite"
    if endpoint == "mail.message":
        return "/admin/outbox/987654321"
    if endpoint in ("holders.profile", "holders.data_json", "holders.data_csv", "holders.record_views"):
        suffix = {"holders.profile": "profile", "holders.data_json": "data.json", "holders.data_csv": "data.csv", "holders.record_views": "record-views"}[endpoint]
        return f"/holders/{(records['holder'] if mine else records['other_holder']).id}/{suffix}"
    if endpoint == "ledger.holder_statement":
        return f"/ledger/holders/{(records['holder'] if mine else records['other_holder']).id}"
    if endpoint == "holders.statement":
        return f"/holders/{(records['holder'] if mine else records['other_holder']).id}/statement"
    if endpoint == "ledger.entry":
        return f"/ledger/entries/{(records['entry'] if mine else records['other_entry']).id}"
    if endpoint == "ledger.proof":
        return f"/ledger/entries/{(records['entry'] if mine else records['other_entry']).id}/proof.json"
    if endpoint == "ledger.proof_page":
        return f"/ledger/entries/{(records['entry'] if mine else records['other_entry']).id}/proof"
    if endpoint == "clusters.show":
        return f"/clusters/{(records['cluster'] if mine else records['private_cluster']).id}"
    if endpoint == "matching.review":
        return f"/matching/runs/{records['run'].id}" if target != "foreign" else f"/matching/runs/{world.records['b']['run'].id}"
    if endpoint == "matching.change_times":
        return f"/matching/assignments/{world.records['b' if target == 'foreign' else 'a']['assignment'].id}/times"
    if endpoint == "clusters.propose":
        return f"/clusters/{(records['cluster'] if mine else records['private_cluster']).id}/propose"
    if endpoint == "clusters.leave":
        return f"/clusters/memberships/{(records['membership'] if mine else records['other_membership']).id}/leave"
    if endpoint == "matching.cluster_demand":
        return f"/matching/clusters/{(records['cluster'] if mine else records['private_cluster']).id}/demand"
    if endpoint == "clusters.proposal":
        return f"/clusters/proposals/{(records['proposal'] if mine else records['other_proposal']).id}"
    if endpoint in ("contracts.show", "contracts.change", "contracts.notice"):
        suffix = {"contracts.show": "", "contracts.change": "/change", "contracts.notice": "/notice"}[endpoint]
        return f"/contracts/{(records['contract'] if mine else records['other_contract']).id}{suffix}"
    if endpoint == "providers.edit":
        return f"/providers/{(records['provider'] if mine else records['other_provider']).id}/edit"
    if endpoint == "invitations.invite_provider":
        return f"/providers/{(records['provider'] if mine else records['other_provider']).id}/invite"
    if endpoint == "providers.show":
        return f"/providers/{(records['provider'] if mine else records['other_provider']).id}"
    if endpoint == "payruns.show":
        return f"/payments/runs/{(records['payment_run'] if mine else records['other_payment_run']).id}"
    if endpoint == "payruns.remittance_advice":
        return f"/payments/lines/{(records['payment_line'] if mine else records['other_payment_line']).id}"
    if endpoint == "payments.new_top_up":
        return f"/holders/{(records['holder'] if mine else records['other_holder']).id}/top-up"
    if endpoint == "payments.top_up":
        return "/top-ups/987654321"
    if endpoint == "surplus.flag":
        return "/surplus/flags/987654321"
    if endpoint == "timesheets.show":
        return f"/timesheets/{(records['timesheet'] if mine else records['other_timesheet']).id}"
    if endpoint == "timesheets.edit_visit":
        return f"/timesheets/visits/{(records['visit'] if mine else records['other_visit']).id}/edit"
    if endpoint == "timesheets.remove_visit":
        return f"/timesheets/visits/{(records['visit'] if mine else records['other_visit']).id}/remove"
    if endpoint == "auditpack.download":
        return "/audit-pack/987654321/download"
    if endpoint == "matching.edit_demand":
        return f"/matching/demand/{(records['demand_line'] if mine else records['other_demand_line']).id}/edit"
    if endpoint == "accounts.account":
        return f"/admin/users/{world.users[council][Role.broker if mine else Role.holder].id}"
    if endpoint == "timesheets.choose_approver":
        return f"/timesheets/groups/{(records['cluster'] if mine else records['private_cluster']).id}/approver"
    raise AssertionError(endpoint)


def routes(app):
    """Return the GET endpoints and whether they take an id."""
    found = {}
    for rule in app.url_map.iter_rules():
        if "GET" in rule.methods:
            found[rule.endpoint] = (rule.rule, bool(rule.arguments))
    return found


def test_every_route_is_either_public_or_checks_the_role(app):
    for endpoint, view in app.view_functions.items():
        if endpoint in PUBLIC:
            continue
        protected = hasattr(view, "allowed_roles") or getattr(view, "__wrapped__", None) is not None
        assert protected, f"{endpoint} has no access check"


def test_every_route_is_in_the_matrix(app):
    for endpoint in routes(app):
        if endpoint in PUBLIC:
            continue
        for role in ROLES + ["admin"]:
            expected(endpoint, role, "own")


@pytest.mark.parametrize("role", ROLES + ["admin"], ids=lambda r: getattr(r, "value", r))
def test_each_role_sees_only_what_it_may(app, client, auth, world, role):
    email = "admin@example.org" if role == "admin" else world.users["a"][role].email
    assert auth.sign_in(email).status_code == 302
    failures = []
    for endpoint, (rule, takes_id) in sorted(routes(app).items()):
        if endpoint in PUBLIC:
            continue
        targets = ("own", "neighbour", "foreign") if takes_id else ("own",)
        for target in targets:
            url = url_for_target(world, endpoint, target) if takes_id else rule
            response = client.get(url)
            status = response.status_code
            if status == 200 and response.mimetype == "text/html":
                # Every page has a plain-text title (screen readers announce it first).
                import re

                if not re.search(r"<title>[^<]+ – carepool</title>", response.get_data(as_text=True)):
                    failures.append(f"{endpoint} {target} {url}: no plain <title>")
            allowed = expected(endpoint, role, target)
            if status not in allowed:
                failures.append(f"{endpoint} {target} {url}: got {status}, expected {sorted(allowed)}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("url", ["/dashboard", "/holders/", "/clusters/1", "/providers/1", "/admin/users"])
def test_signed_out_visitors_are_sent_to_sign_in(client, url):
    response = client.get(url)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_a_representative_sees_only_the_holder_who_authorised_them(client, auth, world):
    auth.sign_in(world.users["a"][Role.representative].email)
    assert client.get(f"/holders/{world.records['a']['holder'].id}").status_code == 200
    assert client.get(f"/holders/{world.records['a']['other_holder'].id}").status_code == 404


def test_a_missing_record_is_404_not_500(client, auth, world):
    auth.sign_in(world.users["a"][Role.broker].email)
    assert client.get("/holders/999999").status_code == 404
    assert client.get("/clusters/999999").status_code == 404
    assert client.get("/providers/999999").status_code == 404
