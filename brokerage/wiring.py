"""Connect the domain packages' cross-package hooks; called once by `create_app` (the top layer).

A lower package offers a registry; a higher package registers what it owns here, so no lower package
ever imports a higher one (issue 9: the ledger knows no domain, clusters never imports matching).
"""

from __future__ import annotations

from typing import Sequence

from sqlmodel import Session, select

from brokerage import jobs, scheduled
from brokerage.accounts import admin as account_admin
from brokerage.accounts import jobs as account_jobs
from brokerage.accounts.models import Role
from brokerage.auditpack import jobs as auditpack_jobs
from brokerage.clusters import actions as proposal_actions
from brokerage.clusters import leaver_holds
from brokerage.clusters import runs
from brokerage.clusters.models import Cluster
from brokerage.clusters.rules import ProposalKind
from brokerage.contracts.changes import CONTRACT_CHANGE, register_availability_check
from brokerage.holders import statements as holder_statements
from brokerage.holders.models import Holder
from brokerage.ledger import names as ledger_names
from brokerage.ledger import owners as ledger_owners
from brokerage.mail import services as mail
from brokerage.matching import services as matching
from brokerage.matching.decisions import CARE_MATCH
from brokerage.matching.snapshot import contract_beyond_free
from brokerage.payments import events as stripe_events
from brokerage.pages import account_names
from brokerage.payments import onboarding, payouts, remittance, runs as payment_runs, topup_cancel, topup_events, transfer_events, transfers, webhooks
from brokerage.providers.models import Provider
from brokerage.surplus import review as surplus_review
from brokerage.surplus import services as surplus_services
from brokerage.timesheets import leavers as timesheet_leavers
from brokerage.timesheets.approvers import CHOOSE_APPROVER
from brokerage.timesheets.paying import register_payment_lookup

# --- ledger: who may own an account (brokerage.ledger.owners fails closed without these) ----------


def _in_council(model) -> ledger_owners.OwnerCheck:
    """Return a check that a record of this model exists in the council."""

    def check(session: Session, council_id: int, owner_id: int) -> bool:
        record = session.get(model, owner_id)
        return record is not None and record.council_id == council_id

    check.__name__ = f"{model.__name__.lower()}_in_council"
    return check


def _group_names(session: Session, cluster_ids: Sequence[int]) -> dict[int, str]:
    """Return the names of these clusters, for holders' statements."""
    return dict(session.exec(select(Cluster.id, Cluster.name).where(Cluster.id.in_(list(cluster_ids)))).all())


def connect_ledger() -> None:
    """Register the checks of accounts' owners and the names of accounts with the ledger, and the group names on holders' statements."""
    ledger_owners.register_owner(ledger_owners.Owner.holder, _in_council(Holder))
    ledger_owners.register_owner(ledger_owners.Owner.cluster, _in_council(Cluster))
    ledger_owners.register_owner(ledger_owners.Owner.provider, _in_council(Provider))
    ledger_names.register_account_namer(account_names.name_accounts)
    holder_statements.register_group_names(_group_names)


def connect_domains() -> None:
    """Register every package's hooks; safe to call more than once."""
    connect_ledger()
    _connect_proposal_actions()
    _connect_leaver_holds()
    register_payment_lookup(remittance.week_payments)  # whether each approved week is paid to its provider yet
    _connect_jobs()
    _connect_stripe_events()
    _connect_role_holds()


# --- proposal actions: what a passed proposal of another package's kind does -------------------


def _connect_proposal_actions() -> None:
    """Register the kinds of proposal whose action belongs to a package above clusters (clusters' own are built in), and the check of a contract change against its provider's free hours."""
    proposal_actions.register(ProposalKind.accept_match, CARE_MATCH)
    proposal_actions.register(ProposalKind.choose_approver, CHOOSE_APPROVER)
    proposal_actions.register(ProposalKind.change_contract, CONTRACT_CHANGE)
    register_availability_check(contract_beyond_free)


# --- leavers: what must happen before a leaver's pool share is returned --------------------------


def _connect_leaver_holds() -> None:
    """Register what can make a leaver's settlement wait (timesheets: care of their notice not yet approved or sent back)."""
    leaver_holds.register_hold("timesheets", timesheet_leavers.sheets_still_open)


# --- jobs: what a worker (or an inline run) may be asked to do, by name --------------------------


def _connect_jobs() -> None:
    """Register every package's jobs with the job interface."""
    jobs.register("ping", account_jobs.ping)
    jobs.register("ledger.verify", scheduled.verify_job)
    jobs.register("ledger.seal", scheduled.seal_job)
    jobs.register("clusters.issue_dp", runs.issue_dp_job)
    jobs.register("clusters.collect", runs.collect_job)
    jobs.register("clusters.settle", runs.settle_job)
    jobs.register("matching.run", matching.run_job)
    jobs.register("payments.execute_run", transfers.execute_run_job)
    jobs.register("payments.process_event", webhooks.process_event_job)
    jobs.register("contracts.end_due", scheduled.end_contracts_job)
    jobs.register("surplus.review", surplus_review.review_job)
    jobs.register(auditpack_jobs.BUILD, auditpack_jobs.build_pack_job)
    jobs.register(mail.SEND_JOB, mail.deliver)


# --- Stripe events: which package gives each type its effect (transfers: payment runs) ------------


def _connect_stripe_events() -> None:
    """Register the handlers of Stripe events with the webhook's registry."""
    stripe_events.register("account.updated", onboarding.on_account_updated)
    stripe_events.register("payment_intent.succeeded", topup_events.on_payment_succeeded)
    stripe_events.register("payment_intent.payment_failed", topup_events.on_payment_failed)
    stripe_events.register("charge.refunded", topup_events.on_charge_refunded)
    stripe_events.register("charge.succeeded", topup_events.on_charge_paid_or_failed)
    stripe_events.register("charge.failed", topup_events.on_charge_paid_or_failed)
    stripe_events.register("payment_intent.canceled", topup_cancel.on_payment_canceled)
    stripe_events.register("payout.paid", payouts.on_payout)
    stripe_events.register("payout.failed", payouts.on_payout)
    for event_type, handler in transfer_events.HANDLERS.items():
        stripe_events.register(event_type, handler)


# --- accounts: records that keep a broker or an officer in their role (brokerage.accounts.admin) ---------


def _connect_role_holds() -> None:
    """Register the payment runs and clawbacks that still wait on the person who started them."""
    account_admin.register_role_hold(Role.broker, payment_runs.runs_waiting_on)
    account_admin.register_role_hold(Role.council_officer, payment_runs.runs_waiting_on)
    account_admin.register_role_hold(Role.council_officer, surplus_services.clawbacks_waiting_on)
