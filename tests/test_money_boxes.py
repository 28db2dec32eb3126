"""Each money box states one lowest amount: -5 is told what 0 is told (a pledge box said "Enter an amount of £0 or more"
to -5, then "Enter a weekly pledge of more than £0" to 0)."""

from __future__ import annotations

import pytest
from werkzeug.datastructures import MultiDict

from brokerage.clusters import rules as cluster_rules
from brokerage.clusters.schemas import ClusterForm, JoinForm, PledgeForm
from brokerage.contracts.rules import change_problems
from brokerage.formatting import HOURLY_RATE_TOO_LOW, AmountNegative, parse_pounds
from brokerage.forms import PoundsField
from brokerage.holders.registration import allocation_problem
from brokerage.holders.schemas import AddHolderForm
from brokerage.surplus.rules import amount_problem
from brokerage.surplus.schemas import ProposeForm
from tests.test_bad_input import FORMS


def _money_boxes(app):
    with app.test_request_context(method="POST"):
        return [(form_class, field.name) for form_class in FORMS for field in form_class(formdata=None) if isinstance(field, PoundsField)]


@pytest.mark.parametrize("typed", ["-5", "-£0.01", "−12.50"])
def test_an_amount_with_a_minus_sign_is_told_the_boxs_own_lowest_amount_and_0_is_told_the_same(app, typed):
    boxes = _money_boxes(app)
    assert {form.__name__ for form, _ in boxes} >= {"JoinForm", "PledgeForm", "ClusterForm", "TopUpForm", "ProposeForm"}
    with app.test_request_context(method="POST"):
        for form_class, name in boxes:
            form = form_class(formdata=MultiDict({name: typed}))
            form.validate()
            assert form[name].errors == [form[name].too_little], f"{form_class.__name__}.{name}"
            assert "£0 or more" not in form[name].too_little
            zero = form_class(formdata=MultiDict({name: "0"}))
            zero.validate()
            # The form says it for 0 in the same words, or leaves 0 to its service (checked below).
            assert zero[name].errors in ([], [form[name].too_little]), f"{form_class.__name__}.{name}"


def test_what_each_service_says_for_0_is_what_its_box_says_for_a_minus_amount(app):
    with app.test_request_context(method="POST"):
        assert JoinForm().pledge.too_little == ClusterForm().pledge.too_little == cluster_rules.PLEDGE_ABOVE_ZERO
        with pytest.raises(ValueError, match=f"^{cluster_rules.PLEDGE_ABOVE_ZERO}$"):
            cluster_rules.check_pledge_above_zero(0)
        with pytest.raises(ValueError) as member:
            cluster_rules.check_pledge_above_zero(0, member=True)
        assert str(member.value) == PledgeForm().pledge.too_little
        assert allocation_problem(0) == AddHolderForm().allocation.too_little
        assert amount_problem(0, 100) == ProposeForm().amount.too_little
        assert change_problems(hours_per_week=None, rate_pence=0) == {"hourly_rate": HOURLY_RATE_TOO_LOW}


def test_a_minus_amount_is_its_own_kind_of_wrong_answer():
    with pytest.raises(AmountNegative):
        parse_pounds("-5")
