"""`brokerage surplus review` and the `surplus.review` job: the daily step, for one council or all."""

from __future__ import annotations

import pytest
from sqlmodel import select

from brokerage import jobs
from brokerage.surplus.models import SurplusFlag
from brokerage.surplus.review import review_job
from tests.surplus.support import TODAY, at, make_world, twelve_weeks


@pytest.fixture()
def sw(session, freeze_clock):
    sw = make_world(session, slug="riverside")
    twelve_weeks(session, sw, freeze_clock)
    session.commit()
    freeze_clock(at(TODAY, 12))
    return sw


def test_the_review_command_flags_one_councils_shares_and_says_what_it_did(runner, session, sw):
    result = runner.invoke(args=["surplus", "review", "--council", "riverside"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"{sw.council.name}: 1 new flag, 0 changed, 0 unchanged, 0 closed"
    assert len(session.exec(select(SurplusFlag).where(SurplusFlag.council_id == sw.council.id)).all()) == 1
    again = runner.invoke(args=["surplus", "review", "--council", "riverside"])
    assert again.output.strip() == f"{sw.council.name}: 0 new flags, 0 changed, 1 unchanged, 0 closed"


def test_without_a_council_every_council_is_reviewed(runner, sw):
    result = runner.invoke(args=["surplus", "review"])
    assert result.exit_code == 0, result.output
    assert f"{sw.council.name}: 1 new flag" in result.output and f"{sw.other_council.name}: 0 new flags" in result.output


@pytest.mark.parametrize("slug", ["no-such-council", "", "Riverside Council"])
def test_an_unknown_council_is_one_line_and_exit_2(runner, sw, slug):
    result = runner.invoke(args=["surplus", "review", "--council", slug])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.output


def test_the_review_is_a_registered_job_the_scheduler_can_run(app, session, sw):
    assert jobs.REGISTRY["surplus.review"] is review_job
    with app.app_context():
        handle = jobs.enqueue("surplus.review", council_id=sw.council.id)
    assert handle.status == "finished", handle.error
    assert handle.result["opened"] == 1 and handle.result["today"] == TODAY.isoformat()
