"""Requests for longer payment terms: the policy's `longer_terms`, the reason, and the behaviour figure."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.policy.behaviour import BehaviourFigures, TermsRequest, compute_figures, score
from app.policy.evaluator import evaluate
from app.policy.facts import CustomerFacts, Evaluation, ExposureFacts, OrderFacts, Outcome, Reason, ReportFacts
from app.policy.schema import PolicyDocument, PolicyDocumentError, parse_policy
from tests.policy.behaviour_tables import behaviour_section, default_document, ranges
from tests.policy.strategies import customers, exposures, orders, policies, reports
from tests.policy.test_behaviour import good_payer

AS_OF = date(2026, 12, 4)
A_REPORT = ReportFacts("fresh", "A", 90, Decimal("50000"), "EUR", "simulated", "R-1")


def policy(**longer_terms: object) -> PolicyDocument:
    document = default_document()
    if longer_terms:
        document["longer_terms"] = longer_terms
    return parse_policy(document)


def decide(days: int | None, **longer_terms: object) -> Evaluation:
    order = OrderFacts("SO-1", Decimal("1000.00"), "EUR", days)
    return evaluate(
        order, CustomerFacts("C-1", segment="regular"), A_REPORT, ExposureFacts(), policy(**longer_terms), {}
    )


def reason(evaluation: Evaluation) -> Reason | None:
    return next((r for r in evaluation.reasons if r.code == "LONGER_TERMS_REQUESTED"), None)


def facts(evaluation: Evaluation) -> dict[str, object]:
    found = reason(evaluation)
    assert found is not None
    return dict(found.facts)


class TestPolicy:
    def test_without_a_request_the_cells_terms_apply(self) -> None:
        result = decide(None)
        assert (result.outcome, result.payment_terms_days, reason(result)) == (Outcome.ACCEPT, 30, None)

    def test_shorter_terms_are_granted_as_asked(self) -> None:
        result = decide(10)
        assert (result.outcome, result.payment_terms_days, reason(result)) == (Outcome.ACCEPT, 10, None)

    def test_by_default_longer_terms_are_capped_at_the_cells(self) -> None:
        result = decide(60)
        assert (result.outcome, result.payment_terms_days) == (Outcome.ACCEPT, 30)
        assert facts(result) == {
            "requested_days": 60,
            "segment_terms_days": 30,
            "max_extra_days": 0,
            "action": "capped",
        }

    def test_extra_days_are_granted_up_to_the_policys_and_capped_beyond(self) -> None:
        within = decide(45, max_extra_days=15)
        assert (within.payment_terms_days, facts(within)["action"]) == (45, "granted")
        beyond = decide(60, max_extra_days=15)
        assert (beyond.payment_terms_days, facts(beyond)["action"]) == (45, "capped")

    def test_beyond_review_sends_the_order_to_a_person_with_the_asked_terms(self) -> None:
        result = decide(90, max_extra_days=15, beyond="review")
        assert (result.outcome, result.payment_terms_days, result.approved_credit_amount) == (Outcome.REVIEW, 90, 0)
        assert facts(result)["action"] == "review"
        assert decide(45, max_extra_days=15, beyond="review").outcome is Outcome.ACCEPT

    @pytest.mark.parametrize(
        ("section", "field"),
        [
            ({"max_extra_days": -1}, "longer_terms.max_extra_days"),
            ({"max_extra_days": 366}, "longer_terms.max_extra_days"),
            ({"beyond": "reject"}, "longer_terms.beyond"),
            ({"cap": 10}, "longer_terms.cap"),
        ],
    )
    def test_a_bad_section_is_refused_naming_the_field(self, section: dict[str, object], field: str) -> None:
        document = default_document()
        document["longer_terms"] = section
        with pytest.raises(PolicyDocumentError) as caught:
            parse_policy(document)
        assert [error["field"] for error in caught.value.errors] == [field]


class TestProperties:
    @settings(max_examples=150, deadline=None)
    @given(
        orders,
        customers,
        reports,
        exposures,
        policies(),
        st.integers(0, 365),
        st.integers(0, 365),
        st.sampled_from(["cap", "review"]),
    )
    def test_asking_for_terms_never_gives_a_better_outcome_more_credit_or_more_days_than_allowed(
        self, order, customer, report, exposure, generated, asked, extra, beyond
    ) -> None:
        document = generated.model_dump(mode="json")
        document["longer_terms"] = {"max_extra_days": extra, "beyond": beyond}
        policy = parse_policy(document)
        plain = evaluate(order, customer, report, exposure, policy, {})
        asking = evaluate(replace(order, payment_terms_days=asked), customer, report, exposure, policy, {})
        assert asking.outcome.rank <= plain.outcome.rank
        assert asking.approved_credit_amount <= plain.approved_credit_amount
        if asking.outcome in (Outcome.ACCEPT, Outcome.PREPAYMENT) and asking.approved_credit_amount > 0:
            assert asking.payment_terms_days <= asked
            assert asking.payment_terms_days <= plain.payment_terms_days + extra


class TestFigure:
    def requests(self, *days_ago: int, order: str | None = None) -> list[TermsRequest]:
        return [TermsRequest(order or f"SO-{n}", AS_OF - timedelta(days=d)) for n, d in enumerate(days_ago)]

    def test_orders_asking_in_the_last_90_days_count_once_each(self) -> None:
        asked = [*self.requests(1, 30, 91), *self.requests(2, 3, order="SO-again")]
        figure = compute_figures([], [], as_of=AS_OF, currency="EUR", rates={}, terms_requests=asked).figures[
            "longer_terms_requests"
        ]
        assert (figure.value, figure.window_days, figure.decisions) == (Decimal(3), 90, 4)

    def test_it_enters_the_score_table(self) -> None:
        section = behaviour_section(minimum_paid_invoices=1)
        section["points"] = {
            "longer_terms_requests": {"ranges": ranges((None, "2", 40), ("2", None, 0))},
            "dbt_90_days": {"ranges": ranges((None, "1", 60), ("1", None, 0))},
        }
        document = default_document()
        document["behaviour"] = section
        rules = parse_policy(document).behaviour
        assert rules is not None
        punctual = good_payer()
        asking = compute_figures(
            [], [], as_of=punctual.as_of, currency="EUR", rates={}, terms_requests=self.requests(1, 2, 3)
        ).figures["longer_terms_requests"]
        often = replace(punctual, figures={**punctual.figures, "longer_terms_requests": asking})
        assert score(punctual, rules).risk_class == "A"
        assert score(often, rules).points == score(punctual, rules).points - 40

    def test_figures_stored_before_the_figure_existed_replay_with_no_requests(self) -> None:
        stored = good_payer().to_json()
        del stored["figures"]["longer_terms_requests"]
        figure = BehaviourFigures.from_json(stored).figures["longer_terms_requests"]
        assert (figure.value, figure.window_days, figure.decisions) == (Decimal(0), 90, 0)
