"""The rules the evaluator shares with the decision service and the monitor (app/policy/rules.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.policy.rules import overdue_check, small_order
from app.policy.schema import PolicyDocument, load_policy_file
from app.settings import DEFAULT_POLICY_FILE

# Units of CHF per one EUR, the evaluator's convention: the default policy's amounts are in EUR.
CHF_PER_EUR = {"EUR": Decimal("0.5")}


@pytest.fixture(scope="module")
def policy() -> PolicyDocument:
    return load_policy_file(DEFAULT_POLICY_FILE)


class TestOverdue:
    def test_the_amount_tolerance_is_converted_into_the_amount_s_currency(self, policy: PolicyDocument) -> None:
        within = overdue_check(Decimal("500.00"), 5, "CHF", policy, CHF_PER_EUR)
        beyond = overdue_check(Decimal("500.01"), 5, "CHF", policy, CHF_PER_EUR)
        assert (within.beyond, within.tolerance_amount) == (False, Decimal("500.00"))
        assert (beyond.beyond, beyond.tolerance_amount) == (True, Decimal("500.00"))

    def test_days_beyond_the_tolerance_are_beyond_whatever_the_amount(self, policy: PolicyDocument) -> None:
        assert overdue_check(Decimal("0.01"), 31, "EUR", policy, {}).beyond is True
        assert overdue_check(Decimal("0.01"), 30, "EUR", policy, {}).beyond is False

    def test_without_a_rate_any_overdue_amount_is_beyond(self, policy: PolicyDocument) -> None:
        check = overdue_check(Decimal("0.01"), 1, "CHF", policy, {})
        assert (check.beyond, check.tolerance_amount) == (True, None)

    def test_nothing_overdue_is_never_beyond(self, policy: PolicyDocument) -> None:
        assert overdue_check(Decimal(0), 45, "CHF", policy, {}).beyond is False


class TestSmallOrder:
    def test_the_threshold_is_converted_into_the_order_s_currency(self, policy: PolicyDocument) -> None:
        assert small_order(Decimal("124.99"), "CHF", policy, CHF_PER_EUR).below is True
        at = small_order(Decimal("125.00"), "CHF", policy, CHF_PER_EUR)
        assert (at.below, at.threshold) == (False, Decimal("125.00"))

    def test_without_a_rate_no_order_is_small(self, policy: PolicyDocument) -> None:
        unknown = small_order(Decimal("0.01"), "CHF", policy, {})
        assert (unknown.below, unknown.threshold) == (False, None)
