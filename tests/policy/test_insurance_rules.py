"""The policy's `insurance` section: cover plus retention, the discretionary limit and its conditions."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.policy.evaluator import evaluate
from app.policy.facts import CoverFacts, CustomerFacts, ExposureFacts, OrderFacts, ReportFacts, TradingFacts
from app.policy.schema import Insurance, PolicyDocument, PolicyDocumentError, load_policy_file, parse_policy
from app.settings import DEFAULT_POLICY_FILE
from tests.policy.strategies import exposures, money, policies, reports

DEFAULT = load_policy_file(DEFAULT_POLICY_FILE)
RATED_A = ReportFacts(source="fresh", risk_class="A", recommended_limit=Decimal("40000"))
ORDER = OrderFacts("SO-1", Decimal("100.00"), "EUR")
CUSTOMER = CustomerFacts("C-1", segment="regular")


def insured_policy(**insurance: Any) -> PolicyDocument:
    document = DEFAULT.model_dump(mode="json")
    document["insurance"] = {"retention": {"key_account": "8000.00", "regular": "5000.00"}, **insurance}
    return parse_policy(document)


def codes(result: Any) -> list[str]:
    return [reason.code for reason in result.reasons]


class TestCoverAndRetention:
    def test_the_cover_plus_the_retention_is_the_limit(self) -> None:
        cover = CoverFacts(Decimal("20000.00"), "EUR", Decimal("0.9"))
        result = evaluate(ORDER, CUSTOMER, RATED_A, ExposureFacts(), insured_policy(), {}, None, cover=cover)
        assert result.credit_limit == Decimal("25000.00")
        (reason,) = [r for r in result.reasons if r.code == "COVER_LIMIT"]
        assert (reason.facts["cover"], reason.facts["own_share"], reason.facts["limit"]) == (
            "20000.00",
            "5000.00",
            "25000.00",
        )

    def test_without_cover_the_limit_is_the_grid_s_within_the_retention(self) -> None:
        result = evaluate(ORDER, CUSTOMER, RATED_A, ExposureFacts(), insured_policy(), {})
        assert result.credit_limit == Decimal("5000.00")  # the grid gives more; the retention bounds it
        assert "NO_COVER" in codes(result)

    def test_a_segment_without_retention_carries_no_own_risk(self) -> None:
        new = CustomerFacts("C-1", segment="new")
        assert evaluate(ORDER, new, RATED_A, ExposureFacts(), insured_policy(), {}).credit_limit == Decimal(0)

    def test_a_manual_limit_still_wins(self) -> None:
        manual = CustomerFacts("C-1", segment="regular", manual_limit=Decimal("777.00"))
        cover = CoverFacts(Decimal("20000.00"), "EUR", Decimal(1))
        result = evaluate(ORDER, manual, RATED_A, ExposureFacts(), insured_policy(), {}, None, cover=cover)
        assert result.credit_limit == Decimal("777.00")
        assert "COVER_LIMIT" not in codes(result)

    def test_a_cover_in_a_currency_without_a_rate_sends_the_order_to_review(self) -> None:
        cover = CoverFacts(Decimal("20000.00"), "USD", Decimal(1))
        result = evaluate(ORDER, CUSTOMER, RATED_A, ExposureFacts(), insured_policy(), {}, None, cover=cover)
        assert result.outcome.value == "review"
        assert codes(result)[0] == "FX_RATE_UNAVAILABLE"


class TestDiscretionaryLimit:
    RULES = {"discretionary": {"amount": "10000.00", "min_trading_days": 180, "max_days_late": 15}}

    def test_enough_history_paid_on_time_earns_it(self) -> None:
        trading = TradingFacts(trading_days=400, worst_days_late=10)
        result = evaluate(
            ORDER, CUSTOMER, RATED_A, ExposureFacts(), insured_policy(**self.RULES), {}, None, trading=trading
        )
        assert result.credit_limit == Decimal("15000.00")
        (reason,) = [r for r in result.reasons if r.code == "DISCRETIONARY_LIMIT"]
        assert reason.facts["basis"] == "trading_history"

    @pytest.mark.parametrize(
        ("trading", "overdue_days"),
        [
            (TradingFacts(trading_days=100, worst_days_late=0), 0),  # too short
            (TradingFacts(trading_days=400, worst_days_late=16), 0),  # paid too late
            (TradingFacts(trading_days=400, worst_days_late=0), 20),  # an invoice open too long
            (None, 0),  # history unknown
        ],
    )
    def test_without_the_conditions_only_the_retention_is_left(
        self, trading: TradingFacts | None, overdue_days: int
    ) -> None:
        exposure = ExposureFacts(overdue_amount=Decimal("1.00"), oldest_overdue_days=overdue_days)
        policy = insured_policy(**self.RULES)
        result = evaluate(ORDER, CUSTOMER, RATED_A, exposure, policy, {}, None, trading=trading)
        assert result.credit_limit == Decimal("5000.00")
        assert "NO_COVER" in codes(result)

    def test_a_recent_report_of_a_sound_class_earns_it_when_the_policy_says_so(self) -> None:
        rules = {"discretionary": {"amount": "10000.00", "with_recent_report": True, "report_classes": ["A", "B"]}}
        policy = insured_policy(**rules)
        sound = evaluate(ORDER, CUSTOMER, RATED_A, ExposureFacts(), policy, {})
        weak = ReportFacts(source="fresh", risk_class="C", recommended_limit=Decimal("40000"))
        stale = ReportFacts(source="stale", risk_class="A", recommended_limit=Decimal("40000"))
        assert sound.credit_limit == Decimal("15000.00")
        assert evaluate(ORDER, CUSTOMER, weak, ExposureFacts(), policy, {}).credit_limit < Decimal("15000.00")
        assert evaluate(ORDER, CUSTOMER, stale, ExposureFacts(), policy, {}).credit_limit == Decimal("5000.00")


class TestInsuranceSchema:
    @pytest.mark.parametrize(
        ("insurance", "field"),
        [
            ({"retention": {"vip": "1.00"}}, "insurance.retention.vip"),
            ({"retention": {"regular": "-1"}}, "insurance.retention.regular"),
            ({"discretionary": {"amount": "1.00"}}, "insurance.discretionary.min_trading_days"),
            (
                {"discretionary": {"amount": "1.00", "with_recent_report": True, "report_classes": ["A", "C"]}},
                "insurance.discretionary.report_classes",
            ),
            ({"retention": {"regular": "1.001"}}, "insurance.retention.regular"),
            ({"max_extension": 3}, "insurance.max_extension"),
        ],
    )
    def test_names_the_field_of_a_bad_section(self, insurance: dict[str, Any], field: str) -> None:
        document = DEFAULT.model_dump(mode="json") | {"insurance": insurance}
        with pytest.raises(PolicyDocumentError) as raised:
            parse_policy(document)
        assert field in {error["field"] for error in raised.value.errors}


class TestCoverProperties:
    @given(
        policy=policies(),
        report=reports,
        exposure=exposures,
        cover=money(500_000),
        retention=money(50_000),
        discretionary=st.none() | money(50_000),
    )
    def test_a_cover_at_least_the_discretionary_limit_never_lowers_the_limit(
        self,
        policy: PolicyDocument,
        report: ReportFacts,
        exposure: ExposureFacts,
        cover: Decimal,
        retention: Decimal,
        discretionary: Decimal | None,
    ) -> None:
        rules: dict[str, Any] = {"retention": dict.fromkeys(policy.segments, retention)}
        if discretionary is not None:
            rules["discretionary"] = {"amount": discretionary, "with_recent_report": True}
            cover = max(cover, discretionary)
        insured = policy.model_copy(update={"insurance": Insurance.model_validate(rules)})
        customer = CustomerFacts("C-1", segment=policy.default_segment)
        order = OrderFacts("SO-1", Decimal("1.00"), "EUR")
        facts = CoverFacts(cover, "EUR", Decimal(1))
        without = evaluate(order, customer, report, exposure, insured, {})
        with_cover = evaluate(order, customer, report, exposure, insured, {}, None, cover=facts)
        assert with_cover.credit_limit >= without.credit_limit
        assert with_cover.approved_credit_amount >= without.approved_credit_amount
        assert with_cover.outcome.rank >= without.outcome.rank
        if "COVER_LIMIT" in codes(with_cover):
            assert with_cover.credit_limit <= cover + retention  # never more own risk than the retention
