"""One credit decision, as the business process goes: report, exposure, policy, record."""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from app.audit import events as audit_events
from app.audit.service import EventType, append
from app.auth import Principal
from app.db import Database, utcnow
from app.decisions import repository
from app.decisions.models import Decision
from app.decisions.repository import Cursor, DecisionFilters
from app.decisions.schemas import (
    DecisionDetail,
    DecisionOut,
    DecisionPage,
    DecisionRequest,
    ReasonOut,
    ReportOut,
)
from app.errors import NotFound
from app.money import format_minor, to_minor
from app.policy.evaluator import evaluate
from app.policy.facts import CustomerFacts, DecisionInputs, Evaluation, ExposureFacts, OrderFacts
from app.policy.schema import PolicyDocument
from app.providers.base import CompanyQuery
from app.providers.reports import ReportService

ActivePolicy = Callable[[], Awaitable[PolicyDocument]]


class DecisionService:
    def __init__(self, db: Database, reports: ReportService, active_policy: ActivePolicy) -> None:
        self.db = db
        self.reports = reports
        self.active_policy = active_policy

    async def decide(self, request: DecisionRequest, principal: Principal) -> DecisionOut:
        started = time.perf_counter()
        policy = await self.active_policy()
        order = OrderFacts(request.order.id, request.order.amount_decimal, request.order.currency)
        customer_in = request.customer
        company = None
        if customer_in.registration_number:
            company = CompanyQuery(customer_in.country, customer_in.registration_number, customer_in.name)
        rates: dict[str, Decimal] = {}
        amount_in_policy_currency = order.amount if order.currency == policy.currency else None
        # The provider is asked before the transaction opens: no lock is ever held across a paid call.
        obtained = await self.reports.obtain(
            company, buy=self.reports.needs_report(amount_in_policy_currency, policy), policy=policy
        )

        async with self.db.transaction() as session:
            first_order = not await repository.has_credit_history(session, customer_in.id)
            inputs = DecisionInputs(
                customer=CustomerFacts(customer_in.id, first_order=first_order),
                report=obtained.facts,
                exposure=ExposureFacts(),
                rates=rates,
            )
            evaluation = evaluate(order, inputs.customer, inputs.report, inputs.exposure, policy, inputs.rates)
            decided_at = utcnow()
            values = _row(request, evaluation, inputs, obtained.snapshot, policy, principal, decided_at)
            values["timings"] = {
                "provider_ms": obtained.provider_ms,
                "total_ms": round((time.perf_counter() - started) * 1000, 3),
            }
            await repository.insert_decision(session, values)
            # Last in the transaction: the audit chain's lock is held only from here to the commit.
            await append(
                session,
                EventType.DECISION_CREATED,
                values["id"],
                audit_events.decision_created(values),
                principal.key_id,
            )
        return _out(values)

    async def get(self, decision_id: str) -> DecisionDetail:
        async with self.db.read() as session:
            row = await repository.get_decision(session, decision_id)
        if row is None:
            raise NotFound(f"no decision {decision_id}")
        values = _row_values(row)
        return DecisionDetail(
            **_out(values).model_dump(),
            request=row.request,
            inputs=row.inputs,
            report_snapshot=row.report,
            timings=row.timings,
        )

    async def history(self, filters: DecisionFilters, limit: int, cursor: str | None) -> DecisionPage:
        position = Cursor.decode(cursor) if cursor else None
        async with self.db.read() as session:
            rows = await repository.list_decisions(session, filters, limit + 1, position)
        page = rows[:limit]
        next_cursor = Cursor(page[-1].decided_at, page[-1].id).encode() if len(rows) > limit else None
        return DecisionPage(items=[_out(_row_values(row)) for row in page], next_cursor=next_cursor)


def _row(
    request: DecisionRequest,
    evaluation: Evaluation,
    inputs: DecisionInputs,
    snapshot: dict[str, Any] | None,
    policy: PolicyDocument,
    principal: Principal,
    decided_at: Any,
) -> dict[str, Any]:
    currency = request.order.currency
    report = inputs.report
    return {
        "id": str(uuid.uuid4()),
        "order_id": request.order.id,
        "customer_id": request.customer.id,
        "outcome": evaluation.outcome.value,
        "currency": currency,
        "amount_minor": to_minor(request.order.amount_decimal, currency),
        "credit_limit_minor": to_minor(evaluation.credit_limit, currency),
        "exposure_minor": to_minor(evaluation.exposure, currency),
        "available_credit_minor": to_minor(evaluation.available_credit, currency),
        "approved_credit_minor": to_minor(evaluation.approved_credit_amount, currency),
        "prepayment_minor": to_minor(evaluation.prepayment_amount, currency),
        "payment_terms_days": evaluation.payment_terms_days,
        "risk_class": evaluation.risk_class,
        "segment": evaluation.segment,
        "policy_version": policy.version,
        "report_provider": report.provider,
        "report_source": report.source,
        "reasons": [reason.as_dict() for reason in evaluation.reasons],
        "report": snapshot,
        "request": request.model_dump(mode="json"),
        "inputs": inputs.to_json(),
        "api_key_id": principal.key_id,
        "decided_at": decided_at,
    }


def _row_values(row: Decision) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in Decision.__table__.columns}


def _out(values: dict[str, Any]) -> DecisionOut:
    currency = values["currency"]
    snapshot = values["report"] or {}
    report_inputs = values["inputs"]["report"]
    return DecisionOut(
        id=values["id"],
        order_id=values["order_id"],
        customer_id=values["customer_id"],
        outcome=values["outcome"],
        amount=format_minor(values["amount_minor"], currency),
        currency=currency,
        credit_limit=format_minor(values["credit_limit_minor"], currency),
        exposure=format_minor(values["exposure_minor"], currency),
        available_credit=format_minor(values["available_credit_minor"], currency),
        approved_credit_amount=format_minor(values["approved_credit_minor"], currency),
        prepayment_amount=format_minor(values["prepayment_minor"], currency),
        payment_terms_days=values["payment_terms_days"],
        risk_class=values["risk_class"],
        segment=values["segment"],
        reasons=[ReasonOut(**reason) for reason in values["reasons"]],
        report=ReportOut(
            provider=report_inputs["provider"],
            reference=report_inputs["reference"],
            risk_class=report_inputs["risk_class"],
            score=report_inputs["score"],
            source=values["report_source"],
            fetched_at=snapshot.get("fetched_at"),
        ),
        policy_version=values["policy_version"],
        decided_at=values["decided_at"],
    )
