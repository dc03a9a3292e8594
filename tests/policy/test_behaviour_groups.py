"""A group's payment behaviour: the figures over all its members' ledgers, and the policy's `behaviour.group`."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from app.customers.behaviour import BehaviourGroup, customer_figures, figures_from_rows, lines_by_customer
from app.customers.rates import RateTable
from app.policy.behaviour import GroupFigures, InvoiceLine, PaymentLine, TermsRequest, compute_figures
from app.policy.evaluator import evaluate
from app.policy.facts import CustomerFacts, DecisionInputs, ExposureFacts, OrderFacts, Outcome, ReportFacts
from tests.policy.behaviour_tables import policy_with_behaviour
from tests.policy.test_behaviour import AS_OF, good_payer, late_payer, ledgers

MEMBERS = ("P-1", "C-1", "C-2", "C-3")


def rows_of(member: str, invoices: list[InvoiceLine], payments: list[PaymentLine]) -> list[Any]:
    """The rows `repository.behaviour_rows` gives for one customer's ledger."""
    rows = []
    for line in invoices:
        paid = [p for p in payments if p.invoice_id == line.invoice_id]
        base = {
            "customer_id": member,
            "invoice_id": line.invoice_id,
            "currency": line.currency,
            "amount_minor": line.amount_minor,
            "open_amount_minor": line.open_amount_minor,
            "issue_date": line.issue_date,
            "due_date": line.due_date,
        }
        for p in paid or [None]:
            rows.append(
                SimpleNamespace(
                    **base,
                    payment_id=None if p is None else p.payment_id,
                    payment_currency=None if p is None else p.currency,
                    payment_minor=None if p is None else p.amount_minor,
                    paid_on=None if p is None else p.paid_on,
                )
            )
    return rows


def split(invoices: list[InvoiceLine], payments: list[PaymentLine], owners: list[int]) -> list[Any]:
    """Each invoice (and its payments) to a member, renumbered per member so that ids repeat across members."""
    rows: list[Any] = []
    for index, member in enumerate(MEMBERS):
        mine = [line for line, owner in zip(invoices, owners, strict=False) if owner == index]
        renamed = {line.invoice_id: f"I-{n}" for n, line in enumerate(mine)}
        rows += rows_of(
            member,
            [replace(line, invoice_id=renamed[line.invoice_id]) for line in mine],
            [
                replace(p, invoice_id=renamed[p.invoice_id], payment_id=f"P-{n}")
                for n, p in enumerate(payments)
                if p.invoice_id in renamed
            ],
        )
    return rows


def group_figures(rows: list[Any], requests: dict[str, list[TermsRequest]]) -> GroupFigures:
    group = BehaviourGroup("P-1", MEMBERS)
    found = figures_from_rows(
        rows, ["C-1"], as_of=AS_OF, currency="EUR", rates=RateTable(), requests=requests, groups={"C-1": group}
    )["C-1"].group
    assert found is not None
    return found


class TestGroupFigures:
    @settings(max_examples=150, deadline=None)
    @given(ledgers(), st.lists(st.integers(0, len(MEMBERS) - 1), min_size=12, max_size=12), st.randoms())
    def test_a_groups_figures_are_those_of_one_customer_holding_every_members_ledger(
        self, ledger: tuple[list[InvoiceLine], list[PaymentLine]], owners: list[int], shuffler: random.Random
    ) -> None:
        invoices, payments = ledger
        rows = split(invoices, payments, owners)
        shuffler.shuffle(rows)  # the order the rows come in does not matter either
        asked = {member: [TermsRequest(f"SO-{member}", AS_OF - timedelta(days=n))] for n, member in enumerate(MEMBERS)}
        whole = compute_figures(
            invoices,
            payments,
            as_of=AS_OF,
            currency="EUR",
            rates={},
            terms_requests=[r for requests in asked.values() for r in requests],
        )
        assert group_figures(rows, asked).figures == whole

    @settings(max_examples=100, deadline=None)
    @given(ledgers(), st.lists(st.integers(0, len(MEMBERS) - 1), min_size=12, max_size=12))
    def test_a_members_own_figures_are_its_ledger_alone(
        self, ledger: tuple[list[InvoiceLine], list[PaymentLine]], owners: list[int]
    ) -> None:
        invoices, payments = ledger
        rows = split(invoices, payments, owners)
        lines = lines_by_customer(rows)
        own = customer_figures(lines, "C-1", as_of=AS_OF, currency="EUR", rates=RateTable(), requests={}, group=None)
        alone = lines_by_customer([row for row in rows if row.customer_id == "C-1"])
        expected = customer_figures(
            alone, "C-1", as_of=AS_OF, currency="EUR", rates=RateTable(), requests={}, group=None
        )
        assert own == expected
        assert own.group is None


def with_group(own: Any, group: Any) -> Any:
    return replace(own, group=GroupFigures("P-1", MEMBERS, group))


class TestEvaluatorGroup:
    def order(self) -> OrderFacts:
        return OrderFacts("SO-1", Decimal("1000.00"), "EUR")

    def test_own_ignores_the_groups_class(self) -> None:
        policy = policy_with_behaviour(review_classes=["D", "E"])
        report = ReportFacts("fresh", "A", 90, Decimal("50000"), "EUR", "simulated", "R-1")
        result = evaluate(
            self.order(),
            CustomerFacts("C-1"),
            report,
            ExposureFacts(),
            policy,
            {},
            with_group(good_payer(), late_payer(90)),
        )
        assert result.outcome is Outcome.ACCEPT
        assert result.risk_class == "A"

    def test_worse_of_takes_the_groups_class_when_it_is_worse(self) -> None:
        policy = policy_with_behaviour(group="worse_of", review_classes=["D", "E"])
        report = ReportFacts("fresh", "A", 90, Decimal("50000"), "EUR", "simulated", "R-1")
        figures = with_group(good_payer(), late_payer(90))
        result = evaluate(self.order(), CustomerFacts("C-1"), report, ExposureFacts(), policy, {}, figures)
        assert result.outcome is Outcome.REVIEW
        reason = next(r for r in result.reasons if r.code == "PAYMENT_BEHAVIOUR_DETERIORATED")
        assert reason.facts["own_class"] == "A"
        assert reason.facts["group"]["group_id"] == "P-1"
        assert reason.facts["behaviour_class"] == reason.facts["group"]["class"]
        # Stored and read back, as a replay reads it: the same evaluation.
        stored = DecisionInputs(CustomerFacts("C-1"), report, ExposureFacts(), {}, figures).to_json()
        again = DecisionInputs.from_json(stored)
        assert (
            evaluate(self.order(), again.customer, again.report, again.exposure, policy, {}, again.behaviour) == result
        )

    def test_worse_of_keeps_the_own_class_when_the_group_is_better(self) -> None:
        policy = policy_with_behaviour(group="worse_of", review_classes=["D", "E"])
        report = ReportFacts("fresh", "A", 90, Decimal("50000"), "EUR", "simulated", "R-1")
        alone = evaluate(self.order(), CustomerFacts("C-1"), report, ExposureFacts(), policy, {}, late_payer(90))
        grouped = evaluate(
            self.order(),
            CustomerFacts("C-1"),
            report,
            ExposureFacts(),
            policy,
            {},
            with_group(late_payer(90), good_payer()),
        )
        assert (
            (grouped.outcome, grouped.risk_class)
            == (alone.outcome, alone.risk_class)
            == (Outcome.REVIEW, alone.risk_class)
        )
