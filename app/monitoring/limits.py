"""A customer's limit as the active policy would set it now: the decision evaluator, asked for no order."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from app.customers.exposure import Exposure
from app.customers.models import Customer
from app.customers.rates import RateTable
from app.decisions.inputs import customer_facts, exposure_facts, rates_used
from app.policy.evaluator import evaluate
from app.policy.facts import CoverFacts, OrderFacts, ReportFacts, TradingFacts
from app.policy.schema import PolicyDocument
from app.providers.base import CreditReport
from app.providers.reports import report_facts

MONITOR_ORDER_ID = "monitor"


def limit_currency(customer: Customer, policy: PolicyDocument) -> str:
    return customer.limit_currency or policy.currency


def policy_limit(
    customer: Customer,
    root: Customer | None,
    snapshot: dict[str, Any] | None,
    own: Exposure,
    rates: RateTable,
    policy: PolicyDocument,
    now: datetime,
    cover: CoverFacts | None = None,
    trading: TradingFacts | None = None,
) -> Decimal:
    """The credit limit the evaluator gives this customer for an order of zero, in its limit currency.

    The same code path as a decision (manual limit, grid cell, cap, block, insolvency), so the limit
    monitoring stores is the one the next decision would use.
    """
    currency = own.currency
    report: ReportFacts = (
        report_facts(CreditReport.from_snapshot(snapshot), "cache") if snapshot else ReportFacts(source="none")
    )
    facts = customer_facts(customer, root, first_order=False, now=now)
    used = rates_used(
        currency,
        rates,
        (own,),
        (policy.currency, report.limit_currency, customer.limit_currency, cover.currency if cover else None),
    )
    evaluation = evaluate(
        OrderFacts(MONITOR_ORDER_ID, Decimal(0), currency),
        facts,
        report,
        exposure_facts(own, None),
        policy,
        used,
        None,
        cover=cover,
        trading=trading,
    )
    return evaluation.credit_limit
