"""Payment-behaviour figures, their score, the policy's behaviour table and the evaluator's use of it."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from app.policy.behaviour import (
    BehaviourFigures,
    InvoiceLine,
    PaymentLine,
    compute_figures,
    score,
    weighted_days_beyond_terms,
)
from app.policy.evaluator import evaluate
from app.policy.facts import CustomerFacts, DecisionInputs, ExposureFacts, OrderFacts, Outcome, ReportFacts
from app.policy.schema import PolicyDocumentError, load_policy_file, parse_policy
from app.settings import DEFAULT_POLICY_FILE
from tests.policy.behaviour_tables import behaviour_section, default_document, policy_with_behaviour, ranges
from tests.policy.strategies import customers, exposures, orders, policies, reports

AS_OF = date(2026, 12, 4)
RULES = policy_with_behaviour().behaviour
assert RULES is not None


def invoice(number: int, amount: int, *, issued: int, terms: int = 30, open_minor: int = 0) -> InvoiceLine:
    issue = AS_OF - timedelta(days=issued)
    return InvoiceLine(f"I-{number}", "EUR", amount, open_minor, issue, issue + timedelta(days=terms))


def payment(number: int, invoice_line: InvoiceLine, amount: int, *, late: int, suffix: str = "") -> PaymentLine:
    return PaymentLine(
        f"P-{number}{suffix}", invoice_line.invoice_id, "EUR", amount, invoice_line.due_date + timedelta(days=late)
    )


def figures(invoices: list[InvoiceLine], payments: list[PaymentLine]) -> BehaviourFigures:
    return compute_figures(invoices, payments, as_of=AS_OF, currency="EUR", rates={})


class TestFigures:
    def test_each_figure_with_its_window_and_data(self) -> None:
        a, b, c = invoice(1, 10_000, issued=60), invoice(2, 30_000, issued=200), invoice(3, 5_000, issued=20)
        paid = [payment(1, a, 10_000, late=0), payment(2, b, 20_000, late=20), payment(3, b, 10_000, late=40)]
        result = figures([a, b, c], paid)
        assert result.paid_invoices == 2
        dbt90 = result.figures["dbt_90_days"]
        assert (dbt90.value, dbt90.window_days, dbt90.invoices, dbt90.payments) == (Decimal("0.0"), 90, 1, 1)
        # 12 months: (100·0 + 200·20 + 100·40) / 400 = 20 days beyond terms
        assert result.value("dbt_12_months") == Decimal("20.0")
        assert result.value("late_share") == Decimal("0.7500")
        assert result.value("partial_payment_rate") == Decimal("0.5000")  # b was paid in two parts
        assert result.value("days_since_last_payment") == Decimal((AS_OF - paid[0].paid_on).days)

    def test_overdue_growth_is_todays_overdue_less_that_of_30_days_ago(self) -> None:
        old = invoice(1, 10_000, issued=100, open_minor=10_000)  # overdue then and now
        new = invoice(2, 40_000, issued=45, terms=30, open_minor=40_000)  # due 15 days ago: overdue now only
        result = figures([old, new], [])
        growth = result.figures["overdue_growth_30_days"]
        assert growth.value == Decimal("400.00")
        assert (growth.window_days, growth.invoices) == (30, 2)

    def test_a_payment_after_the_earlier_day_counts_as_still_open_then(self) -> None:
        line = invoice(1, 10_000, issued=100, open_minor=0)
        paid = [payment(1, line, 10_000, late=50)]  # paid 20 days ago: overdue 30 days ago, not now
        assert figures([line], paid).value("overdue_growth_30_days") == Decimal("-100.00")

    def test_no_data_gives_no_figures(self) -> None:
        result = figures([], [])
        assert result.paid_invoices == 0
        assert result.value("dbt_90_days") is None
        assert result.value("days_since_last_payment") is None

    def test_an_unpriced_currency_is_left_out_and_named(self) -> None:
        line = InvoiceLine("I-1", "SEK", 10_000, 0, AS_OF - timedelta(days=50), AS_OF - timedelta(days=20))
        paid = [PaymentLine("P-1", "I-1", "SEK", 10_000, AS_OF - timedelta(days=10))]
        result = compute_figures([line], paid, as_of=AS_OF, currency="EUR", rates={})
        assert result.unpriced_currencies == ("SEK",)
        assert result.value("dbt_12_months") is None

    def test_the_figures_round_trip_through_json(self) -> None:
        a = invoice(1, 10_000, issued=60)
        result = figures([a], [payment(1, a, 10_000, late=3)])
        assert BehaviourFigures.from_json(result.to_json()) == result

    def test_the_dbt_formula_is_the_credit_files(self) -> None:
        due = date(2026, 1, 1)
        rows = [(Decimal(100), due + timedelta(days=10), due), (Decimal(300), due, due)]
        assert weighted_days_beyond_terms(rows) == Decimal("2.5")
        assert weighted_days_beyond_terms([]) is None


@st.composite
def ledgers(draw: st.DrawFn) -> tuple[list[InvoiceLine], list[PaymentLine]]:
    invoices: list[InvoiceLine] = []
    payments: list[PaymentLine] = []
    for number in range(draw(st.integers(0, 12))):
        amount = draw(st.integers(1, 1_000_000))
        issued = draw(st.integers(0, 500))
        terms = draw(st.integers(0, 90))
        parts = draw(st.lists(st.tuples(st.integers(1, amount), st.integers(-30, 120)), max_size=3))
        paid = 0
        line_parts = []
        for part, (part_amount, late) in enumerate(parts):
            part_amount = min(part_amount, amount - paid)
            if part_amount <= 0:
                break
            paid += part_amount
            line_parts.append((part, part_amount, late))
        line = invoice(number, amount, issued=issued, terms=terms, open_minor=amount - paid)
        invoices.append(line)
        for part, part_amount, late in line_parts:
            on = min(AS_OF, max(line.issue_date, line.due_date + timedelta(days=late)))
            payments.append(PaymentLine(f"P-{number}-{part}", line.invoice_id, "EUR", part_amount, on))
    return invoices, payments


class TestProperties:
    @settings(max_examples=60, deadline=None)
    @given(ledger=ledgers(), data=st.data())
    def test_the_order_invoices_and_payments_arrive_in_does_not_matter(
        self, ledger: tuple[list[InvoiceLine], list[PaymentLine]], data: st.DataObject
    ) -> None:
        invoices, payments = ledger
        shuffled = figures(data.draw(st.permutations(invoices)), data.draw(st.permutations(payments)))
        assert shuffled == figures(invoices, payments)

    @settings(max_examples=60, deadline=None)
    @given(ledger=ledgers(), extra=st.integers(0, 60), share=st.integers(1, 99))
    def test_adding_a_late_payment_never_improves_the_score(
        self, ledger: tuple[list[InvoiceLine], list[PaymentLine]], extra: int, share: int
    ) -> None:
        """A new invoice paid in part, at least as late as every payment so far, on or before the last one and
        more than 30 days ago (so that it changes neither the last payment nor the overdue growth)."""
        invoices, payments = ledger
        before = score(figures(invoices, payments), RULES)
        assume(before.scored)
        worst = max(max(0, (p.paid_on - _due(invoices, p)).days) for p in payments)
        last = max(p.paid_on for p in payments)
        paid_on = min(last, AS_OF - timedelta(days=31))
        due = paid_on - timedelta(days=max(1, worst) + extra)
        line = InvoiceLine("I-late", "EUR", 100_000, 100_000 - share * 1000, due - timedelta(days=30), due)
        late = PaymentLine("P-late", "I-late", "EUR", share * 1000, paid_on)
        after = score(figures([*invoices, line], [*payments, late]), RULES)
        assert after.points is not None
        assert before.points is not None
        assert after.points <= before.points

    @settings(max_examples=60, deadline=None)
    @given(ledger=ledgers())
    def test_below_the_minimum_experience_there_is_no_score(
        self, ledger: tuple[list[InvoiceLine], list[PaymentLine]]
    ) -> None:
        invoices, payments = ledger
        result = score(figures(invoices, payments), RULES)
        paid = len({p.invoice_id for p in payments if p.paid_on >= AS_OF - timedelta(days=365)})
        assert result.scored == (paid >= RULES.minimum_paid_invoices)
        if not result.scored:
            assert (result.points, result.risk_class, result.contributions) == (None, None, ())


def _due(invoices: list[InvoiceLine], p: PaymentLine) -> date:
    return next(line.due_date for line in invoices if line.invoice_id == p.invoice_id)


def good_payer() -> BehaviourFigures:
    lines = [invoice(n, 10_000, issued=40 + n) for n in range(5)]
    return figures(lines, [payment(n, line, 10_000, late=0) for n, line in enumerate(lines)])


def late_payer(days: int = 45) -> BehaviourFigures:
    lines = [invoice(n, 10_000, issued=100 + n, terms=0) for n in range(5)]
    return figures(lines, [payment(n, line, 10_000, late=days) for n, line in enumerate(lines)])


class TestScore:
    def test_a_punctual_payer_scores_class_a_with_its_contributions(self) -> None:
        result = score(good_payer(), RULES)
        assert result.risk_class == "A"
        assert result.points == sum(c.points for c in result.contributions)
        assert {c.figure for c in result.contributions} == set(RULES.points)

    def test_a_late_payer_scores_worse(self) -> None:
        assert score(late_payer(), RULES).risk_class in ("D", "E")


class TestPolicyTable:
    def parse(self, **overrides: Any) -> PolicyDocumentError:
        document = default_document()
        document["behaviour"] = behaviour_section(**overrides)
        with pytest.raises(PolicyDocumentError) as caught:
            parse_policy(document)
        return caught.value

    def test_overlapping_ranges_are_refused_naming_the_range(self) -> None:
        table = {"ranges": ranges((None, "10", 5), ("5", None, 0))}
        error = self.parse(points={"dbt_90_days": table})
        assert error.errors[0]["field"] == "behaviour.points.dbt_90_days.ranges.1.at_least"

    def test_a_gap_is_refused(self) -> None:
        table = {"ranges": ranges((None, "10", 5), ("20", None, 0))}
        assert "no gap" in self.parse(points={"dbt_90_days": table}).errors[0]["message"]

    def test_the_first_range_must_be_open_below(self) -> None:
        error = self.parse(points={"late_share": {"ranges": ranges(("0", None, 5))}})
        assert error.errors[0]["field"] == "behaviour.points.late_share.ranges.0.at_least"

    def test_an_unknown_figure_is_refused(self) -> None:
        error = self.parse(points={"dso": {"ranges": ranges((None, None, 5))}})
        assert error.errors[0]["field"].startswith("behaviour.points.dso")

    def test_a_class_no_customer_can_reach_is_refused(self) -> None:
        error = self.parse(points={"late_share": {"ranges": ranges((None, None, 5))}})
        assert error.errors[0]["field"] == "behaviour.classes.A"

    def test_review_classes_must_include_the_worse_ones(self) -> None:
        assert self.parse(review_classes=["D"]).errors[0]["field"] == "behaviour.review_classes"

    def test_the_default_policy_has_no_behaviour_section(self) -> None:
        assert load_policy_file(DEFAULT_POLICY_FILE).behaviour is None


def order(amount: str = "1000.00") -> OrderFacts:
    return OrderFacts("SO-1", Decimal(amount), "EUR")


def rated(risk_class: str = "A") -> ReportFacts:
    return ReportFacts("fresh", risk_class, 90, Decimal("50000"), "EUR", "simulated", "R-1")


class TestEvaluator:
    def test_without_a_behaviour_section_the_figures_change_nothing(self) -> None:
        policy = load_policy_file(DEFAULT_POLICY_FILE)
        customer, exposure = CustomerFacts("C-1"), ExposureFacts()
        plain = evaluate(order(), customer, rated(), exposure, policy, {})
        assert evaluate(order(), customer, rated(), exposure, policy, {}, late_payer()) == plain

    def test_worse_of_reads_the_grid_with_the_worse_class(self) -> None:
        policy = policy_with_behaviour()
        result = evaluate(order(), CustomerFacts("C-1"), rated("A"), ExposureFacts(), policy, {}, late_payer(20))
        good = evaluate(order(), CustomerFacts("C-1"), rated("A"), ExposureFacts(), policy, {}, good_payer())
        assert good.risk_class == "A"
        assert "PAYMENT_BEHAVIOUR_DETERIORATED" not in [r.code for r in good.reasons]
        assert result.risk_class != "A"
        assert result.credit_limit < good.credit_limit
        reason = next(r for r in result.reasons if r.code == "PAYMENT_BEHAVIOUR_DETERIORATED")
        assert reason.facts["bureau_class"] == "A"
        assert reason.facts["figures"]["dbt_90_days"] == "20.0"
        assert reason.facts["contributions"]

    def test_a_review_class_refers_the_order(self) -> None:
        policy = policy_with_behaviour(review_classes=["D", "E"])
        result = evaluate(order(), CustomerFacts("C-1"), rated("A"), ExposureFacts(), policy, {}, late_payer(90))
        assert result.outcome is Outcome.REVIEW
        assert result.approved_credit_amount == 0

    def test_a_prepayment_class_prepays_the_order(self) -> None:
        policy = policy_with_behaviour(review_classes=[], prepayment_classes=["D", "E"])
        result = evaluate(order(), CustomerFacts("C-1"), rated("A"), ExposureFacts(), policy, {}, late_payer(90))
        assert result.outcome is Outcome.PREPAYMENT
        assert result.prepayment_amount == Decimal("1000.00")

    def test_below_the_minimum_experience_the_bureau_alone_decides(self) -> None:
        policy = policy_with_behaviour(minimum_paid_invoices=10)
        plain = evaluate(order(), CustomerFacts("C-1"), rated("A"), ExposureFacts(), policy, {})
        assert evaluate(order(), CustomerFacts("C-1"), rated("A"), ExposureFacts(), policy, {}, late_payer(90)) == plain

    def test_a_customer_without_a_report_is_judged_on_its_record_when_the_policy_says_so(self) -> None:
        no_report = ReportFacts("none")
        on_policy = policy_with_behaviour(review_classes=["D", "E"])
        on = evaluate(order(), CustomerFacts("C-1"), no_report, ExposureFacts(), on_policy, {}, late_payer(90))
        assert on.outcome is Outcome.REVIEW
        off_policy = policy_with_behaviour(apply_without_report=False, review_classes=["D", "E"])
        off = evaluate(order(), CustomerFacts("C-1"), no_report, ExposureFacts(), off_policy, {}, late_payer(90))
        assert off.outcome is Outcome.ACCEPT

    def test_replay_scores_the_stored_figures_under_a_changed_table(self) -> None:
        """What a decision stored is what a replay reads: a stricter table gives the new outcome."""
        stored = DecisionInputs(CustomerFacts("C-1"), rated("A"), ExposureFacts(), {}, late_payer(5)).to_json()
        inputs = DecisionInputs.from_json(stored)
        lenient = evaluate(
            order(), inputs.customer, inputs.report, inputs.exposure, policy_with_behaviour(), {}, inputs.behaviour
        )
        strict_table = behaviour_section()["points"] | {
            "dbt_90_days": {"ranges": ranges((None, "1", 25), ("1", None, 0))},
            "dbt_12_months": {"ranges": ranges((None, "1", 15), ("1", None, 0))},
        }
        strict = policy_with_behaviour("behaviour-2", points=strict_table, review_classes=["C", "D", "E"])
        replayed = evaluate(order(), inputs.customer, inputs.report, inputs.exposure, strict, {}, inputs.behaviour)
        assert lenient.outcome is Outcome.ACCEPT
        assert replayed.outcome is Outcome.REVIEW

    def test_inputs_without_figures_store_no_behaviour_key(self) -> None:
        assert "behaviour" not in DecisionInputs(CustomerFacts("C-1"), rated(), ExposureFacts()).to_json()


class TestEvaluatorProperties:
    @settings(max_examples=100, deadline=None)
    @given(
        orders,
        customers,
        reports,
        exposures,
        policies(),
        ledgers(),
        st.sampled_from([[], ["E"], ["D", "E"]]),
        st.sampled_from([[], ["E"], ["C", "D", "E"]]),
        st.integers(0, 60),
        st.integers(1, 99),
    )
    def test_a_late_payment_never_gives_a_better_outcome_nor_more_credit(
        self, order, customer, report, exposure, generated, ledger, review, prepay, extra, share
    ) -> None:
        document = generated.model_dump(mode="json")
        document["behaviour"] = behaviour_section(review_classes=review, prepayment_classes=prepay)
        policy = parse_policy(document)
        invoices, payments = ledger
        assume(payments)
        worst = max(max(0, (p.paid_on - _due(invoices, p)).days) for p in payments)
        paid_on = min(max(p.paid_on for p in payments), AS_OF - timedelta(days=31))
        due = paid_on - timedelta(days=max(1, worst) + extra)
        line = InvoiceLine("I-late", "EUR", 100_000, 100_000 - share * 1000, due - timedelta(days=30), due)
        late = PaymentLine("P-late", "I-late", "EUR", share * 1000, paid_on)
        before = evaluate(order, customer, report, exposure, policy, {}, figures(invoices, payments))
        after = evaluate(order, customer, report, exposure, policy, {}, figures([*invoices, line], [*payments, late]))
        assert after.outcome.rank <= before.outcome.rank, (before.reasons, after.reasons)
        assert after.approved_credit_amount <= before.approved_credit_amount
