"""Random sequences of issue, pledge, pay, pay out, reverse, clawback and replay, against an in-memory model."""

from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from brokerage.ledger import rules, services
from brokerage.ledger.errors import AlreadyReversed, IdempotencyConflict, LedgerError, Overdraft
from brokerage.ledger.rules import NON_NEGATIVE

AMOUNTS = st.integers(min_value=1, max_value=5_000)
MEMBERS = st.integers(min_value=0, max_value=2)


def test_the_ledger_agrees_with_a_simple_model_under_random_operations(session, lw):
    council_id = lw.council.id
    clearing, paid = rules.CLEARING_CODE, rules.paid_code(lw.provider.id)

    class LedgerMachine(RuleBasedStateMachine):
        def __init__(self):
            super().__init__()
            self.savepoint = session.begin_nested()
            self.balances: dict[str, int] = {}
            self.entries: list[tuple[int, dict[str, int], bool]] = []  # id, net legs, is_reversal
            self.reversed: set[int] = set()
            self.keys: dict[str, tuple[int, list]] = {}
            self.counter = 0

        def teardown(self):
            self.savepoint.rollback()

        def next_key(self, prefix: str) -> str:
            self.counter += 1
            return f"{prefix}-{self.counter}"

        def would_overdraw(self, net: dict[str, int]) -> bool:
            return any(
                rules.type_of_code(code) in NON_NEGATIVE and self.balances.get(code, 0) + delta < 0 for code, delta in net.items()
            )

        def attempt(self, kind: str, legs: list[tuple[str, int]], *, expect_ok: bool | None = None):
            net = rules.net_by_account(rules.Leg(a, b) for a, b in legs)
            fails = self.would_overdraw(net)
            key = self.next_key(kind)
            try:
                entry = services.post_entry(session=session, actor=lw.actor, council_id=council_id, kind=kind, postings=legs, idempotency_key=key)
            except Overdraft:
                assert fails, f"{kind} was refused but the model allows it"
                return None
            assert not fails, f"{kind} was accepted but overdraws: {net}"
            for code, delta in net.items():
                self.balances[code] = self.balances.get(code, 0) + delta
            self.entries.append((entry.id, net, False))
            self.keys[key] = (entry.id, legs)
            return entry

        @rule(member=MEMBERS, amount=AMOUNTS)
        def issue(self, member, amount):
            self.attempt("dp_issued", [(lw.funding, -amount), (lw.wallet(member), amount)])

        @rule(member=MEMBERS, amount=AMOUNTS)
        def pledge(self, member, amount):
            self.attempt("pledge_collected", [(lw.wallet(member), -amount), (lw.pool(member), amount)])

        @rule(amount=AMOUNTS, weights=st.lists(st.integers(min_value=0, max_value=5), min_size=3, max_size=3).filter(lambda w: sum(w) > 0))
        def pay_for_care(self, amount, weights):
            parts = rules.allocate_shared_cost(amount, weights)
            legs = [(lw.pool(i), -part) for i, part in enumerate(parts) if part] + [(lw.payable, amount)]
            self.attempt("care_cost", legs)

        @rule(amount=AMOUNTS)
        def pay_out(self, amount):
            if self.attempt("payout_sent", [(lw.payable, -amount), (clearing, amount)]) is not None:
                self.attempt("payout_paid", [(clearing, -amount), (paid, amount)])

        @rule(member=MEMBERS, amount=AMOUNTS, from_pool=st.booleans())
        def clawback(self, member, amount, from_pool):
            source = lw.pool(member) if from_pool else lw.wallet(member)
            self.attempt("adjustment", [(source, -amount), (lw.funding, amount)])

        @rule(data=st.data())
        def reverse(self, data):
            if not self.entries:
                return
            entry_id, net, is_reversal = data.draw(st.sampled_from(self.entries))
            undo = {code: -delta for code, delta in net.items()}
            try:
                reversal = services.reverse_entry(session=session, actor=lw.actor, entry_id=entry_id, idempotency_key=self.next_key("rev"))
            except AlreadyReversed:
                assert is_reversal or entry_id in self.reversed
                return
            except Overdraft:
                assert self.would_overdraw(undo)
                return
            assert not is_reversal and entry_id not in self.reversed and not self.would_overdraw(undo)
            self.reversed.add(entry_id)
            for code, delta in undo.items():
                self.balances[code] = self.balances.get(code, 0) + delta
            self.entries.append((reversal.id, undo, True))

        @rule(data=st.data(), change=st.booleans())
        def replay(self, data, change):
            if not self.keys:
                return
            key = data.draw(st.sampled_from(sorted(self.keys)))
            entry_id, legs = self.keys[key]
            if change:
                legs = [(code, amount * 2) for code, amount in legs]
            kind = key.rsplit("-", 1)[0]
            try:
                again = services.post_entry(session=session, actor=lw.actor, council_id=council_id, kind=kind, postings=legs, idempotency_key=key)
            except IdempotencyConflict:
                assert change
                return
            assert not change and again.id == entry_id

        @rule(amount=AMOUNTS)
        def unbalanced_is_refused(self, amount):
            try:
                services.post_entry(session=session, actor=lw.actor, council_id=council_id, kind="adjustment",
                                    postings=[(lw.funding, -amount), (lw.wallet(0), amount + 1)], idempotency_key=self.next_key("bad"))
            except LedgerError:
                return
            raise AssertionError("an unbalanced entry was accepted")

        @invariant()
        def balances_match_the_model(self):
            accounts, total = services.trial_balance(session=session, actor=lw.actor, council_id=council_id)
            assert total == 0
            actual = {a.code: a.balance_pence for a in accounts}
            for code, expected in self.balances.items():
                assert actual.get(code, 0) == expected, code
            for account in accounts:
                if account.non_negative:
                    assert account.balance_pence >= 0

    LedgerMachine.TestCase.settings = settings(
        max_examples=20, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    run_state_machine_as_test(LedgerMachine, settings=LedgerMachine.TestCase.settings)
