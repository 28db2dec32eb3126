"""The README.txt of an auditor pack: what each file is and how to check the ledger, in plain English."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from brokerage.auditpack.rules import Quarter
from brokerage.formatting import date_time, long_date, plural

STATEMENTS = "statements.csv"
TIMESHEETS = "timesheets.csv"
CONTRACTS = "contracts.csv"
VETTING = "vetting.csv"
LEDGER_CSV = "ledger.csv"
LEDGER_BEANCOUNT = "ledger.beancount"
SEALS = "seals.csv"
README = "README.txt"
MANIFEST = "MANIFEST.sha256"


@dataclass(frozen=True)
class PackFacts:
    """What the README says about one pack."""

    council_name: str
    council_slug: str
    council_id: int
    quarter: Quarter
    made_at: datetime
    accounts: int
    timesheet_lines: int
    contracts: int
    providers: int
    entries: int
    seals: int


def readme_text(facts: PackFacts) -> str:
    """Return the README of a pack."""
    q = facts.quarter
    first, last = long_date(q.first_day), long_date(q.last_day)
    unfinished = "\nThe quarter had not ended when this pack was made: it holds what was recorded up to then.\n" if facts.made_at < q.end_before else ""
    return f"""Carepool auditor pack
=====================

Council:  {facts.council_name} (short name {facts.council_slug}, council number {facts.council_id})
Quarter:  {q} - {q.label}: from midnight at the start of {first} to midnight at the end of {last}, UK time
Made:     {date_time(facts.made_at)} (UK time)
{unfinished}
Every file was read from one consistent snapshot of the database, so the files agree with each other
even though people were using carepool while the pack was made. Dates and times are UK time
(Europe/London) unless a column says UTC. Money is in pounds with two decimals (a minus sign means
money going out of an account); columns ending in _pence give the same amount in whole pence.


What each file is
-----------------

{STATEMENTS}
    The money statement of every budget holder's account that held money or moved money in the quarter
    ({plural(facts.accounts, "account")}): each holder's wallet, and their share of each group's pool.
    Accounts are named ("Amina Hassan's share of Somali elders of Whitechapel"), with the ledger's code
    beside the name. For each account there is an "opening" line (balance brought forward) on the
    first day of the quarter, a "movement" line for each payment in or out with the balance after it,
    and a "closing" line (balance carried forward) on the last day: the account's balance at the end
    of the quarter.

{TIMESHEETS}
    Timesheets for the weeks that begin in the quarter, and any other timesheet approved or sent back
    during it ({plural(facts.timesheet_lines, "line")}), one line for each member the care was for: the contract, provider,
    group, the week ("week of 30 November 2026") and its ISO week (2026-W49), the number of visits and
    hours, the status, who approved it and when, the member's part of the cost, and the number of the
    ledger entry that paid for it from the pool (see ledger.csv).

{CONTRACTS}
    The contracts in force on any day of the quarter ({plural(facts.contracts, "contract")}): provider, group, service,
    hours a week, hourly rate, weekly cost, start and end dates, how the cost is shared, how many members
    it serves, its status on the day this pack was made, and the days and times agreed, as they stand
    that day: "days_and_times" in words ("Monday to Wednesday mornings, 3 hours each", or "Not agreed"),
    saying so when they were agreed for hours that have changed since, and "slot_hours" with the hours
    of each time of day as JSON in week order ({{"mon_am":3,"tue_am":3}}: a day from mon to sun, then
    am, pm or eve for the morning, afternoon or evening).

{VETTING}
    The vetting evidence of every provider that was paid or charged for care in the quarter, or held a
    contract in it ({plural(facts.providers, "provider")}): DBS checks, insurance and CQC registration, each with its reference,
    the date it runs out, when it was added, and when and by whom it was checked. Evidence a provider
    must have but never gave has a line saying "never given". "provider_vetted" says whether the
    provider was vetted on the "as_of" day (the quarter's last day, or the day the pack was made if
    the quarter had not ended), counting only evidence checked by then.

{LEDGER_CSV}
    Every posting of every ledger entry made in the quarter ({plural(facts.entries, "entry", "entries")}), one line per posting:
    the entry's number, its sequence number once sealed, when it was made (UTC), what kind of entry it
    is, its memo, the account code, the amount, and the entry's content hash. The postings of each
    entry add up to exactly zero.

{LEDGER_BEANCOUNT}
    The same entries as a Beancount file, with opening balances on {first} and, after the last
    entry, a balance assertion for every account holding carepool's own balance to the penny. Days
    are UK days. Account names look like Assets:C{facts.council_id}:Pool:K3:H12 (the pool of group 3, the share of
    holder 12); statements.csv gives the names of the people and groups behind them.

{SEALS}
    Every seal of the council's ledger so far ({plural(facts.seals, "seal")}). A seal covers a range of entries by their
    sequence numbers (first_seq to last_seq) with the Merkle root of their content hashes, and names
    the hash of the seal before it, so the seals form a chain.

{MANIFEST}
    The SHA-256 of every other file in this pack.


How to check the pack
---------------------

1. Check that no file has changed since the pack was made. On Linux or a Mac, in the folder where
   you unzipped the pack:

       sha256sum -c {MANIFEST}

   Every file should say OK.

2. Check the ledger with Beancount, which is independent of carepool (pip install beancount):

       bean-check {LEDGER_BEANCOUNT}

   No output means every entry balances and every account ends at exactly the balance carepool
   holds. You can also open the file in Fava or any Beancount tool and compare the balances with
   the carried-forward balances in {STATEMENTS}.

3. Check that each entry in {LEDGER_CSV} balances: the amount_pence of the lines with the same
   entry_id add up to zero.

4. Ask the council to recompute the whole ledger, every hash, sequence number and seal:

       brokerage ledger verify --council {facts.council_slug}

   It prints "OK" or names the first entry that was changed.

5. Check that an entry is included in a seal. The council prints an inclusion proof of any sealed
   entry (the number in the entry_id column) and anyone can check it without the database:

       brokerage ledger prove ENTRY_ID > proof.json
       brokerage ledger check-proof proof.json

   The proof's "seal" part must match a line of {SEALS} (same first_seq, last_seq, root and
   seal_hash). Staff can also download a proof from the entry's page on the ledger pages.

6. Check the chain of seals in {SEALS}: the previous_hash of each seal is the seal_hash of the line
   before it (the first seal has none), and each seal_hash is the SHA-256 of this JSON text, written
   with its keys in this order and no spaces:

       {{"council":{facts.council_id},"first_seq":1,"last_seq":20,"previous":null,"root":"<root>"}}

   with the seal's own numbers and root, and "previous" the previous_hash in quotes (or null).


About personal data
-------------------

This pack holds personal data of budget holders (their names and money) and of providers. Keep it
as your council keeps other audit records, and delete it when the audit no longer needs it. Who
asked for each pack, and when, is recorded by carepool.
"""
