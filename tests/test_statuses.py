"""Statuses change only through their transition functions, and each transition table is exactly as written."""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

from brokerage.auditpack import rules as pack_rules
from brokerage.clusters import rules as cluster_rules
from brokerage.clusters.errors import BadTransition
from brokerage.clusters.models import ClusterStatus, MembershipStatus
from brokerage.clusters.rules import ProposalStatus
from brokerage.contracts import rules as contract_rules
from brokerage.invitations import rules as invitation_rules
from brokerage.invitations.errors import BadInvitationMove
from brokerage.contracts.rules import BadContractMove, ContractStatus
from brokerage.matching import rules as matching_rules
from brokerage.matching.errors import BadStatusMove
from brokerage.matching.rules import AssignmentStatus, DemandLineStatus, RunStatus
from brokerage.payments import run_rules as payrun_rules
from brokerage.timesheets import rules as timesheet_rules
from brokerage.timesheets.rules import BadTimesheetMove, TimesheetStatus
from brokerage.payments import rules as payment_rules
from brokerage.payments.rules import BadPaymentMove, PayoutStatus, TopUpStatus
from brokerage.surplus import rules as surplus_rules
from brokerage.surplus.errors import BadClawbackMove, BadFlagMove
from brokerage.providers import rules as provider_rules
from brokerage.providers.errors import BadProviderMove

SOURCE = Path(__file__).resolve().parent.parent / "brokerage"

TRANSITIONS = {
    "move_membership", "move_proposal", "move_cluster", "move_run", "move_assignment", "move_demand_line", "move_contract",
    "move_payment_run", "move_payment_line",
    "move_timesheet",
    "move_top_up", "move_payout",
    "move_flag", "move_clawback",
    "move_pack",
    "move_invitation",
    "move_provider",
}

# Attributes called `status` that are not a record's status, each with why: (file, enclosing function).
NOT_A_RECORD_STATUS = {
    ("errors.py", "BrokerageError.__init__"): "an error's HTTP status, set from the constructor's argument",
    ("payments/local_stripe_connect.py", "ConnectBalanceTransaction.__init__"): "a Stripe object on the local test server",
    ("payments/local_stripe_controls.py", "ConnectedPayout.__init__"): "a Stripe object on the local test server",
}


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_own_status(node: ast.AST, owner: ast.AST) -> bool:
    """Tell whether node is `owner.status` or `owner.status.value`."""
    if isinstance(node, ast.Attribute) and node.attr == "value":
        node = node.value
    return isinstance(node, ast.Attribute) and node.attr == "status" and ast.dump(node.value) == ast.dump(owner)


def _goes_through_transition(target: ast.Attribute, value: ast.AST | None) -> bool:
    """Tell whether `target = value` is `x.status = [SomeStatus(]move_x(x.status, ...)[)]`."""
    if isinstance(value, ast.Call) and (_name(value.func) or "").endswith("Status") and len(value.args) == 1 and not value.keywords:
        value = value.args[0]
    return (
        isinstance(value, ast.Call) and _name(value.func) in TRANSITIONS and len(value.args) == 2
        and _is_own_status(value.args[0], target.value)
    )


def _targets(node: ast.AST):
    if isinstance(node, (ast.Tuple, ast.List)):
        for element in node.elts:
            yield from _targets(element)
    elif isinstance(node, ast.Starred):
        yield from _targets(node.value)
    else:
        yield node


class _StatusWrites(ast.NodeVisitor):
    """Collect every write of a `status` attribute that does not go through a transition function."""

    def __init__(self, filename: str):
        self.filename = filename
        self.scope: list[str] = []
        self.found: list[tuple[str, int, str, str]] = []
        self.allowed_seen: set[tuple[str, str]] = set()

    def _scoped(self, node):
        self.scope.append(node.name)
        self.generic_visit(node)
        self.scope.pop()

    visit_FunctionDef = visit_AsyncFunctionDef = visit_ClassDef = _scoped

    def _report(self, node: ast.AST, what: str) -> None:
        where = (self.filename, ".".join(self.scope))
        if where in NOT_A_RECORD_STATUS:
            self.allowed_seen.add(where)
            return
        self.found.append((self.filename, node.lineno, ".".join(self.scope), what))

    def _check(self, targets, value, node) -> None:
        for target in itertools.chain.from_iterable(_targets(t) for t in targets):
            if isinstance(target, ast.Attribute) and target.attr == "status":
                if isinstance(node, ast.Assign) and len(node.targets) == 1 and _goes_through_transition(target, value):
                    continue
                if isinstance(node, ast.AnnAssign) and _goes_through_transition(target, value):
                    continue
                self._report(node, ast.unparse(node).splitlines()[0])

    def visit_Assign(self, node):
        self._check(node.targets, node.value, node)
        self.generic_visit(node)

    def visit_AnnAssign(self, node):
        self._check([node.target], node.value, node)
        self.generic_visit(node)

    def visit_AugAssign(self, node):
        self._check([node.target], None, node)
        self.generic_visit(node)

    def visit_NamedExpr(self, node):
        self.generic_visit(node)

    def visit_Delete(self, node):
        self._check(node.targets, None, node)
        self.generic_visit(node)

    def visit_Call(self, node):
        name = _name(node.func)
        # setattr(x, "status", ...) and bulk UPDATE ... .values(status=...) bypass the functions too.
        if name == "setattr" and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant) and node.args[1].value == "status":
            self._report(node, ast.unparse(node))
        if name == "values" and any(k.arg == "status" for k in node.keywords):
            self._report(node, ast.unparse(node))
        self.generic_visit(node)


def status_writes(source: str, filename: str = "<test>") -> tuple[list[tuple[str, int, str, str]], set[tuple[str, str]]]:
    """Return the direct status writes in source, and which allowed exceptions were met."""
    visitor = _StatusWrites(filename)
    visitor.visit(ast.parse(source))
    return visitor.found, visitor.allowed_seen


def test_no_code_assigns_a_status_directly():
    found, seen = [], set()
    for path in sorted(SOURCE.rglob("*.py")):
        writes, allowed = status_writes(path.read_text(encoding="utf-8"), str(path.relative_to(SOURCE)))
        found += writes
        seen |= allowed
    assert found == [], "statuses must change through their move_* function:\n" + "\n".join(f"{f}:{n} in {s}: {w}" for f, n, s, w in found)
    # A stale exception would let a real status write through under its name.
    assert seen == set(NOT_A_RECORD_STATUS)


@pytest.mark.parametrize("source", [
    "m.status = 'left'",
    "m.status = MembershipStatus.left",
    "m.status = move_membership('requested', 'left')",  # the current status must be the row's own
    "m.status = move_membership(other.status, 'left')",
    "a.status, b = move_assignment(a.status, 'sent'), 1",
    "m.status: str = 'left'",
    "m.status += 'x'",
    "setattr(m, 'status', 'left')",
    "session.exec(update(Membership).values(status='left'))",
    "def f(m):\n    m.status = AssignmentStatus('sent')",
])
def test_the_check_catches_direct_writes(source):
    found, _ = status_writes(source)
    assert len(found) == 1, found


@pytest.mark.parametrize("source", [
    "m.status = move_membership(m.status, 'left')",
    "m.status = MembershipStatus(rules.move_membership(m.status, 'left'))",
    "p.status = ProposalStatus(rules.move_proposal(p.status.value, ProposalStatus(status)))",
    "Membership(status=MembershipStatus.requested)",
    "if m.status == 'left':\n    pass",
])
def test_the_check_lets_transitions_and_constructors_through(source):
    assert status_writes(source)[0] == []


TABLES = [
    (cluster_rules.move_membership, cluster_rules.MEMBERSHIP_MOVES, MembershipStatus, BadTransition),
    (cluster_rules.move_proposal, cluster_rules.PROPOSAL_MOVES, ProposalStatus, BadTransition),
    (cluster_rules.move_cluster, cluster_rules.CLUSTER_MOVES, ClusterStatus, BadTransition),
    (matching_rules.move_run, matching_rules.RUN_MOVES, RunStatus, BadStatusMove),
    (matching_rules.move_assignment, matching_rules.ASSIGNMENT_MOVES, AssignmentStatus, BadStatusMove),
    (matching_rules.move_demand_line, matching_rules.DEMAND_LINE_MOVES, DemandLineStatus, BadStatusMove),
    (contract_rules.move_contract, contract_rules.CONTRACT_MOVES, ContractStatus, BadContractMove),
    (payrun_rules.move_payment_run, payrun_rules.RUN_MOVES, payrun_rules.RunStatus, payrun_rules.BadPaymentMove),
    (payrun_rules.move_payment_line, payrun_rules.LINE_MOVES, payrun_rules.LineStatus, payrun_rules.BadPaymentMove),
    (timesheet_rules.move_timesheet, timesheet_rules.TIMESHEET_MOVES, TimesheetStatus, BadTimesheetMove),
    (payment_rules.move_top_up, payment_rules.TOP_UP_MOVES, TopUpStatus, BadPaymentMove),
    (payment_rules.move_payout, payment_rules.PAYOUT_MOVES, PayoutStatus, BadPaymentMove),
    (surplus_rules.move_flag, surplus_rules.FLAG_MOVES, surplus_rules.FlagStatus, BadFlagMove),
    (surplus_rules.move_clawback, surplus_rules.CLAWBACK_MOVES, surplus_rules.ClawbackStatus, BadClawbackMove),
    (pack_rules.move_pack, pack_rules.PACK_MOVES, pack_rules.PackStatus, pack_rules.BadPackMove),
    (invitation_rules.move_invitation, invitation_rules.INVITATION_MOVES, invitation_rules.InvitationStatus, BadInvitationMove),
    (provider_rules.move_provider, provider_rules.PROVIDER_MOVES, provider_rules.ProviderStatus, BadProviderMove),
]


@pytest.mark.parametrize(("move", "table", "status", "error"), TABLES, ids=lambda v: getattr(v, "__name__", ""))
def test_each_table_names_every_status_and_only_those(move, table, status, error):
    values = {s.value for s in status}
    assert set(table) == values
    assert set().union(*table.values()) <= values


@pytest.mark.parametrize(("move", "table", "status", "error"), TABLES, ids=lambda v: getattr(v, "__name__", ""))
def test_allowed_moves_pass_and_every_other_move_raises(move, table, status, error):
    for current, target in itertools.product(status, repeat=2):
        allowed = target.value in table[current.value]
        for args in ((current, target), (current.value, target.value)):
            if allowed:
                assert move(*args) == target
            else:
                with pytest.raises(error, match=f"that is {current.value} cannot become {target.value}"):
                    move(*args)


def test_the_written_tables():
    assert matching_rules.ASSIGNMENT_MOVES == {"proposed": {"sent"}, "sent": {"accepted", "rejected"}, "accepted": set(), "rejected": set()}
    assert matching_rules.DEMAND_LINE_MOVES == {"open": {"contracted", "withdrawn"}, "contracted": set(), "withdrawn": set()}
    assert matching_rules.RUN_MOVES == {"finished": set()}
    assert contract_rules.CONTRACT_MOVES == {"active": {"ending"}, "ending": {"ended"}, "ended": set()}
    assert provider_rules.PROVIDER_MOVES == {"pending_review": {"approved", "refused"}, "approved": set(), "refused": {"pending_review"}}
    assert timesheet_rules.TIMESHEET_MOVES == {
        "draft": {"submitted"}, "submitted": {"approved", "rejected"}, "rejected": {"submitted"}, "approved": set(),
    }
    assert cluster_rules.MEMBERSHIP_MOVES["leaving"] == {"left"} and cluster_rules.MEMBERSHIP_MOVES["left"] == set()
    assert all(cluster_rules.PROPOSAL_MOVES[s] == set() for s in ("passed", "rejected", "lapsed"))


def test_unknown_statuses_are_refused():
    with pytest.raises(BadStatusMove):
        matching_rules.move_assignment("proposed", "teleported")
    with pytest.raises(BadContractMove):
        contract_rules.move_contract("ended", "active")
    with pytest.raises(BadTransition):
        cluster_rules.move_membership("gone", "left")
