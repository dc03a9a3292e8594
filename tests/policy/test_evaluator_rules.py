"""The evaluator's rules one by one, on the shipped default policy."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.policy.evaluator import evaluate
from app.policy.facts import CustomerFacts, ExposureFacts, OrderFacts, Outcome, ReportFacts
from app.policy.schema import PolicyDocument, load_policy_file
from app.settings import DEFAULT_POLICY_FILE


@pytest.fixture(scope="module")
def policy() -> PolicyDocument:
    return load_policy_file(DEFAULT_POLICY_FILE)


def order(amount: str, currency: str = "EUR") -> OrderFacts:
    return OrderFacts("SO-1", Decimal(amount), currency)


def rated(risk_class: str = "A", limit: str = "50000") -> ReportFacts:
    return ReportFacts(
        source="fresh",
        risk_class=risk_class,
        score=90,
        recommended_limit=Decimal(limit),
        limit_currency="EUR",
        provider="simulated",
        reference="R-1",
    )


CUSTOMER = CustomerFacts("C-1")


def codes(evaluation: object) -> list[str]:
    return [reason.code for reason in evaluation.reasons]  # type: ignore[attr-defined]


class TestLimits:
    def test_limit_is_the_segments_share_of_the_recommended_limit(self, policy: PolicyDocument) -> None:
        result = evaluate(order("100.00"), CUSTOMER, rated("A", "50000"), ExposureFacts(), policy, {})
        assert result.credit_limit == Decimal("40000.00")  # regular: 0.80 of 50,000

    def test_limit_is_capped(self, policy: PolicyDocument) -> None:
        result = evaluate(order("100.00"), CUSTOMER, rated("A", "1000000"), ExposureFacts(), policy, {})
        assert result.credit_limit == Decimal("100000.00")

    def test_key_accounts_get_more_than_new_customers(self, policy: PolicyDocument) -> None:
        key = evaluate(order("100.00"), CustomerFacts("C", segment="key_account"), rated(), ExposureFacts(), policy, {})
        new = evaluate(order("100.00"), CustomerFacts("C", segment="new"), rated(), ExposureFacts(), policy, {})
        assert key.credit_limit > new.credit_limit
        assert key.payment_terms_days > new.payment_terms_days

    def test_an_unknown_segment_falls_back_to_the_default(self, policy: PolicyDocument) -> None:
        result = evaluate(order("100.00"), CustomerFacts("C", segment="vip"), rated(), ExposureFacts(), policy, {})
        assert result.segment == "regular"

    def test_manual_limit_replaces_the_derived_limit(self, policy: PolicyDocument) -> None:
        customer = CustomerFacts("C", manual_limit=Decimal("777.00"), manual_limit_reason="guarantee")
        result = evaluate(order("100.00"), customer, rated(), ExposureFacts(), policy, {})
        assert result.credit_limit == Decimal("777.00")
        assert codes(result)[0] == "MANUAL_LIMIT"

    def test_exposure_lowers_available_credit(self, policy: PolicyDocument) -> None:
        exposure = ExposureFacts(open_receivables=Decimal("30000"), reserved=Decimal("5000"))
        result = evaluate(order("8000.00"), CUSTOMER, rated(), exposure, policy, {})
        assert result.available_credit == Decimal("5000.00")
        assert result.outcome is Outcome.PREPAYMENT
        assert result.approved_credit_amount == Decimal("5000.00")
        assert result.prepayment_amount == Decimal("3000.00")

    def test_score_alone_is_classified_by_the_bands(self, policy: PolicyDocument) -> None:
        report = ReportFacts(
            source="fresh",
            risk_class=None,
            score=45,
            recommended_limit=Decimal("10000"),
            limit_currency="EUR",
            provider="p",
            reference="r",
        )
        assert evaluate(order("100.00"), CUSTOMER, report, ExposureFacts(), policy, {}).risk_class == "C"


class TestStops:
    def test_rejects_a_blocked_customer_whatever_the_report(self, policy: PolicyDocument) -> None:
        customer = CustomerFacts("C", blocked=True, block_reason="dispute")
        result = evaluate(order("100.00"), customer, rated("A"), ExposureFacts(), policy, {})
        assert result.outcome is Outcome.REJECT
        assert result.reasons[0].facts["block_reason"] == "dispute"

    def test_overdue_beyond_tolerance_stops_credit(self, policy: PolicyDocument) -> None:
        exposure = ExposureFacts(
            open_receivables=Decimal("2000"), overdue_amount=Decimal("1500"), oldest_overdue_days=47
        )
        result = evaluate(order("100.00"), CUSTOMER, rated("A"), exposure, policy, {})
        assert result.outcome is Outcome.PREPAYMENT
        assert result.prepayment_amount == Decimal("100.00")
        reason = result.reasons[-1]
        assert reason.code == "OVERDUE_INVOICES"
        assert reason.facts["overdue_days"] == 47
        assert reason.facts["tolerance_days"] == 30
        assert reason.facts["overdue_amount"] == "1500.00"

    def test_overdue_within_tolerance_does_not_stop(self, policy: PolicyDocument) -> None:
        exposure = ExposureFacts(overdue_amount=Decimal("200"), oldest_overdue_days=10)
        assert evaluate(order("100.00"), CUSTOMER, rated("A"), exposure, policy, {}).outcome is Outcome.ACCEPT


class TestFallbacks:
    def test_provider_unavailable_goes_to_review_by_default(self, policy: PolicyDocument) -> None:
        report = ReportFacts(source="unavailable", provider="simulated")
        result = evaluate(order("1000.00"), CUSTOMER, report, ExposureFacts(), policy, {})
        assert result.outcome is Outcome.REVIEW
        assert codes(result) == ["PROVIDER_UNAVAILABLE"]

    def test_provider_unavailable_can_accept_small_amounts(self, policy: PolicyDocument) -> None:
        lenient = policy.model_copy(
            update={
                "provider_unavailable": policy.provider_unavailable.model_copy(
                    update={"action": "accept_up_to", "accept_up_to": Decimal("500")}
                )
            }
        )
        report = ReportFacts(source="unavailable", provider="simulated")
        assert evaluate(order("400.00"), CUSTOMER, report, ExposureFacts(), lenient, {}).outcome is Outcome.ACCEPT
        assert evaluate(order("600.00"), CUSTOMER, report, ExposureFacts(), lenient, {}).outcome is Outcome.REVIEW

    def test_converts_policy_amounts_at_the_given_rate(self, policy: PolicyDocument) -> None:
        result = evaluate(
            order("100.00", "USD"), CUSTOMER, rated("A", "50000"), ExposureFacts(), policy, {"EUR": Decimal("1.10")}
        )
        assert result.credit_limit == Decimal("44000.00")
        assert result.outcome is Outcome.ACCEPT

    def test_minimum_prepayment_share_applies_when_credit_runs_short(self, policy: PolicyDocument) -> None:
        strict = policy.model_copy(
            update={"prepayment": policy.prepayment.model_copy(update={"minimum_share": Decimal("0.30")})}
        )
        exposure = ExposureFacts(open_receivables=Decimal("39900"))
        result = evaluate(order("200.00"), CUSTOMER, rated("A"), exposure, strict, {})
        assert result.prepayment_amount == Decimal("100.00")  # the excess (100) is above 30% (60)
        exposure = ExposureFacts(open_receivables=Decimal("39810"))
        result = evaluate(order("200.00"), CUSTOMER, rated("A"), exposure, strict, {})
        assert result.prepayment_amount == Decimal("60.00")  # 30% is above the excess (10)
        assert result.approved_credit_amount + result.prepayment_amount == Decimal("200.00")
