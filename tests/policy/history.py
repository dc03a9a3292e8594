"""A synthetic decision history: rows as the decision service stores them, over varied facts, quickly."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from app.money import quantize, to_minor
from app.policy.evaluator import evaluate
from app.policy.facts import CustomerFacts, DecisionInputs, ExposureFacts, OrderFacts, ReportFacts
from app.policy.schema import PolicyDocument

CLASSES = ("A", "A", "B", "B", "C", "C", "D", "E", "insolvent", None)


def _amount(rng: random.Random, currency: str, high: float = 200_000) -> Decimal:
    return quantize(Decimal(str(round(10 ** rng.uniform(0, 1) * high / 10 ** rng.randint(0, 4), 2))), currency)


def _facts(rng: random.Random, policy: PolicyDocument, index: int) -> tuple[OrderFacts, DecisionInputs]:
    currency = rng.choice(("EUR", "EUR", "EUR", "EUR", "EUR", "USD", "JPY", "GBP"))
    rates = {"USD": {"EUR": Decimal("1.0800")}, "JPY": {"EUR": Decimal("161.25")}}.get(currency, {})
    order = OrderFacts(f"SO-{index}", _amount(rng, currency), currency)
    source = rng.choice(("fresh", "fresh", "fresh", "cache", "cache", "stale", "none", "unavailable", "not_found"))
    rated = source in ("fresh", "cache", "stale")
    risk_class = rng.choice(CLASSES) if rated else None
    report = ReportFacts(
        source=source,  # type: ignore[arg-type]
        risk_class=risk_class,
        score=rng.randint(0, 100) if rated else None,
        recommended_limit=_amount(rng, "EUR", 400_000) if rated else None,
        limit_currency="EUR" if rated else None,
        provider=None if source == "none" else "simulated",
        reference=f"ref-{index}" if rated else None,
    )
    customer = CustomerFacts(
        customer_id=f"C-{rng.randint(1, 500)}",
        segment=rng.choice([*policy.segments, None]),
        blocked=rng.random() < 0.02,
        manual_limit=_amount(rng, currency, 50_000) if rng.random() < 0.05 else None,
        first_order=rng.random() < 0.2,
    )
    overdue = rng.random() < 0.2
    exposure = ExposureFacts(
        open_receivables=_amount(rng, currency, 50_000) if rng.random() < 0.5 else Decimal(0),
        reserved=_amount(rng, currency, 20_000) if rng.random() < 0.3 else Decimal(0),
        overdue_amount=_amount(rng, currency, 3_000) if overdue else Decimal(0),
        oldest_overdue_days=rng.randint(1, 90) if overdue else 0,
    )
    return order, DecisionInputs(customer, report, exposure, rates)


def synthetic_facts(count: int, policy: PolicyDocument, seed: int = 7) -> list[tuple[OrderFacts, DecisionInputs]]:
    """`count` orders with the customer, report, exposure and rates each was decided on."""
    rng = random.Random(seed)
    return [_facts(rng, policy, index) for index in range(count)]


def synthetic_rows(
    count: int, policy: PolicyDocument, seed: int = 7, start: datetime | None = None
) -> list[dict[str, Any]]:
    """`count` decisions taken under `policy`, one a minute, as rows of the decisions table."""
    rng = random.Random(seed)
    start = start or datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for index, (order, inputs) in enumerate(synthetic_facts(count, policy, seed)):
        evaluation = evaluate(order, inputs.customer, inputs.report, inputs.exposure, policy, inputs.rates)
        currency = order.currency
        rows.append(
            {
                "id": str(uuid.UUID(int=rng.getrandbits(128))),
                "order_id": order.order_id,
                "customer_id": inputs.customer.customer_id,
                "outcome": evaluation.outcome.value,
                "currency": currency,
                "amount_minor": to_minor(order.amount, currency),
                "credit_limit_minor": to_minor(quantize(evaluation.credit_limit, currency), currency),
                "exposure_minor": to_minor(evaluation.exposure, currency),
                "available_credit_minor": to_minor(quantize(evaluation.available_credit, currency), currency),
                "approved_credit_minor": to_minor(evaluation.approved_credit_amount, currency),
                "prepayment_minor": to_minor(evaluation.prepayment_amount, currency),
                "payment_terms_days": evaluation.payment_terms_days,
                "risk_class": evaluation.risk_class,
                "segment": evaluation.segment,
                "policy_version": policy.version,
                "report_provider": inputs.report.provider,
                "report_source": inputs.report.source,
                "reasons": [reason.as_dict() for reason in evaluation.reasons],
                "report": None,
                "request": {
                    "order": {"id": order.order_id, "amount": str(order.amount), "currency": currency},
                    "customer": {"id": inputs.customer.customer_id, "country": "NL", "name": None},
                },
                "inputs": inputs.to_json(),
                "timings": {},
                "api_key_id": "key_synthetic",
                "decided_at": start + timedelta(minutes=index),
            }
        )
    return rows
