"""Read models of the seals page and an entry's proof page: the ledger's tamper evidence, told to staff.

They sit above the ledger because they name who sealed (a user, which the ledger does not know).
Nothing here writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, select

from brokerage import clock
from brokerage.accounts.models import User
from brokerage.formatting import plural
from brokerage.ledger import integrity, merkle, rules
from brokerage.ledger.models import LedgerSeal
from brokerage.ledger.pages import EntryView, SealHistory, entry_page, seal_history, seal_of
from brokerage.types import ROLE_LABELS, Role


@dataclass
class Schedule:
    """When sealing runs, and what that means for entries still waiting."""

    every: timedelta
    next_due: datetime
    overdue: bool

    @property
    def every_words(self) -> str:
        """Return the interval in words, like '10 minutes' or '1 hour'."""
        minutes = int(self.every.total_seconds() // 60)
        if minutes % 60 == 0:
            hours = minutes // 60
            return plural(hours, "hour")
        return plural(minutes, "minute")


@dataclass
class SealRow:
    """One seal as the page shows it."""

    seal: LedgerSeal
    sealed_by: str

    @property
    def entries(self) -> int:
        """Return how many entries the seal covers."""
        return self.seal.last_seq - self.seal.first_seq + 1


@dataclass
class SealsPage:
    """The council's seal history (newest first), the seal status and when the next seal is expected."""

    history: SealHistory
    rows: list[SealRow]
    schedule: Schedule


def _schedule(latest: LedgerSeal | None, oldest_unsealed_at: datetime | None, every_minutes: int) -> Schedule:
    every = timedelta(minutes=every_minutes)
    now = clock.now()
    return Schedule(
        every=every,
        next_due=rules.next_seal_due(last_sealed_at=latest.created_at if latest else None, now=now, every=every),
        overdue=rules.seal_overdue(oldest_unsealed_at=oldest_unsealed_at, now=now, every=every),
    )


def _sealers(session: Session, seals: list[LedgerSeal]) -> dict[int, str]:
    ids = sorted({s.actor_id for s in seals if s.actor_id is not None})
    if not ids:
        return {}
    people = session.exec(select(User.id, User.name, User.role).where(User.id.in_(ids))).all()
    # The scheduled seal acts as the council's system user: say what it is, not its placeholder name.
    return {user_id: ROLE_LABELS[Role.system] if role == Role.system else name for user_id, name, role in people}


def seals_page(*, session: Session, actor: User, council_id: int, page: int = 1, every_minutes: int = 10) -> SealsPage:
    """Return the council's seals page for its brokers and officers; sealing is scheduled every `every_minutes`."""
    history = seal_history(session=session, actor=actor, council_id=council_id, page=page)
    sealers = _sealers(session, history.seals)
    rows = [SealRow(seal=s, sealed_by=sealers.get(s.actor_id, "Unknown")) for s in history.seals]
    return SealsPage(history=history, rows=rows, schedule=_schedule(history.status["latest"], history.oldest_unsealed_at, every_minutes))


@dataclass
class ProofPage:
    """An entry's inclusion proof, and whether it checks out; or, for an entry not sealed yet, when it should be."""

    entry: EntryView
    seal: LedgerSeal | None
    sealed_by: str | None
    proof: dict | None
    checks_out: bool | None
    explanation: str | None
    schedule: Schedule | None

    @property
    def root_from_path(self) -> str | None:
        """Return the root the audit path leads to from the entry's leaf (what check_proof compares with the seal's root)."""
        if self.proof is None:
            return None
        leaf = merkle.leaf_hash(self.proof["seq"], self.proof["content_hash"])
        path = [(step["side"], bytes.fromhex(step["hash"])) for step in self.proof["path"]]
        return merkle.root_from_path(leaf, path).hex()


def proof_page(*, session: Session, actor: User, entry_id: int, every_minutes: int = 10) -> ProofPage:
    """Return an entry's proof page: the proof the server builds, checked by the auditor's own check (merkle.check_proof)."""
    view = entry_page(session=session, actor=actor, entry_id=entry_id)
    if view.seq is None:
        history = seal_history(session=session, actor=actor, council_id=view.entry.council_id, per_page=1)
        schedule = _schedule(history.status["latest"], history.oldest_unsealed_at, every_minutes)
        return ProofPage(entry=view, seal=None, sealed_by=None, proof=None, checks_out=None, explanation=None, schedule=schedule)
    proof = integrity.prove(session=session, actor=actor, entry_id=entry_id)
    # The same check an auditor runs offline (`brokerage ledger check-proof`), on exactly the file they download.
    ok, explanation = merkle.check_proof(proof)
    seal = seal_of(session=session, council_id=view.entry.council_id, seq=view.seq)
    sealer = _sealers(session, [seal]).get(seal.actor_id, "Unknown") if seal else None
    return ProofPage(entry=view, seal=seal, sealed_by=sealer, proof=proof, checks_out=ok, explanation=explanation, schedule=None)
