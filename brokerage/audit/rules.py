"""Pure rules of the access log: what a read is called, and how a reader is described to the person read about."""

from __future__ import annotations

# What a member of staff looked at, as stored in access_log.what. Each page that shows a holder's record logs one of these.
RECORD = "record"
MONEY_STATEMENT = "money statement"
SPECIAL_CATEGORY = "special-category data"  # brokerage.holders.services logs it when staff see what a holder shared with them
TIMESHEET = "care visits on a timesheet"
CONTRACT = "care contract"
TOP_UP = "money added by card or Direct Debit"
LEDGER_SEARCH = "money in a search of the ledger"  # the journal or the accounts searched for an account of theirs (brokerage.ledger.views)
MONEY_LIST = "money in a list of members"  # a page of the spending report by member (brokerage.spending.services)
AUDIT_PACK = "money statement in an audit pack"  # a quarter's auditor pack downloaded (brokerage.auditpack.packs)
AUDIT_PACK_VISITS = "care visits in an audit pack"  # the pack's timesheets, a line per member (brokerage.auditpack.packs)
CARE_VOTE = "care put to a vote and what each person would pay"  # a care match or change of care on its vote page (brokerage.pages.proposals)
GROUP_PLEDGES = "weekly pledge in a group's list of members"  # a group's page read by staff (brokerage.pages.clusters)
REMITTANCE = "care visits in a payment to a provider"  # a payment's remittance, read by staff (brokerage.payments.remittance)
LEDGER_PAGE = "money in a page of the ledger"  # the journal or the accounts, unsearched: each person named on the page (brokerage.ledger.views)
TOP_UP_LIST = "money added in the list of top-ups"  # the staff's list of every top-up (brokerage.payments.topups)
ALLOCATION_LIST = "weekly allocation in the list of budget holders"  # the staff's list of holders (brokerage.holders.services)
SURPLUS_LIST = "unspent money in the list of surplus flags"  # the surplus page, and clawbacks on the officer's dashboard (brokerage.surplus)

# How each is shown to officers and to the holder: plain words, never the jargon of the law.
WHAT_LABELS = {
    RECORD: "Record: details, care needs, groups and who acts for them",
    MONEY_STATEMENT: "Money statement",
    SPECIAL_CATEGORY: "Culture, faith or heritage shared with the broker",
    TIMESHEET: "Care visits on a timesheet",
    CONTRACT: "Care contract and what each person pays",
    TOP_UP: "Money added by card or Direct Debit",
    LEDGER_SEARCH: "Money, in a search of the council's accounts",
    MONEY_LIST: "Money, in a list of what each group member spent",
    AUDIT_PACK: "Money statement, in the council's quarterly pack for its auditors",
    AUDIT_PACK_VISITS: "Care visits on timesheets, in the council's quarterly pack for its auditors",
    CARE_VOTE: "Care put to their group's vote, and what each person would pay",
    REMITTANCE: "Care visits, in what a payment to their care provider paid for",
    GROUP_PLEDGES: "Weekly pledge, in their group's list of members",
    LEDGER_PAGE: "Money, in a page of the council's accounts",
    TOP_UP_LIST: "Money added by card or Direct Debit, in the council's list of top-ups",
    ALLOCATION_LIST: "Weekly allocation, in the council's list of budget holders",
    SURPLUS_LIST: "Unspent money the council could take back, in its list for council officers",
}


def what_label(what: str) -> str:
    """Return what was looked at in plain words; a kind of read this module does not know is shown as stored."""
    return WHAT_LABELS.get(what) or what[:1].upper() + what[1:]


def describe_reader(*, name: str, role_label: str, council_name: str | None) -> str:
    """Describe who looked, as the person looked at reads it: 'Priya Shah, broker at Riverside Borough Council'."""
    role = role_label[:1].lower() + role_label[1:]
    return f"{name}, {role} at {council_name}" if council_name else f"{name}, {role}"
