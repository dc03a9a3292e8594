"""Properties of the pure evaluator over generated orders, customers, reports, exposures and policies."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from app.policy.evaluator import evaluate
from app.policy.facts import (
    RISK_ORDER,
    CustomerFacts,
    DecisionInputs,
    Evaluation,
    ExposureFacts,
    OrderFacts,
    Outcome,
    ReportFacts,
)
from app.policy.schema import PolicyDocument, load_policy_file
from app.settings import DEFAULT_POLICY_FILE
from tests.policy.strategies import customers, exposures, money, orders, policies, reports

DEFAULT_POLICY = load_policy_file(DEFAULT_POLICY_FILE)
any_policy = st.just(DEFAULT_POLICY) | policies()
EXAMPLES = settings(max_examples=200, deadline=None)


def decide(
    order: OrderFacts, customer: CustomerFacts, report: ReportFacts, exposure: ExposureFacts, policy: PolicyDocument
) -> Evaluation:
    return evaluate(order, customer, report, exposure, policy, {})


def no_better(worse: Evaluation, better: Evaluation) -> None:
    assert worse.outcome.rank <= better.outcome.rank, (better.outcome, worse.outcome, worse.reasons)
    assert worse.approved_credit_amount <= better.approved_credit_amount


class TestWorseRiskNeverHelps:
    @EXAMPLES
    @given(orders, customers, reports, exposures, any_policy, st.data())
    def test_a_worse_risk_class_gives_no_better_outcome_nor_more_credit(
        self, order, customer, report, exposure, policy, data
    ) -> None:
        better_index = data.draw(st.integers(min_value=0, max_value=len(RISK_ORDER) - 2))
        worse_index = data.draw(st.integers(min_value=better_index + 1, max_value=len(RISK_ORDER) - 1))
        better = decide(order, customer, replace(report, risk_class=RISK_ORDER[better_index]), exposure, policy)
        worse = decide(order, customer, replace(report, risk_class=RISK_ORDER[worse_index]), exposure, policy)
        no_better(worse, better)

    @EXAMPLES
    @given(orders, customers, reports, exposures, any_policy, st.integers(0, 100), st.integers(0, 100))
    def test_a_lower_score_gives_no_better_outcome_nor_more_credit(
        self, order, customer, report, exposure, policy, score, other
    ) -> None:
        unrated = replace(report, risk_class=None)
        high, low = max(score, other), min(score, other)
        no_better(
            decide(order, customer, replace(unrated, score=low), exposure, policy),
            decide(order, customer, replace(unrated, score=high), exposure, policy),
        )


class TestHigherExposureNeverHelps:
    @EXAMPLES
    @given(orders, customers, reports, exposures, any_policy, money(100_000), money(100_000), money(20_000))
    def test_more_receivables_reserved_or_overdue_gives_no_better_outcome_nor_more_credit(
        self, order, customer, report, exposure, policy, more_open, more_reserved, more_overdue
    ) -> None:
        higher = replace(
            exposure,
            open_receivables=exposure.open_receivables + more_open,
            reserved=exposure.reserved + more_reserved,
            overdue_amount=exposure.overdue_amount + more_overdue,
        )
        no_better(decide(order, customer, report, higher, policy), decide(order, customer, report, exposure, policy))

    @EXAMPLES
    @given(orders, customers, reports, exposures, any_policy, st.integers(0, 120))
    def test_older_overdue_invoices_give_no_better_outcome_nor_more_credit(
        self, order, customer, report, exposure, policy, more_days
    ) -> None:
        older = replace(exposure, oldest_overdue_days=exposure.oldest_overdue_days + more_days)
        no_better(decide(order, customer, report, older, policy), decide(order, customer, report, exposure, policy))


class TestAmountsAddUp:
    @EXAMPLES
    @given(orders, customers, reports, exposures, any_policy)
    def test_approved_credit_never_exceeds_available_credit(self, order, customer, report, exposure, policy) -> None:
        evaluation = decide(order, customer, report, exposure, policy)
        assert Decimal(0) <= evaluation.approved_credit_amount <= evaluation.available_credit
        assert evaluation.prepayment_amount >= 0

    @EXAMPLES
    @given(orders, customers, reports, exposures, any_policy)
    def test_credit_and_prepayment_make_up_the_amount(self, order, customer, report, exposure, policy) -> None:
        evaluation = decide(order, customer, report, exposure, policy)
        if evaluation.outcome in (Outcome.ACCEPT, Outcome.PREPAYMENT):
            assert evaluation.approved_credit_amount + evaluation.prepayment_amount == order.amount
        else:
            assert evaluation.approved_credit_amount == 0

    @EXAMPLES
    @given(orders, customers, reports, exposures, any_policy)
    def test_every_decision_gives_at_least_one_upper_snake_reason(
        self, order, customer, report, exposure, policy
    ) -> None:
        evaluation = decide(order, customer, report, exposure, policy)
        assert evaluation.reasons
        assert all(reason.code.isupper() and " " not in reason.code for reason in evaluation.reasons)


class TestNoCreditForBlockedOrInsolvent:
    @EXAMPLES
    @given(orders, customers, reports, exposures, any_policy)
    def test_a_blocked_customer_is_never_accepted_on_credit(self, order, customer, report, exposure, policy) -> None:
        evaluation = decide(order, replace(customer, blocked=True), report, exposure, policy)
        assert evaluation.outcome is Outcome.REJECT
        assert evaluation.approved_credit_amount == 0

    @EXAMPLES
    @given(orders, customers, reports, exposures, any_policy)
    def test_an_insolvent_company_is_never_accepted_on_credit(self, order, customer, report, exposure, policy) -> None:
        evaluation = decide(order, customer, replace(report, risk_class="insolvent"), exposure, policy)
        assert evaluation.outcome is Outcome.REJECT
        assert evaluation.approved_credit_amount == 0


class TestOverdueStopsCredit:
    @EXAMPLES
    @given(orders, customers, reports, exposures, any_policy)
    def test_overdue_beyond_tolerance_never_extends_credit(self, order, customer, report, exposure, policy) -> None:
        overdue = replace(
            exposure,
            overdue_amount=exposure.overdue_amount + Decimal("0.01"),
            oldest_overdue_days=policy.stop.overdue_days_tolerance + 1,
        )
        evaluation = decide(order, customer, report, overdue, policy)
        assert evaluation.approved_credit_amount == 0
        assert evaluation.outcome.rank <= Outcome(policy.stop.outcome).rank
        assert "OVERDUE_INVOICES" in [reason.code for reason in evaluation.reasons] or evaluation.outcome is (
            Outcome.REJECT
        )


class TestStoredInputsReplayExactly:
    @EXAMPLES
    @given(orders, customers, reports, exposures, any_policy, st.sampled_from([{}, {"USD": Decimal("0.9259")}]))
    def test_inputs_through_json_storage_give_the_same_evaluation(
        self, order, customer, report, exposure, policy, rates
    ) -> None:
        inputs = DecisionInputs(customer, report, exposure, rates)
        restored = DecisionInputs.from_json(json.loads(json.dumps(inputs.to_json())))
        assert restored == inputs
        original = evaluate(order, customer, report, exposure, policy, rates)
        replayed = evaluate(order, restored.customer, restored.report, restored.exposure, policy, restored.rates)
        assert replayed == original
