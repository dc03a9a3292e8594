"""One credit decision, as the business process goes: report, exposure, policy, record."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.audit import events as audit_events
from app.audit.service import EventType, NewEvent, append_many
from app.auth import Principal
from app.customers import repository as customers
from app.customers.exposure import ExposureSums, combined, in_currency, sums_by_customer
from app.customers.models import Customer
from app.customers.rates import RateTable
from app.db import Database, utcnow
from app.decisions import repository
from app.decisions.inputs import customer_facts, exposure_facts, rates_used
from app.decisions.models import Decision
from app.decisions.repository import Cursor, DecisionFilters
from app.decisions.schemas import (
    CustomerIn,
    DecisionDetail,
    DecisionOut,
    DecisionPage,
    DecisionRequest,
    ReasonOut,
    ReportOut,
)
from app.errors import Conflict, NotFound
from app.group_commit import GroupCommit
from app.idempotency.service import Recorder, StoredResponse
from app.money import format_minor, to_minor
from app.observability.metrics import record_decision
from app.orders import repository as orders
from app.orders.service import reserve_credit
from app.policies.active import ActivePolicy
from app.policy.evaluator import evaluate
from app.policy.facts import DecisionInputs, Evaluation, OrderFacts
from app.policy.schema import PolicyDocument
from app.providers.base import CompanyQuery, CreditReport
from app.providers.reports import ObtainedReport, ReportService

logger = logging.getLogger("creditgate.decisions")


# Shared transactions open at once (PostgreSQL's writes; everyone's reads): each holds a pooled connection.
WRITERS = 4
READERS = 2


class OrderAlreadyInvoiced(Conflict):
    code, title = "order_already_invoiced", "The order is invoiced; its credit can no longer be decided"


@dataclass(frozen=True, slots=True)
class _Locked:
    """What the decision reads under the customer's lock."""

    customer: Customer
    root: Customer | None  # the group's root, when the group has a limit


@dataclass(slots=True)
class _Before:
    """What one decision reads before its report; filled in by the read it shares with others."""

    customer_in: CustomerIn
    policy: PolicyDocument = field(init=False)
    rates: RateTable = field(init=False)
    company: CompanyQuery | None = None
    cached: list[CreditReport] = field(default_factory=list)

    @staticmethod
    def unit(customer_in: CustomerIn) -> Callable[[AsyncSession], Awaitable[_Before]]:
        async def queued(_session: AsyncSession) -> _Before:
            return _Before(customer_in)

        return queued


@dataclass(frozen=True, slots=True)
class _Written:
    """A decision's row and response, as its unit of the shared write transaction left them."""

    values: dict[str, Any]
    stored: StoredResponse
    actor: str


async def _finish(session: AsyncSession, written: Sequence[_Written]) -> None:
    """Last in the shared transaction: every decision's reason rows, then their audit events in one append.

    The audit chain's head is locked only from here to the commit."""
    await repository.insert_reasons(session, [w.values for w in written])
    await append_many(
        session,
        [
            NewEvent(EventType.DECISION_CREATED, w.values["id"], audit_events.decision_created(w.values), w.actor)
            for w in written
        ],
    )


class DecisionService:
    def __init__(
        self, db: Database, reports: ReportService, active_policy: ActivePolicy, reservation_days: int = 30
    ) -> None:
        self.db = db
        self.reports = reports
        self.active_policy = active_policy
        self.reservation_days = reservation_days
        # SQLite has one writer at a time anyway; PostgreSQL works on several shared transactions at once.
        self.writes: GroupCommit[_Written] = GroupCommit(
            db.transaction, _finish, writers=1 if db.is_sqlite else WRITERS
        )
        # What comes before the report, read for every decision that arrives at the same moment at once.
        self.reads: GroupCommit[_Before] = GroupCommit(db.read, self._read_before, writers=READERS)

    async def decide(
        self, request: DecisionRequest, principal: Principal, recorder: Recorder | None = None
    ) -> StoredResponse:
        """Report first (no lock held), then lock the customer, read exposure, decide, reserve and record.

        The write part runs in a transaction shared with other decisions queued at the same moment
        (app/group_commit.py); its answer is sent only once that transaction has committed."""
        started = time.perf_counter()
        order = OrderFacts(request.order.id, request.order.amount_decimal, request.order.currency)
        # One read for all that comes before the report: the policy, the customer, the rates, the cached
        # reports. Decisions arriving together share it (one statement per table for all of them).
        before = await self.reads.run(_Before.unit(request.customer))
        policy, rates, company, cached = before.policy, before.rates, before.company, before.cached
        policy_rate = rates.rate(policy.currency, order.currency)
        amount_in_policy_currency = order.amount * policy_rate if policy_rate is not None else None
        # The provider is asked before the transaction opens: no lock is ever held across a paid call.
        obtained = await self.reports.obtain(
            company, buy=self.reports.needs_report(amount_in_policy_currency, policy), policy=policy, stored=cached
        )
        recorder = recorder or Recorder(None)

        async def write(session: AsyncSession) -> _Written:
            now = utcnow()
            locked = await self._lock(session, request.customer, now)
            reservation = await orders.get_reservation(session, order.order_id, lock=True)
            if reservation is not None and reservation.status == "invoiced":
                raise OrderAlreadyInvoiced(f"order {order.order_id} was invoiced as {reservation.invoice_id}")
            # The rates read a moment ago serve the whole decision: the one table the policy and exposure use.
            inputs = await self._inputs(session, order, locked, obtained, policy, rates, now)
            evaluation = evaluate(order, inputs.customer, inputs.report, inputs.exposure, policy, inputs.rates)
            decided_at = utcnow()
            values = _row(request, evaluation, inputs, obtained.snapshot, policy, principal, decided_at)
            values["timings"] = {
                "provider_ms": obtained.provider_ms,
                "total_ms": round((time.perf_counter() - started) * 1000, 3),
            }
            await repository.insert_decision(session, values)
            await self._reserve(session, values, reservation is not None, decided_at)
            stored = await recorder.respond(session, 201, _out(values))
            return _Written(values, stored, principal.key_id)

        # Queued with the decisions of other requests: they share one transaction, and this one is answered
        # once that transaction has committed it, its reasons and its audit event.
        written = await self.writes.run(write)
        values, stored = written.values, written.stored
        record_decision(values["outcome"], time.perf_counter() - started)
        # Identifiers only: the customer's name and registration number stay out of the logs.
        logger.info(
            "decision",
            extra={
                "decision_id": values["id"],
                "order_id": values["order_id"],
                "customer_id": values["customer_id"],
                "outcome": values["outcome"],
            },
        )
        return stored

    async def _read_before(self, session: AsyncSession, pending: Sequence[_Before]) -> None:
        policy = await self.active_policy(session)
        rates = RateTable.of((r.base, r.quote, r.rate) for r in await customers.all_rates(session))
        masters = await customers.customers_by_id(session, [before.customer_in.id for before in pending])
        for before in pending:
            before.policy, before.rates = policy, rates
            before.company = _company(before.customer_in, masters.get(before.customer_in.id))
        companies = [before.company for before in pending if before.company is not None]
        stored = await self.reports.stored_reports_of_many(session, companies)
        for before in pending:
            if before.company is not None:
                before.cached = stored.get((before.company.country, before.company.number_key), [])

    async def _lock(self, session: AsyncSession, customer_in: CustomerIn, now: datetime) -> _Locked:
        """The customer's row is the lock; a group member then also locks its root's row.

        Locks are always taken member first, root second, and nothing that holds a root waits for a
        member: decisions alone in their transaction never deadlock. A shared transaction holds the locks
        of several customers; should two replicas' shared transactions deadlock, PostgreSQL aborts one and
        its decisions run again, each alone.
        """
        await customers.ensure_from_order(
            session,
            {
                "id": customer_in.id,
                "name": customer_in.name,
                "country": customer_in.country,
                "registration_number": customer_in.registration_number,
            },
            now,
        )
        (customer,) = await customers.lock_customers(session, [customer_in.id])
        if customer.parent_id is None:  # a group's root is in its own group
            return _Locked(customer, customer if customer.group_limit_minor is not None else None)
        roots = await customers.lock_customers(session, [customer.parent_id])
        root = roots[0] if roots else None
        return _Locked(customer, root if root is not None and root.group_limit_minor is not None else None)

    async def _inputs(
        self,
        session: AsyncSession,
        order: OrderFacts,
        locked: _Locked,
        obtained: ObtainedReport,
        policy: PolicyDocument,
        rates: RateTable,
        now: datetime,
    ) -> DecisionInputs:
        customer, root = locked.customer, locked.root
        today = now.date()
        members = await customers.group_member_ids(session, root.id) if root is not None else [customer.id]
        rows = await customers.exposure_rows(
            session, sorted({*members, customer.id}), today=today, now=now, exclude_order=order.order_id
        )
        sums = sums_by_customer(rows)
        own = in_currency(sums.get(customer.id, ExposureSums()), order.currency, rates, today)
        group = in_currency(combined(sums.values()), order.currency, rates, today) if root is not None else None
        limit_currencies = (customer.limit_currency, root.limit_currency if root is not None else None)
        first_order = not await repository.has_credit_history(session, customer.id)
        return DecisionInputs(
            customer=customer_facts(customer, root, first_order=first_order, now=now),
            report=obtained.facts,
            exposure=exposure_facts(own, group),
            rates=rates_used(
                order.currency,
                rates,
                (own, group),
                (policy.currency, obtained.facts.limit_currency, *limit_currencies),
            ),
        )

    async def _reserve(self, session: AsyncSession, values: dict[str, Any], exists: bool, decided_at: datetime) -> None:
        """Approved credit is reserved for the order, replacing what an earlier decision reserved."""
        await reserve_credit(
            session,
            order_id=values["order_id"],
            customer_id=values["customer_id"],
            decision_id=values["id"],
            currency=values["currency"],
            order_amount_minor=values["amount_minor"],
            approved_minor=values["approved_credit_minor"],
            payment_terms_days=values["payment_terms_days"],
            replaces_existing=exists,
            at=decided_at,
            days=self.reservation_days,
        )

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


def _company(customer_in: CustomerIn, master: Customer | None) -> CompanyQuery | None:
    """Whom to ask the provider about: master data pushed by the ERP wins over what an order says."""
    if master is not None and master.master_data_from == "erp":
        country, number, name = master.country, master.registration_number, master.name
    else:
        country, number, name = customer_in.country, customer_in.registration_number, customer_in.name
    return CompanyQuery(country, number, name) if number else None


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


def decision_out(row: Decision) -> DecisionOut:
    """A stored decision as the API shows it."""
    return _out(_row_values(row))
