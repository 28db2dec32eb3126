"""The ledger's boundaries: every call names an actor, every entry a known kind, every account an owner a domain vouches for."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage.accounts.models import Role
from brokerage.errors import NotFound
from brokerage.ledger import owners, services
from brokerage.ledger.errors import ActorRequired, OwnerCheckMissing, Unbalanced, UnknownAccount, UnknownKind
from brokerage.ledger.kinds import EntryKind, kind_label
from brokerage.ledger.models import JournalEntry, LedgerAccount
from brokerage.ledger.rules import AccountType
from tests import factories as f
from tests.ledger.conftest import issue


def test_every_ledger_service_refuses_to_run_without_an_actor(session, lw):
    entry = issue(session, lw, 1_000)
    calls = [
        lambda: services.post_entry(session=session, actor=None, council_id=lw.council.id, kind=EntryKind.dp_issued,
                                    postings=[(lw.funding, -1), (lw.wallet(), 1)], idempotency_key="no-actor"),
        lambda: services.post_entries(session=session, actor=None, council_id=lw.council.id, entries=[]),
        lambda: services.post_in_batches(session=session, actor=None, council_id=lw.council.id, entries=[]),
        lambda: services.reverse_entry(session=session, actor=None, entry_id=entry.id, idempotency_key="no-actor-rev"),
        lambda: services.balance(session=session, actor=None, council_id=lw.council.id, code=lw.wallet()),
        lambda: services.statement(session=session, actor=None, council_id=lw.council.id, code=lw.wallet()),
        lambda: services.trial_balance(session=session, actor=None, council_id=lw.council.id),
    ]
    for call in calls:
        with pytest.raises(ActorRequired, match="needs an actor"):
            call()
    assert session.execute(select(JournalEntry).where(JournalEntry.idempotency_key.like("no-actor%"))).first() is None


def test_an_actor_of_another_council_finds_nothing(session, lw):
    issue(session, lw, 1_000)
    with pytest.raises(NotFound):
        services.balance(session=session, actor=lw.other_actor, council_id=lw.council.id, code=lw.wallet())
    with pytest.raises(NotFound):
        services.post_entry(session=session, actor=lw.other_actor, council_id=lw.council.id, kind=EntryKind.dp_issued,
                            postings=[(lw.funding, -1), (lw.wallet(), 1)], idempotency_key="elsewhere")


def test_an_entry_records_who_posted_it(session, lw):
    broker = f.UserFactory(session=session, role=Role.broker, council_id=lw.council.id)
    by_job = issue(session, lw, 1_000)
    by_broker = services.reverse_entry(session=session, actor=broker, entry_id=by_job.id, idempotency_key="rev-by-broker")
    assert (by_job.actor_id, by_broker.actor_id) == (lw.actor.id, broker.id)
    assert lw.actor.role == Role.system


def test_a_kind_that_is_not_an_entry_kind_is_refused(session, lw):
    issue(session, lw, 1_000)
    for kind in ("pledge", "", "DP_ISSUED", None):
        with pytest.raises(UnknownKind) as error:
            services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind=kind,
                                postings=[(lw.wallet(), -1), (lw.pool(), 1)], idempotency_key=f"kind-{kind}")
        assert error.value.field == "kind"
    entry = services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="adjustment",
                                postings=[(lw.wallet(), -1), (lw.pool(), 1)], idempotency_key="kind-ok")
    assert entry.kind == EntryKind.adjustment.value == "adjustment"


def test_a_reversal_is_of_the_reversal_kind_and_kinds_read_in_plain_english(session, lw):
    entry = issue(session, lw, 1_000)
    reversal = services.reverse_entry(session=session, actor=lw.actor, entry_id=entry.id, idempotency_key="rev-kind")
    assert reversal.kind == EntryKind.reversal.value
    assert kind_label(entry.kind) == "Direct payment" and kind_label("payout_failed") == "Payout failed"


def test_an_enum_kind_and_its_value_are_the_same_request(session, lw):
    first = services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind=EntryKind.dp_issued,
                                postings=[(lw.funding, -5), (lw.wallet(), 5)], idempotency_key="same-kind")
    again = services.post_entry(session=session, actor=lw.actor, council_id=lw.council.id, kind="dp_issued",
                                postings=[(lw.funding, -5), (lw.wallet(), 5)], idempotency_key="same-kind")
    assert again.id == first.id


def test_an_account_owner_outside_the_council_is_refused(session, lw):
    for code in (lw.wallet().replace(str(lw.holders[0].id), str(lw.other_holder.id)), f"pool:{lw.cluster.id}:{lw.other_holder.id}",
                 f"provider:{lw.provider.id + 100_000}:payable", f"council:{lw.other_council.id}:funding", "not-a-code"):
        with pytest.raises(UnknownAccount):
            services.get_or_create_account(session=session, council_id=lw.council.id, code=code)
    assert session.execute(select(LedgerAccount).where(LedgerAccount.council_id == lw.council.id)).first() is None


def test_an_owner_with_no_registered_check_is_refused_not_let_through(session, lw, monkeypatch):
    monkeypatch.setattr(owners, "_checks", {k: v for k, v in owners._checks.items() if k != owners.Owner.provider})
    with pytest.raises(OwnerCheckMissing, match="no check is registered for provider accounts"):
        services.get_or_create_account(session=session, council_id=lw.council.id, code=lw.payable)
    # Accounts with no owner, or whose owners are vouched for, still open.
    assert services.get_or_create_account(session=session, council_id=lw.council.id, code=lw.wallet()).holder_id == lw.holders[0].id
    pool = services.get_or_create_account(session=session, council_id=lw.council.id, code=lw.pool())
    assert (pool.cluster_id, pool.holder_id) == (lw.cluster.id, lw.holders[0].id)


def test_an_account_type_the_owner_table_does_not_know_is_refused(session, lw, monkeypatch):
    monkeypatch.setattr(owners, "OWNERS_OF", {k: v for k, v in owners.OWNERS_OF.items() if k != AccountType.wallet})
    with pytest.raises(OwnerCheckMissing, match="does not know who may own wallet accounts"):
        services.get_or_create_account(session=session, council_id=lw.council.id, code=lw.wallet())


def test_every_account_type_has_a_known_owner_and_the_app_registers_every_owner(app):
    assert set(owners.OWNERS_OF) == set(AccountType)
    assert owners.registered() == set(owners.Owner)


def test_posting_in_batches_leaves_out_only_the_entry_that_fails(session, lw):
    issue(session, lw, 1_000, index=0)
    issue(session, lw, 1_000, index=1)
    specs = [
        services.EntrySpec(kind=EntryKind.pledge_collected, postings=[(lw.wallet(0), -400), (lw.pool(0), 400)], idempotency_key="b-0"),
        services.EntrySpec(kind=EntryKind.pledge_collected, postings=[(lw.wallet(1), -5_000), (lw.pool(1), 5_000)], idempotency_key="b-1"),
        services.EntrySpec(kind=EntryKind.pledge_collected, postings=[(lw.wallet(1), -300), (lw.pool(1), 300)], idempotency_key="b-2"),
        services.EntrySpec(kind=EntryKind.pledge_collected, postings=[(lw.wallet(0), -1), (lw.pool(0), 2)], idempotency_key="b-3"),
    ]
    ticks = []
    outcomes = services.post_in_batches(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs, batch_size=3,
                                        progress=lambda done, total: ticks.append((done, total)))
    assert [type(o).__name__ for o in outcomes] == ["JournalEntry", "Overdraft", "JournalEntry", "Unbalanced"]
    assert isinstance(outcomes[3], Unbalanced) and ticks == [(3, 4), (4, 4)]
    assert services.balance(session=session, actor=lw.actor, council_id=lw.council.id, code=lw.pool(0)) == 400
    assert services.balance(session=session, actor=lw.actor, council_id=lw.council.id, code=lw.pool(1)) == 300
    again = services.post_in_batches(session=session, actor=lw.actor, council_id=lw.council.id, entries=specs[:1])
    assert again[0].id == outcomes[0].id


def test_council_ids_come_from_the_ledger_for_callers_to_name(session, lw):
    issue(session, lw, 1_000)
    ids = services.council_ids_with_entries(session=session)
    assert lw.council.id in ids and lw.other_council.id not in ids and ids == sorted(ids)
    entry = issue(session, lw, 2_000, key="council-of")
    assert services.council_of_entry(session=session, entry_id=entry.id) == lw.council.id
    assert services.council_of_entry(session=session, entry_id=987_654_321) is None
