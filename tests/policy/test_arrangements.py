"""Payment arrangements in the pure core: how one is judged, and what kept and broken ones do to a decision."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.policy.arrangements import (
    ArrangedPayment,
    ArrangementFact,
    ArrangementFacts,
    Instalment,
    arrangement_state,
)
from app.policy.behaviour import BehaviourFigures, Figure
from app.policy.evaluator import evaluate
from app.policy.facts import CustomerFacts, DecisionInputs, ExposureFacts, OrderFacts, ReportFacts
from app.policy.schema import (
    ArrangementRules,
    PolicyDocument,
    PolicyDocumentError,
    SignalRules,
    load_policy_file,
    parse_policy,
)
from app.policy.signals import crossings
from app.settings import DEFAULT_POLICY_FILE
from tests.policy.strategies import customers, exposures, orders, reports

AGREED = date(2026, 3, 1)
EXAMPLES = settings(max_examples=200, deadline=None)
DEFAULT = load_policy_file(DEFAULT_POLICY_FILE)

instalment_plans = st.lists(
    st.tuples(st.integers(min_value=0, max_value=200), st.integers(min_value=1, max_value=100_000)),
    min_size=1,
    max_size=8,
    unique_by=lambda pair: pair[0],
).map(lambda pairs: [Instalment(AGREED + timedelta(days=day), amount) for day, amount in pairs])
payment_lists = st.lists(
    st.builds(
        ArrangedPayment,
        amount_minor=st.integers(min_value=1, max_value=100_000),
        paid_on=st.integers(min_value=-10, max_value=260).map(lambda day: AGREED + timedelta(days=day)),
    ),
    max_size=12,
)
as_of_days = st.integers(min_value=0, max_value=300).map(lambda day: AGREED + timedelta(days=day))
graces = st.integers(min_value=0, max_value=10)
RANK = {"broken": 0, "kept": 1, "fulfilled": 2}


def judge(plan: list[Instalment], payments: list[ArrangedPayment], as_of: date, grace: int) -> str:
    return arrangement_state(plan, payments, agreed_on=AGREED, as_of=as_of, grace_days=grace).status


class TestJudging:
    @EXAMPLES
    @given(instalment_plans, payment_lists, as_of_days, graces, st.randoms(use_true_random=False))
    def test_the_order_payments_arrive_in_does_not_matter(self, plan, payments, as_of, grace, random) -> None:
        shuffled = list(payments)
        random.shuffle(shuffled)
        instalments = list(plan)
        random.shuffle(instalments)
        assert arrangement_state(plan, payments, agreed_on=AGREED, as_of=as_of, grace_days=grace) == arrangement_state(
            instalments, shuffled, agreed_on=AGREED, as_of=as_of, grace_days=grace
        )

    @EXAMPLES
    @given(instalment_plans, payment_lists, as_of_days, graces, payment_lists)
    def test_another_payment_never_makes_it_worse(self, plan, payments, as_of, grace, more) -> None:
        assert RANK[judge(plan, payments + more, as_of, grace)] >= RANK[judge(plan, payments, as_of, grace)]

    @EXAMPLES
    @given(instalment_plans, payment_lists, as_of_days, graces)
    def test_a_longer_grace_never_makes_it_worse(self, plan, payments, as_of, grace) -> None:
        assert RANK[judge(plan, payments, as_of, grace + 1)] >= RANK[judge(plan, payments, as_of, grace)]

    @EXAMPLES
    @given(instalment_plans, payment_lists, as_of_days, graces)
    def test_a_broken_one_names_the_first_instalment_short(self, plan, payments, as_of, grace) -> None:
        state = arrangement_state(plan, payments, agreed_on=AGREED, as_of=as_of, grace_days=grace)
        if state.status != "broken":
            return
        assert state.missed_instalment is not None
        assert state.broken_on is not None
        ordered = sorted(plan, key=lambda i: i.due_date)
        missed = ordered[state.missed_instalment - 1]
        assert state.broken_on == missed.due_date + timedelta(days=grace + 1)
        assert state.broken_on <= as_of

    def test_payments_before_the_agreement_do_not_count(self) -> None:
        plan = [Instalment(AGREED + timedelta(days=5), 100)]
        early = [ArrangedPayment(100, AGREED - timedelta(days=1))]
        assert judge(plan, early, AGREED + timedelta(days=10), 0) == "broken"
        assert judge(plan, [ArrangedPayment(100, AGREED)], AGREED + timedelta(days=10), 0) == "fulfilled"

    def test_the_grace_day_itself_is_in_time(self) -> None:
        plan = [Instalment(AGREED + timedelta(days=5), 100), Instalment(AGREED + timedelta(days=30), 100)]
        on_grace_day = [ArrangedPayment(100, AGREED + timedelta(days=8))]
        assert judge(plan, on_grace_day, AGREED + timedelta(days=20), 3) == "kept"
        assert judge(plan, on_grace_day, AGREED + timedelta(days=20), 2) == "broken"


def with_section(**section: object) -> PolicyDocument:
    document = DEFAULT.model_dump(mode="json")
    document["arrangements"] = {"grace_days": 0, "new_credit": "allow", "on_broken": "review", **section}
    return parse_policy(document)


def facts(status: str, *, open_amount: str = "2000.00", outside: str = "0", days_outside: int = 0) -> ArrangementFacts:
    broken_on = date(2026, 3, 10) if status == "broken" else None
    arrangement = ArrangementFact("A-1", status, ("INV-1",), Decimal(open_amount), Decimal(open_amount), broken_on)  # type: ignore[arg-type]
    return ArrangementFacts((arrangement,), Decimal(outside), days_outside)


ORDER = OrderFacts("SO-1", Decimal("500.00"), "EUR")
CUSTOMER = CustomerFacts("C-1")
REPORT = ReportFacts("fresh", risk_class="A", score=90, recommended_limit=Decimal(50_000))
OVERDUE = ExposureFacts(open_receivables=Decimal(2000), overdue_amount=Decimal(2000), oldest_overdue_days=60)


class TestDecisions:
    def test_a_kept_arrangement_relieves_the_stop_with_the_reason(self) -> None:
        policy = with_section()
        stopped = evaluate(ORDER, CUSTOMER, REPORT, OVERDUE, policy, {})
        assert stopped.outcome.value == "prepayment"
        kept = evaluate(ORDER, CUSTOMER, REPORT, OVERDUE, policy, {}, None, arrangements=facts("kept"))
        assert kept.outcome.value == "accept"
        reason = next(r for r in kept.reasons if r.code == "PAYMENT_ARRANGEMENT_KEPT")
        assert reason.facts["stop_relieved"] is True

    def test_without_the_section_a_kept_arrangement_changes_nothing(self) -> None:
        assert evaluate(ORDER, CUSTOMER, REPORT, OVERDUE, DEFAULT, {}, None, arrangements=facts("kept")) == evaluate(
            ORDER, CUSTOMER, REPORT, OVERDUE, DEFAULT, {}
        )

    def test_a_broken_arrangement_paid_off_counts_no_more(self) -> None:
        policy = with_section(on_broken="reject")
        paid = evaluate(
            ORDER, CUSTOMER, REPORT, ExposureFacts(), policy, {}, None, arrangements=facts("broken", open_amount="0")
        )
        assert paid.outcome.value == "accept"
        owing = evaluate(ORDER, CUSTOMER, REPORT, ExposureFacts(), policy, {}, None, arrangements=facts("broken"))
        assert owing.outcome.value == "reject"

    @EXAMPLES
    @given(orders, customers, reports, exposures, st.sampled_from(["review", "prepayment", "reject"]))
    def test_a_broken_arrangement_never_gives_a_better_outcome(self, order, customer, report, exposure, action) -> None:
        policy = with_section(on_broken=action)
        without = evaluate(order, customer, report, exposure, policy, {})
        broken = evaluate(order, customer, report, exposure, policy, {}, None, arrangements=facts("broken"))
        assert broken.outcome.rank <= without.outcome.rank
        assert broken.approved_credit_amount <= without.approved_credit_amount

    @EXAMPLES
    @given(
        orders,
        customers,
        reports,
        exposures,
        st.sampled_from(["allow", "cap", "prepayment"]),
        st.integers(min_value=0, max_value=5000),
        st.integers(min_value=0, max_value=90),
    )
    def test_kept_arrangements_keep_the_amounts_whole(
        self, order, customer, report, exposure, new_credit, outside, days
    ) -> None:
        section = {"new_credit": new_credit, **({"new_credit_cap": "300.00"} if new_credit == "cap" else {})}
        policy = with_section(**section)
        kept = facts("kept", outside=str(min(Decimal(outside), exposure.overdue_amount)), days_outside=days)
        evaluation = evaluate(order, customer, report, exposure, policy, {}, None, arrangements=kept)
        if evaluation.outcome.value in ("accept", "prepayment"):
            assert evaluation.approved_credit_amount + evaluation.prepayment_amount == order.amount
        assert evaluation.approved_credit_amount <= evaluation.available_credit
        if new_credit == "prepayment":
            assert evaluation.approved_credit_amount == 0
        if new_credit == "cap":
            assert evaluation.approved_credit_amount <= Decimal("300.00")

    @EXAMPLES
    @given(orders, customers, reports, exposures, st.data())
    def test_a_kept_arrangement_allowing_new_credit_never_gives_a_worse_outcome(
        self, order, customer, report, exposure, data
    ) -> None:
        policy = with_section(new_credit="allow")
        outside = data.draw(st.decimals(min_value=0, max_value=exposure.overdue_amount, places=2))
        days = data.draw(st.integers(min_value=0, max_value=exposure.oldest_overdue_days))
        kept = facts("kept", outside=str(outside), days_outside=days)
        without = evaluate(order, customer, report, exposure, policy, {})
        with_kept = evaluate(order, customer, report, exposure, policy, {}, None, arrangements=kept)
        assert with_kept.outcome.rank >= without.outcome.rank
        assert with_kept.approved_credit_amount >= without.approved_credit_amount

    @EXAMPLES
    @given(orders, customers, reports, exposures, st.sampled_from(["kept", "broken"]))
    def test_replay_reads_back_what_was_stored(self, order, customer, report, exposure, status) -> None:
        inputs = DecisionInputs(customer, report, exposure, arrangements=facts(status))
        again = DecisionInputs.from_json(inputs.to_json())
        assert again == inputs
        policy = with_section()
        assert evaluate(
            order, customer, report, exposure, policy, {}, None, arrangements=inputs.arrangements
        ) == evaluate(
            order, again.customer, again.report, again.exposure, policy, {}, None, arrangements=again.arrangements
        )


class TestSchema:
    def test_cap_needs_its_amount(self) -> None:
        with pytest.raises(PolicyDocumentError) as caught:
            with_section(new_credit="cap")
        assert [e["field"] for e in caught.value.errors] == ["arrangements.new_credit_cap"]

    def test_an_amount_without_cap_is_refused(self) -> None:
        with pytest.raises(PolicyDocumentError) as caught:
            with_section(new_credit_cap="10.00")
        assert [e["field"] for e in caught.value.errors] == ["arrangements.new_credit_cap"]

    @pytest.mark.parametrize(("field", "value"), [("grace_days", -1), ("grace_days", 91), ("on_broken", "block")])
    def test_bad_values_name_their_field(self, field: str, value: object) -> None:
        with pytest.raises(PolicyDocumentError) as caught:
            with_section(**{field: value})
        assert [e["field"] for e in caught.value.errors] == [f"arrangements.{field}"]

    def test_the_cap_has_the_currencys_decimals(self) -> None:
        with pytest.raises(PolicyDocumentError) as caught:
            with_section(new_credit="cap", new_credit_cap="10.001")
        assert [e["field"] for e in caught.value.errors] == ["arrangements.new_credit_cap"]

    def test_defaults(self) -> None:
        assert ArrangementRules() == ArrangementRules(grace_days=0, new_credit="allow", on_broken="review")
        assert DEFAULT.arrangements is None


class TestSignalThresholds:
    @EXAMPLES
    @given(
        st.decimals(min_value=0, max_value=60, places=1),
        st.decimals(min_value=0, max_value=60, places=1),
        st.decimals(min_value=0, max_value=1, places=2),
        st.integers(min_value=0, max_value=20),
        st.decimals(min_value=0, max_value=30, places=1),
        st.decimals(min_value=0, max_value=30, places=1),
    )
    def test_a_lower_threshold_never_raises_fewer_signals(
        self, recent, year, late, paid_invoices, threshold, lower_by
    ) -> None:
        figures = BehaviourFigures(
            as_of=AGREED,
            currency="EUR",
            paid_invoices=paid_invoices,
            figures={
                "dbt_90_days": Figure(recent, 90, 1, 1),
                "dbt_12_months": Figure(year, 365, 1, 1),
                "late_share": Figure(late, 365, 1, 1),
                "overdue_growth_30_days": Figure(recent * 100, 30, 1, 1),
            },
        )
        strict = SignalRules(dbt_trend_days=threshold, late_share=min(late + Decimal("0.1"), Decimal(1)))
        loose = SignalRules(dbt_trend_days=max(threshold - lower_by, Decimal(0)), late_share=late)
        kinds = {c.kind for c in crossings(figures, (), strict)}
        assert kinds <= {c.kind for c in crossings(figures, (), loose)}
