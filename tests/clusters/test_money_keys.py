"""Money keys name the real event: a membership's tenure, the canonical week; runs respect each tenure's dates and carry on past one bad record."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import func, select

from brokerage.clusters import governance, rules, runs
from brokerage.clusters.membership import settle_leavers
from brokerage.accounts.system import system_actor
from brokerage.clusters.errors import BadPeriod
from brokerage.clusters.models import ClusterStatus, Membership, MembershipStatus
from brokerage.ledger import posting
from brokerage.ledger import rules as ledger_rules
from brokerage.ledger.errors import Unbalanced
from brokerage.ledger.models import JournalEntry
from brokerage.ledger.services import balance, post_entry
from tests import factories as f
from tests.clusters.test_services import found, join
from tests.ledger.conftest import sweep

FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def this_week(weeks: int = 0) -> str:
    return rules.period_of(runs.today() + timedelta(weeks=weeks))


def live(session, cluster, holder) -> Membership:
    return session.exec(
        select(Membership).where(Membership.cluster_id == cluster.id, Membership.holder_id == holder.id, Membership.status != MembershipStatus.left)
    ).one()


def money(session, council_id: int, code: str) -> int:
    return balance(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id, code=code)


def leave_and_settle(session, people, cluster, index: int) -> Membership:
    """Member `index` gives notice and is settled the day after their notice ends."""
    membership = live(session, cluster, people.holders[index])
    governance.give_notice(session=session, actor=people.users[index], membership_id=membership.id)
    result = settle_leavers(session=session, actor=people.job, council_id=people.council.id, today=membership.leaves_on + timedelta(days=1))
    assert result.failed == [] and [m.id for m, _ in result.done] == [membership.id]
    return membership


def two_member_group(session, people):
    cluster = found(session, people, min_size=2)
    join(session, people, cluster, 1, voters=[0])
    assert cluster.status == ClusterStatus.active
    runs.issue_dp(session=session, actor=people.job, council_id=people.council.id, period=this_week())
    return cluster


@pytest.mark.parametrize("second_pledge", [5_000, 7_000], ids=["same share", "different share"])
def test_leave_rejoin_leave_returns_the_whole_share_each_time(session, people, second_pledge):
    cluster = two_member_group(session, people)
    council_id, holder = people.council.id, people.holders[1]
    share, wallet = ledger_rules.pool_code(cluster.id, holder.id), ledger_rules.wallet_code(holder.id)
    runs.collect_pledges(session=session, actor=people.job, council_id=council_id, period=this_week())
    assert money(session, council_id, share) == 5_000
    first = leave_and_settle(session, people, cluster, 1)
    assert money(session, council_id, share) == 0 and money(session, council_id, wallet) == 20_000

    join(session, people, cluster, 1, pledge=second_pledge, voters=[0])
    second = live(session, cluster, holder)
    assert second.id != first.id and second.status == MembershipStatus.active
    runs.collect_pledges(session=session, actor=people.job, council_id=council_id, period=this_week(1))
    assert money(session, council_id, share) == second_pledge
    leave_and_settle(session, people, cluster, 1)

    assert money(session, council_id, share) == 0
    assert money(session, council_id, wallet) == 20_000
    assert second.status == MembershipStatus.left and first.status == MembershipStatus.left
    assert sweep(session) == []


def test_a_rejoined_member_pays_for_the_week_of_their_new_tenure(session, people):
    cluster = two_member_group(session, people)
    council_id, holder = people.council.id, people.holders[1]
    runs.collect_pledges(session=session, actor=people.job, council_id=council_id, period=this_week())
    leave_and_settle(session, people, cluster, 1)
    join(session, people, cluster, 1, pledge=3_000, voters=[0])
    report = runs.collect_pledges(session=session, actor=people.job, council_id=council_id, period=this_week())
    assert (report.posted, report.already) == (1, 1)
    assert money(session, council_id, ledger_rules.pool_code(cluster.id, holder.id)) == 3_000


def test_only_one_membership_of_a_holder_in_a_group_may_be_live(session, people):
    cluster = two_member_group(session, people)
    first = leave_and_settle(session, people, cluster, 1)
    join(session, people, cluster, 1, voters=[0])
    leave_and_settle(session, people, cluster, 1)
    join(session, people, cluster, 1, voters=[0])
    tenures = session.exec(select(Membership).where(Membership.cluster_id == cluster.id, Membership.holder_id == people.holders[1].id).order_by(Membership.id)).all()
    assert [m.status for m in tenures] == [MembershipStatus.left, MembershipStatus.left, MembershipStatus.active]
    with pytest.raises(IntegrityError):
        with session.begin_nested():
            session.add(Membership(council_id=first.council_id, cluster_id=cluster.id, holder_id=first.holder_id, status=MembershipStatus.requested))
            session.flush()


# --- periods --------------------------------------------------------------------------------------


def test_a_period_has_one_ascii_spelling_and_lies_near_today():
    today = runs.today()
    week = rules.period_of(today)
    assert rules.run_period(week, today=today)[0] <= today <= rules.run_period(week, today=today)[1]
    for other in (week.translate(FULL_WIDTH), week.translate(ARABIC_INDIC), "2026-W٤٩", "２０２６-W49", "2026-W4\u0669"):
        with pytest.raises(ValueError):
            rules.parse_period(other)
    assert rules.run_period(this_week(-rules.PERIOD_WEEKS_BACK), today=today)
    assert rules.run_period(this_week(rules.PERIOD_WEEKS_AHEAD), today=today)
    for far in (this_week(-rules.PERIOD_WEEKS_BACK - 1), this_week(rules.PERIOD_WEEKS_AHEAD + 1), "0001-W01", "9998-W01"):
        with pytest.raises(ValueError, match="outside the weeks a run may use"):
            rules.run_period(far, today=today)
    # The Sunday of 9999-W52 would be in the year 10000, which no date can hold.
    for bad in ("9999-W52", "2025-W53", "9999-W53", "0000-W01", None, 202648):
        with pytest.raises(ValueError):
            rules.parse_period(bad)


def test_the_runs_refuse_a_period_outside_the_window(session, people):
    for run in (runs.issue_dp, runs.collect_pledges):
        with pytest.raises(BadPeriod) as error:
            run(session=session, actor=people.job, council_id=people.council.id, period="0001-W01")
        assert error.value.field == "period"
    assert session.exec(select(func.count()).select_from(JournalEntry)).one() == 0


@pytest.mark.parametrize("spelling", ["full-width", "arabic-indic", "9999-W52", "0001-W01", "2026-W٤٩"])
def test_the_cli_refuses_other_spellings_and_far_weeks_with_one_line(runner, session, people, spelling):
    period = {"full-width": this_week().translate(FULL_WIDTH), "arabic-indic": this_week().translate(ARABIC_INDIC)}.get(spelling, spelling)
    runs.issue_dp(session=session, actor=people.job, council_id=people.council.id, period=this_week())
    session.commit()
    before = session.exec(select(func.count()).select_from(JournalEntry)).one()
    for command in ("issue-dp", "collect"):
        result = runner.invoke(args=["clusters", command, "--period", period])
        assert result.exit_code == 2, result.output
        assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("error: --period ")
        assert "Traceback" not in result.output
    assert session.exec(select(func.count()).select_from(JournalEntry)).one() == before


# --- start and end of a tenure -------------------------------------------------------------------


def test_collect_charges_only_weeks_within_the_membership(session, people):
    council_id = people.council.id
    cluster = f.ClusterFactory(session=session, council_id=council_id, status=ClusterStatus.active)
    monday = runs.today() - timedelta(days=runs.today().weekday())
    joined_this_week = f.MembershipFactory(session=session, council_id=council_id, cluster_id=cluster.id, holder_id=people.holders[0].id,
                                           start_date=monday + timedelta(days=2))
    long_standing = f.MembershipFactory(session=session, council_id=council_id, cluster_id=cluster.id, holder_id=people.holders[1].id,
                                        start_date=monday - timedelta(weeks=10))
    left_last_week = f.MembershipFactory(session=session, council_id=council_id, cluster_id=cluster.id, holder_id=people.holders[2].id,
                                         status=MembershipStatus.leaving, start_date=monday - timedelta(weeks=10),
                                         leaves_on=monday - timedelta(days=1))
    session.flush()
    for weeks in (-2, -1, 0):
        for holder in people.holders[:3]:
            post_entry(session=session, actor=people.job, council_id=council_id, kind="dp_issued", memo="Top-up for the test",
                       postings=[(ledger_rules.funding_code(council_id), -20_000), (ledger_rules.wallet_code(holder.id), 20_000)],
                       idempotency_key=f"test-topup:{holder.id}:{weeks}")
    charged = {}
    for weeks in (-2, -1, 0):
        runs.collect_pledges(session=session, actor=people.job, council_id=council_id, period=this_week(weeks))
    for membership in (joined_this_week, long_standing, left_last_week):
        charged[membership.id] = sorted(
            key.rsplit(":", 1)[1] for key in session.exec(
                select(JournalEntry.idempotency_key).where(JournalEntry.idempotency_key.like(f"pledge:{membership.id}:%"))
            )
        )
    assert charged[joined_this_week.id] == [this_week()]
    assert charged[long_standing.id] == sorted([this_week(-2), this_week(-1), this_week()])
    assert charged[left_last_week.id] == sorted([this_week(-2), this_week(-1)])


def test_no_direct_payment_for_a_week_before_the_holder_was_registered(session, people):
    report = runs.issue_dp(session=session, actor=people.job, council_id=people.council.id, period=this_week(-2))
    assert report.posted == 0
    assert runs.issue_dp(session=session, actor=people.job, council_id=people.council.id, period=this_week()).posted == len(people.holders)


# --- one bad record stops nothing else -------------------------------------------------------------


def test_one_failed_payment_does_not_stop_the_others(session, people, monkeypatch):
    bad_key = f"dp:{people.holders[2].id}:{this_week()}"
    real = posting.post_entries  # the ledger's batch loop (post_in_batches) posts through it

    def refuse_one(*, entries, **kwargs):
        if any(spec.idempotency_key == bad_key for spec in entries):
            raise Unbalanced("The entry does not balance: a test fault.", field="postings")
        return real(entries=entries, **kwargs)

    monkeypatch.setattr(posting, "post_entries", refuse_one)
    report = runs.issue_dp(session=session, actor=people.job, council_id=people.council.id, period=this_week())
    assert report.posted == len(people.holders) - 1 and report.total_pence == 20_000 * (len(people.holders) - 1)
    assert report.failed == ["Member 2: The entry does not balance: a test fault."]
    assert money(session, people.council.id, ledger_rules.wallet_code(people.holders[3].id)) == 20_000
    assert money(session, people.council.id, ledger_rules.wallet_code(people.holders[2].id)) == 0
    assert sweep(session) == []


def bad_membership(session, people, cluster):
    """A membership record that names another council's holder: its wallet cannot be opened here."""
    return f.MembershipFactory(session=session, council_id=people.council.id, cluster_id=cluster.id, holder_id=people.outsider_holder.id,
                               weekly_pledge_pence=1_000, start_date=runs.today() - timedelta(weeks=4))


def test_one_failed_collection_does_not_stop_the_others(session, people):
    cluster = two_member_group(session, people)
    bad_membership(session, people, cluster)
    report = runs.collect_pledges(session=session, actor=people.job, council_id=people.council.id, period=this_week())
    assert report.posted == 2 and report.total_pence == 10_000
    assert len(report.failed) == 1 and report.failed[0].startswith(f"{people.outsider_holder.name} ({cluster.name}): There is no holder")
    assert money(session, people.council.id, ledger_rules.pool_code(cluster.id, people.holders[1].id)) == 5_000


def second_council(session):
    council = f.CouncilFactory(session=session, name="Zeta Council")
    holder = f.HolderFactory(session=session, council_id=council.id, weekly_allocation_pence=20_000)
    cluster = f.ClusterFactory(session=session, council_id=council.id, status=ClusterStatus.active)
    membership = f.MembershipFactory(session=session, council_id=council.id, cluster_id=cluster.id, holder_id=holder.id,
                                     weekly_pledge_pence=2_000, start_date=runs.today() - timedelta(weeks=6))
    session.flush()
    return council, holder, cluster, membership


def test_the_collect_command_reports_failures_and_carries_on_with_later_councils(runner, session, people):
    cluster = two_member_group(session, people)
    bad_membership(session, people, cluster)
    council, holder, other_cluster, _ = second_council(session)
    runs.issue_dp(session=session, actor=system_actor(session=session, council_id=council.id), council_id=council.id, period=this_week())
    session.commit()
    result = runner.invoke(args=["clusters", "collect", "--period", this_week()])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    failures = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failures) == 1 and people.outsider_holder.name in failures[0]
    assert money(session, people.council.id, ledger_rules.pool_code(cluster.id, people.holders[1].id)) == 5_000
    assert money(session, council.id, ledger_rules.pool_code(other_cluster.id, holder.id)) == 2_000


def leaver(session, council_id, cluster, holder, pledge):
    """A member whose notice ended yesterday, with `pledge` in their pool share."""
    membership = f.MembershipFactory(session=session, council_id=council_id, cluster_id=cluster.id, holder_id=holder.id,
                                     status=MembershipStatus.leaving, start_date=runs.today() - timedelta(weeks=8),
                                     notice_date=runs.today() - timedelta(weeks=4, days=1), leaves_on=runs.today() - timedelta(days=1))
    session.flush()
    post_entry(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id, kind="dp_issued", memo="Direct payment",
               postings=[(ledger_rules.funding_code(council_id), -pledge), (ledger_rules.wallet_code(holder.id), pledge)],
               idempotency_key=f"test-dp:{membership.id}")
    post_entry(session=session, actor=system_actor(session=session, council_id=council_id), council_id=council_id, kind="pledge_collected", memo="Pledge",
               postings=[(ledger_rules.wallet_code(holder.id), -pledge), (ledger_rules.pool_code(cluster.id, holder.id), pledge)],
               idempotency_key=f"test-pledge:{membership.id}")
    return membership


def test_the_settle_command_settles_everyone_else_and_reports_the_failure(runner, session, people):
    council_id = people.council.id
    cluster = f.ClusterFactory(session=session, council_id=council_id, status=ClusterStatus.active)
    stuck = leaver(session, council_id, cluster, people.holders[0], 3_000)
    fine = leaver(session, council_id, cluster, people.holders[1], 4_000)
    # An entry already holds the stuck leaver's key with other content (as a reused row id once did).
    post_entry(session=session, actor=people.job, council_id=council_id, kind="member_left", memo="Something else",
               postings=[(ledger_rules.pool_code(cluster.id, people.holders[0].id), -1), (ledger_rules.wallet_code(people.holders[0].id), 1)],
               idempotency_key=f"member-left:{stuck.id}")
    council, holder, other_cluster, _ = second_council(session)
    later = leaver(session, council.id, other_cluster, f.HolderFactory(session=session, council_id=council.id), 2_500)
    session.commit()
    result = runner.invoke(args=["clusters", "settle"])
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    failures = [line for line in result.stderr.splitlines() if line.startswith("failed: ")]
    assert len(failures) == 1 and people.holders[0].name in failures[0] and "already used" in failures[0]
    for membership in (stuck, fine, later):
        session.refresh(membership)
    assert stuck.status == MembershipStatus.leaving
    assert fine.status == MembershipStatus.left and later.status == MembershipStatus.left
    assert money(session, council_id, ledger_rules.pool_code(cluster.id, people.holders[1].id)) == 0
    assert money(session, council.id, ledger_rules.pool_code(other_cluster.id, later.holder_id)) == 0


def test_the_settle_command_settles_a_rejoined_leaver_in_every_council(runner, session, people):
    cluster = two_member_group(session, people)
    runs.collect_pledges(session=session, actor=people.job, council_id=people.council.id, period=this_week())
    leave_and_settle(session, people, cluster, 1)
    join(session, people, cluster, 1, pledge=7_000, voters=[0])
    runs.collect_pledges(session=session, actor=people.job, council_id=people.council.id, period=this_week(1))
    second = live(session, cluster, people.holders[1])
    governance.give_notice(session=session, actor=people.users[1], membership_id=second.id)
    second.leaves_on = runs.today() - timedelta(days=1)
    council, _, other_cluster, _ = second_council(session)
    later = leaver(session, council.id, other_cluster, f.HolderFactory(session=session, council_id=council.id), 2_500)
    session.commit()
    result = runner.invoke(args=["clusters", "settle"])
    assert result.exit_code == 0 and "Traceback" not in result.output, result.output
    assert money(session, people.council.id, ledger_rules.pool_code(cluster.id, people.holders[1].id)) == 0
    assert money(session, council.id, ledger_rules.pool_code(other_cluster.id, later.holder_id)) == 0



def test_leavers_refunds_are_posted_together_through_the_councils_writer(session, people, monkeypatch):
    from brokerage.clusters import membership as membership_module

    council_id = people.council.id
    cluster = f.ClusterFactory(session=session, council_id=council_id, status=ClusterStatus.active)
    leavers = [leaver(session, council_id, cluster, people.holders[i], 1_000 * (i + 1)) for i in range(3)]
    calls = []
    batches = membership_module.post_in_batches
    monkeypatch.setattr(membership_module, "post_in_batches", lambda **kw: calls.append(len(kw["entries"])) or batches(**kw))
    result = settle_leavers(session=session, actor=people.job, council_id=council_id)
    assert calls == [3]
    assert [(m.id, share) for m, share in result.done] == [(m.id, 1_000 * (i + 1)) for i, m in enumerate(leavers)]
    for i, m in enumerate(leavers):
        assert m.status == MembershipStatus.left
        assert money(session, council_id, ledger_rules.pool_code(cluster.id, people.holders[i].id)) == 0
        assert money(session, council_id, ledger_rules.wallet_code(people.holders[i].id)) == 1_000 * (i + 1)
    assert sweep(session) == []
