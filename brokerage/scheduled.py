"""Jobs that work for a council as its system user: verify and seal the ledger, end contracts.

They sit above accounts, the ledger and contracts, because the ledger knows no user: the job finds
the council's system user (brokerage.accounts.system) and acts as it.
"""

from __future__ import annotations

from brokerage import clock
from brokerage.accounts.system import system_actor
from brokerage.contracts.services import end_due_contracts
from brokerage.db import session_scope
from brokerage.ledger import integrity
from brokerage.ledger.services import council_ids_with_entries


def verify_job(*, council_id: int) -> dict:
    """Run verification for one council as its system user (a job, so it can go to a worker)."""
    with session_scope() as session:
        report = integrity.verify(session=session, actor=system_actor(session=session, council_id=council_id, create=False), council_id=council_id)
    return {
        "ok": report.ok, "entries": report.entries, "seals": report.seals, "problems": len(report.problems),
        "first_problem": str(report.problems[0]) if report.problems else None,
    }


def seal_job(*, council_id: int | None = None) -> dict:
    """Seal new entries for one council or every council with entries, each as its system user (a periodic job)."""
    sealed = {}
    with session_scope() as session:
        ids = [council_id] if council_id else council_ids_with_entries(session=session)
        for cid in ids:
            record = integrity.seal(session=session, actor=system_actor(session=session, council_id=cid), council_id=cid)
            sealed[cid] = None if record is None else [record.first_seq, record.last_seq]
    return sealed


def end_contracts_job(*, council_id: int) -> dict:
    """End the council's contracts whose last day of care has passed (a daily job; running it twice changes nothing)."""
    with session_scope() as session:
        ended = end_due_contracts(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id, today=clock.today())
        return {"ended": [contract.id for contract in ended]}
