"""The insured share of exposure (app/policy/rules.py `insured_split`) and the decision's reason explaining it."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from app.policy.evaluator import evaluate
from app.policy.facts import CoverFacts, CustomerFacts, DecisionInputs, ExposureFacts, OrderFacts, ReportFacts
from app.policy.rules import insured_split
from app.policy.schema import load_policy_file
from app.settings import DEFAULT_POLICY_FILE
from tests.policy.strategies import money

POLICY = load_policy_file(DEFAULT_POLICY_FILE)
coverages = st.integers(min_value=1, max_value=10000).map(lambda points: Decimal(points) / 10000)
currencies = st.sampled_from(["EUR", "JPY", "BHD"])


class TestInsuredSplit:
    @given(
        total=money(10_000_000),
        vat_share=st.integers(min_value=0, max_value=100),
        cover=st.none() | money(10_000_000),
        coverage=coverages,
        excludes_vat=st.booleans(),
        currency=currencies,
    )
    def test_never_more_than_the_cover_nor_the_exposure_and_the_parts_add_up(
        self,
        total: Decimal,
        vat_share: int,
        cover: Decimal | None,
        coverage: Decimal,
        excludes_vat: bool,
        currency: str,
    ) -> None:
        vat = (total * vat_share / 100).quantize(Decimal("0.01"))
        split = insured_split(total, vat, cover, coverage, excludes_vat, currency)
        assert Decimal(0) <= split.insured <= total
        assert cover is None or split.insured <= cover
        assert split.insured + split.uninsured == total
        if excludes_vat:
            assert split.insured <= total - vat

    def test_covers_the_net_exposure_at_the_coverage(self) -> None:
        split = insured_split(Decimal("12100.00"), Decimal("2100.00"), Decimal("50000"), Decimal("0.9"), True, "EUR")
        assert (split.insured, split.uninsured) == (Decimal("9000.00"), Decimal("3100.00"))

    def test_the_cover_caps_the_insured_part(self) -> None:
        split = insured_split(Decimal("80000.00"), Decimal(0), Decimal("50000.00"), Decimal("0.9"), False, "EUR")
        assert (split.insured, split.uninsured) == (Decimal("45000.00"), Decimal("35000.00"))

    def test_without_a_cover_everything_is_the_seller_s_own_risk(self) -> None:
        split = insured_split(Decimal("100.00"), Decimal(0), None, Decimal(1), False, "EUR")
        assert (split.insured, split.uninsured) == (Decimal(0), Decimal("100.00"))


class TestInsuredReason:
    def test_a_decision_with_a_cover_explains_the_split_in_its_facts(self) -> None:
        cover = CoverFacts(Decimal("10000.00"), "EUR", Decimal("0.9"), excludes_vat=True, insurer="Atradius")
        exposure = ExposureFacts(open_receivables=Decimal("6050.00"), vat=Decimal("1050.00"))
        result = evaluate(
            OrderFacts("SO-1", Decimal("100.00"), "EUR"),
            CustomerFacts("C-1"),
            ReportFacts(source="fresh", risk_class="A", recommended_limit=Decimal("50000")),
            exposure,
            POLICY,
            {},
            None,
            cover=cover,
        )
        (reason,) = [r for r in result.reasons if r.code == "INSURED_EXPOSURE"]
        assert reason.facts["insured_exposure"] == "4500.00"
        assert reason.facts["uninsured_exposure"] == "1550.00"
        assert result.reasons[-1].code == "INSURED_EXPOSURE"

    def test_a_cover_in_a_currency_without_a_rate_leaves_the_split_unknown(self) -> None:
        cover = CoverFacts(Decimal("10000.00"), "USD", Decimal(1))
        result = evaluate(
            OrderFacts("SO-1", Decimal("100.00"), "EUR"),
            CustomerFacts("C-1"),
            ReportFacts(source="fresh", risk_class="A", recommended_limit=Decimal("50000")),
            ExposureFacts(open_receivables=Decimal("10.00")),
            POLICY,
            {},
            None,
            cover=cover,
        )
        (reason,) = [r for r in result.reasons if r.code == "INSURED_EXPOSURE"]
        assert reason.facts["insured_exposure"] is None

    def test_cover_and_vat_survive_storing_for_replay(self) -> None:
        inputs = DecisionInputs(
            customer=CustomerFacts("C-1"),
            report=ReportFacts(source="none"),
            exposure=ExposureFacts(open_receivables=Decimal("121.00"), vat=Decimal("21.00")),
            cover=CoverFacts(Decimal("500.00"), "EUR", Decimal("0.95"), True, "Coface", "CF-1"),
        )
        assert DecisionInputs.from_json(inputs.to_json()) == inputs
        stored_before_covers = inputs.to_json()
        del stored_before_covers["cover"]
        del stored_before_covers["exposure"]["vat"]
        restored = DecisionInputs.from_json(stored_before_covers)
        assert (restored.cover, restored.exposure.vat) == (None, Decimal(0))
