"""One credit decision, as the business process goes: report, exposure, policy, record."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncConnection

from app.arrangements.service import arrangement_inputs
from app.audit import events as audit_events
from app.audit.service import EventType, NewEvent, append_many
from app.auth import Principal
from app.customers import repository as customers
from app.customers.behaviour import Lines, behaviour_root, customer_figures, group_of, lines_by_customer
from app.customers.exposure import ExposureSums, combined, in_currency, sums_by_customer
from app.customers.groups import group_root
from app.customers.models import CustomerRecord
from app.customers.rates import RateTable
from app.db import Database, Reader, WriteSession, utcnow
from app.decisions import repository
from app.decisions.behaviour import behaviour_inputs
from app.decisions.export import StartedExport, open_decisions_csv
from app.decisions.inputs import (
    cover_facts,
    customer_facts,
    exposure_facts,
    needs_trading,
    rates_used,
    trading_facts,
)
from app.decisions.query import Cursor, DecisionFilters
from app.decisions.repository import DecisionRow, DecisionTimings
from app.decisions.schemas import (
    CustomerIn,
    DecisionDetail,
    DecisionPage,
    DecisionRequest,
    decision_out,
    decision_out_from_columns,
    written_decision_out,
)
from app.errors import FieldError, InvalidRequest, NotFound
from app.group_commit import GroupCommit
from app.idempotency.service import Recorder, StoredResponse
from app.insurance import repository as insurance
from app.money import to_minor
from app.observability.logging import bind
from app.observability.metrics import record_decision
from app.orders import repository as orders
from app.orders.models import ReservationState
from app.orders.repository import ReservationRow
from app.orders.service import OrderOfAnotherCustomer, credit_reservation, undecidable
from app.policy.behaviour import LONG_WINDOW_DAYS, TermsRequest
from app.policy.evaluator import evaluate_inputs
from app.policy.facts import DecisionInputs, Evaluation, OrderFacts
from app.policy.schema import PolicyDocument
from app.providers.base import CompanyQuery, CreditReport
from app.providers.reports import ObtainedReport, ReportService

# Shared transactions open at once (PostgreSQL's writes; everyone's reads): each holds a pooled connection.
# Two writers: one gathers and writes its decisions while the other commits. More only split the queue into
# smaller batches, since every writer waits its turn at the audit chain's head until its commit anyway
# (measured saturated: 0.90 ms of CPU a decision with two, 1.01 with four).
WRITERS = 2
READERS = 2


class ActivePolicyAndRates(Protocol):
    """The active policy document and the stored rates, read in one statement (PolicyService's)."""

    async def __call__(self, session: Reader) -> tuple[PolicyDocument, RateTable]: ...


@dataclass(frozen=True, slots=True)
class _ReadBeforeReport:
    """What one decision reads before its report, in a read shared with the decisions arriving with it."""

    policy: PolicyDocument
    rates: RateTable
    company: CompanyQuery | None
    cached: list[CreditReport]
    parent_id: str | None  # the customer's group root as stored then: locked with it when it writes


@dataclass(frozen=True, slots=True)
class _Pending:
    """One decision waiting for its shared write transaction, with everything it needs but the locked rows."""

    request: DecisionRequest
    order: OrderFacts
    principal: Principal
    recorder: Recorder
    before: _ReadBeforeReport
    obtained: ObtainedReport
    started: float

    @property
    def customer_id(self) -> str:
        return self.request.customer.id


@dataclass(frozen=True, slots=True)
class _Written:
    """A decision's row and response, as its shared write transaction left them."""

    values: DecisionRow
    stored: StoredResponse
    actor: str


class DecisionService:
    def __init__(
        self,
        database: Database,
        reports: ReportService,
        policy_and_rates: ActivePolicyAndRates,
        reservation_days: int = 30,
    ) -> None:
        self.database = database
        self.reports = reports
        self.policy_and_rates = policy_and_rates
        self.reservation_days = reservation_days
        # SQLite has one writer at a time anyway; PostgreSQL works on several shared transactions at once.
        self.writes: GroupCommit[_Pending, _Written, WriteSession] = GroupCommit(
            partial(database.transaction, brief=True),
            self._write,
            name="decision_writes",
            writers=1 if database.is_sqlite else WRITERS,
        )
        # What comes before the report, read for every decision that arrives at the same moment at once.
        # All of it Core statements: a bare connection, no ORM session to set up.
        self.reads: GroupCommit[CustomerIn, _ReadBeforeReport, AsyncConnection] = GroupCommit(
            partial(database.read_connection, brief=True), self._read_before, name="decision_reads", writers=READERS
        )

    async def decide(
        self, request: DecisionRequest, principal: Principal, recorder: Recorder | None = None
    ) -> StoredResponse:
        """Report first (no lock held), then lock the customer, read exposure, decide, reserve and record.

        The write part runs in a transaction shared with other decisions queued at the same moment
        (app/group_commit.py); its answer is sent only once that transaction has committed."""
        started = time.perf_counter()
        order = OrderFacts(
            request.order.id,
            request.order.amount_decimal,
            request.order.currency,
            request.order.payment_terms_days,
        )
        # One read for all that comes before the report: the policy, the customer, the rates, the cached
        # reports. Decisions arriving together share it (one statement per table for all of them).
        before = await self.reads.run(request.customer)
        # The rate the evaluator will convert the small-order threshold at, so both apply the rule alike.
        threshold_rate = rates_used(order.currency, before.rates, (), (before.policy.currency,))
        # The provider is asked before the transaction opens: no lock is ever held across a paid call.
        obtained = await self.reports.obtain(
            before.company,
            buy=self.reports.needs_report(order, before.policy, threshold_rate),
            policy=before.policy,
            stored=before.cached,
        )
        pending = _Pending(request, order, principal, recorder or Recorder(None), before, obtained, started)
        # Queued with the decisions of other requests: they share one transaction, and this one is answered
        # once that transaction has committed it, its reasons and its audit event.
        written = await self.writes.run(pending)
        values, stored = written.values, written.stored
        record_decision(values["outcome"], time.perf_counter() - started)
        # The request's one log line carries the decision. Identifiers only: the customer's name and
        # registration number stay out of the logs.
        bind(
            decision_id=values["id"],
            order_id=values["order_id"],
            customer_id=values["customer_id"],
            outcome=values["outcome"],
        )
        return stored

    async def _read_before(
        self, session: AsyncConnection, customers_in: Sequence[CustomerIn]
    ) -> list[_ReadBeforeReport]:
        policy, rates = await self.policy_and_rates(session)
        masters = await customers.customer_records(session, [customer_in.id for customer_in in customers_in])
        companies = [_company(customer_in, masters.get(customer_in.id)) for customer_in in customers_in]
        stored = await self.reports.stored_reports_of_many(session, [c for c in companies if c is not None])
        return [
            _ReadBeforeReport(
                policy,
                rates,
                company,
                stored.get((company.country, company.number_key), []) if company is not None else [],
                master.parent_id if (master := masters.get(customer_in.id)) is not None else None,
            )
            for customer_in, company in zip(customers_in, companies, strict=True)
        ]

    async def _write(self, session: WriteSession, pending: Sequence[_Pending]) -> list[_Written | Exception]:
        """The decisions queued together, in one transaction and a few statements for all of them.

        Locks first: every customer and the group root it had when read, in one statement in id order, so
        two shared transactions do not wait for each other in a circle; only rows locked after it (customers
        new, or moved to another group, since the read) can make one, and PostgreSQL then aborts one of the
        two, whose decisions run again, each alone. Decisions that touch the same group
        or order are then decided one round after the other, each round reading what the one before wrote;
        the decisions of one round are decided together, as if one after the other.
        """
        now = utcnow()
        locked = await self._lock(session, pending, now)
        answers: list[_Written | Exception | None] = [None] * len(pending)
        order_ids = [item.order.order_id for item in pending]
        # Whose each order is: its reservation's customer, else the customer its latest decision was for (read
        # in the statement that locks the reservations).
        reservations, decided = await orders.lock_reservation_states_with(
            session, order_ids, repository.ORDER_CUSTOMER_ROWS
        )
        owners = {**repository.order_customers(decided), **_reserved_for(reservations)}
        decided_before = set(owners)
        written: list[_Written] = []
        for number, round_ in enumerate(_rounds(pending, locked)):
            if number > 0:  # the round before may have replaced these orders' reservations
                reservations = await orders.lock_reservation_states(
                    session, [pending[i].order.order_id for i in round_]
                )
            deciding: list[int] = []
            for index in round_:
                item = pending[index]
                refusal = undecidable(
                    item.order.order_id, item.customer_id, reservations.get(item.order.order_id), owners
                )
                if refusal is not None:
                    answers[index] = refusal
                else:
                    deciding.append(index)
                    owners[item.order.order_id] = item.customer_id
            decided = await self._decide(session, [pending[i] for i in deciding], locked, reservations, now)
            for index, one in zip(deciding, decided, strict=True):
                answers[index] = one
            written.extend(decided)
        # An order decided again leaves only its latest decision in the review queue (rounds run in order).
        latest = {w.values["order_id"]: w.values["id"] for w in written}
        counts = Counter(w.values["order_id"] for w in written)
        again = {order: decision for order, decision in latest.items() if order in decided_before or counts[order] > 1}
        await repository.close_superseded_cases(session, again)
        # Last: the audit chain's head is locked only from here to the commit.
        await append_many(
            session,
            [
                NewEvent(EventType.DECISION_CREATED, w.values["id"], audit_events.decision_created(w.values), w.actor)
                for w in written
            ],
        )
        return [answer for answer in answers if answer is not None]

    async def _lock(
        self, session: WriteSession, pending: Sequence[_Pending], now: datetime
    ) -> dict[str, CustomerRecord]:
        """The customers' rows, and their group roots' rows, locked until the commit.

        Rows that exist are locked before the orders' master data is written, all in one statement in id
        order; customers new with these orders, and roots a customer moved to since it was read, after it.
        Only what an order adds or changes is written: a customer the ERP keeps, or whose order repeats
        what is stored, costs no write.
        """
        wanted = {item.customer_id for item in pending} | {
            item.before.parent_id for item in pending if item.before.parent_id is not None
        }
        locked = {row.id: row for row in await customers.lock_customer_records(session, wanted)}
        written = [
            _order_customer(item.request.customer)
            for item in pending
            if _order_changes(locked.get(item.customer_id), item.request.customer)
        ]
        await customers.ensure_from_orders(session, written, now)
        new = {item.customer_id for item in pending} - locked.keys()
        if new:
            locked.update((row.id, row) for row in await customers.lock_customer_records(session, new))
        parents = {locked[item.customer_id].parent_id for item in pending}
        moved = {parent for parent in parents if parent is not None} - locked.keys()
        if moved:
            locked.update((row.id, row) for row in await customers.lock_customer_records(session, moved))
        return locked

    async def _decide(
        self,
        session: WriteSession,
        pending: Sequence[_Pending],
        locked: dict[str, CustomerRecord],
        reservations: dict[str, ReservationState],
        now: datetime,
    ) -> list[_Written]:
        """One round: decisions of different groups and orders, read and written together."""
        if not pending:
            return []
        today = now.date()
        deciding = [locked[item.customer_id] for item in pending]
        roots = [group_root(row, locked.get(row.parent_id) if row.parent_id else None) for row in deciding]
        # The payment behaviour only when the policy scores it: the customer's and its group's (customers
        # sharing a parent), whose members are read in the same statement as the groups with a limit.
        scored = [row for item, row in zip(pending, deciding, strict=True) if item.before.policy.behaviour]
        limit_roots = {root.id for root in roots if root is not None}
        groups = await customers.group_members(session, sorted(limit_roots | {behaviour_root(row) for row in scored}))
        behaviour_groups = {row.id: found for row in scored if (found := group_of(row, groups)) is not None}
        counted = {item.customer_id for item in pending} | {
            member for limit_root in limit_roots for member in groups[limit_root]
        }
        # Credit history (credit on earlier orders: never the order being decided, again, itself) is read in the
        # same statement as exposure.
        rows = await customers.exposure_rows(
            session,
            sorted(counted),
            today=today,
            now=now,
            exclude_orders=[item.order.order_id for item in pending],
            also=repository.CREDIT_HISTORY_ROWS,
            also_parameters={"history_ids": sorted({item.customer_id for item in pending})},
        )
        earlier_credit = {row.customer_id for row in rows if row.kind == repository.CREDIT_HISTORY_KIND}
        sums = sums_by_customer(row for row in rows if row.kind != repository.CREDIT_HISTORY_KIND)
        covers = await insurance.cover_records(session, [item.customer_id for item in pending])
        # The trading history only when the policy's discretionary limit asks for it.
        traded = sorted({item.customer_id for item in pending if needs_trading(item.before.policy)})
        history = await customers.trading_history(session, traded, today - timedelta(days=LONG_WINDOW_DAYS))
        # One statement for the ledgers of the round's scored customers and their groups, one for their
        # requests for longer terms (earlier rounds' decisions included: their reasons are written already).
        lines: dict[str, Lines] = {}
        requests: dict[str, list[TermsRequest]] = {}
        if scored:
            ledgers = sorted({row.id for row in scored} | {m for g in behaviour_groups.values() for m in g.members})
            ledger_rows, requests = await behaviour_inputs(session, ledgers, as_of=today)
            lines = lines_by_customer(ledger_rows)
        # Payment arrangements only when the policy weighs them: one statement, more for customers with any.
        arranged = sorted({item.customer_id for item in pending if item.before.policy.arrangements is not None})
        arrangements = (
            await arrangement_inputs(
                session,
                arranged,
                today=today,
                policy=next(i.before.policy for i in pending if i.before.policy.arrangements),
            )
            if arranged
            else None
        )
        decided: list[DecisionRow] = []
        replacements: list[ReservationRow] = []
        for item, root in zip(pending, roots, strict=True):
            customer = locked[item.customer_id]
            order, policy, rates, obtained = item.order, item.before.policy, item.before.rates, item.obtained
            own = in_currency(sums.get(customer.id, ExposureSums()), order.currency, rates, today)
            group = None
            if root is not None:
                members = groups[root.id]
                group = in_currency(
                    combined(sums.get(m, ExposureSums()) for m in members), order.currency, rates, today
                )
            limit_currencies = (customer.limit_currency, root.limit_currency if root is not None else None)
            behaviour = None
            if policy.behaviour is not None:
                behaviour = customer_figures(
                    lines,
                    customer.id,
                    as_of=today,
                    currency=policy.currency,
                    rates=rates,
                    requests=requests,
                    group=behaviour_groups.get(customer.id),
                )
            arrangement_facts, arrangement_rates = None, dict[str, Decimal]()
            if arrangements is not None and policy.arrangements is not None:
                arrangement_facts, arrangement_rates = arrangements.facts(
                    customer.id, currency=order.currency, rates=rates, today=today
                )
            cover = cover_facts(covers.get(customer.id), today)
            inputs = DecisionInputs(
                customer=customer_facts(customer, root, first_order=customer.id not in earlier_credit, now=now),
                report=obtained.facts,
                exposure=exposure_facts(own, group),
                rates={
                    **arrangement_rates,
                    **rates_used(
                        order.currency,
                        rates,
                        (own, group),
                        (
                            policy.currency,
                            obtained.facts.limit_currency,
                            *limit_currencies,
                            cover.currency if cover is not None else None,
                        ),
                    ),
                },
                behaviour=behaviour,
                arrangements=arrangement_facts,
                cover=cover,
                trading=trading_facts(history[customer.id], today) if customer.id in history else None,
            )
            evaluation = evaluate_inputs(order, inputs, policy)
            decided_at = utcnow()
            timings: DecisionTimings = {
                "provider_ms": obtained.provider_ms,
                "total_ms": round((time.perf_counter() - item.started) * 1000, 3),
            }
            values = _row(
                item.request, evaluation, inputs, obtained.snapshot, policy, item.principal, decided_at, timings
            )
            replacement = credit_reservation(
                order_id=values["order_id"],
                customer_id=values["customer_id"],
                decision_id=values["id"],
                currency=values["currency"],
                order_amount_minor=values["amount_minor"],
                approved_minor=values["approved_credit_minor"],
                payment_terms_days=values["payment_terms_days"],
                replaces_existing=order.order_id in reservations,
                at=decided_at,
                days=self.reservation_days,
                vat_minor=_vat_minor(item.request),
            )
            if replacement is not None:
                replacements.append(replacement)
            decided.append(values)
        # Written per round, each with its reason rows (by trigger): a later round's requests for longer terms
        # count this round's.
        await repository.insert_decisions(session, decided)
        taken = {row["order_id"] for row in replacements} - await orders.replace_reservations(session, replacements)
        if taken:
            # Another customer's decision for the same new order committed first (another transaction, or
            # another replica): this transaction rolls back, and deciding again alone refuses the order.
            raise OrderOfAnotherCustomer(f"order {min(taken)} was decided for another customer meanwhile")
        return [
            _Written(
                values, await item.recorder.respond(session, 201, written_decision_out(values)), item.principal.key_id
            )
            for item, values in zip(pending, decided, strict=True)
        ]

    async def get(self, decision_id: str) -> DecisionDetail:
        async with self.database.read() as session:
            row = await repository.get_decision(session, decision_id)
            settled = await repository.settling_reviews(session, [decision_id])
        if row is None:
            raise NotFound(f"no decision {decision_id}")
        return DecisionDetail(
            **decision_out(row, settled.get(decision_id)).model_dump(),
            request=row.request,
            inputs=row.inputs,
            report_snapshot=row.report,
            timings=row.timings,
        )

    async def history(self, filters: DecisionFilters, limit: int, cursor: str | None) -> DecisionPage:
        position = Cursor.decode(cursor) if cursor else None
        async with self.database.read() as session:
            rows = await repository.history_page(session, filters, limit + 1, position)
        page = rows[:limit]
        next_cursor = Cursor(page[-1].decided_at, page[-1].id).encode() if len(rows) > limit else None
        items = [decision_out_from_columns(row._mapping, row.report_inputs, row.report_fetched_at) for row in page]
        return DecisionPage(items=items, next_cursor=next_cursor)

    async def export_csv(self, filters: DecisionFilters) -> StartedExport:
        """The CSV export, started (its heavy-read turn taken, its first chunk read): see `open_decisions_csv`."""
        return await open_decisions_csv(self.database, filters)


def _row(
    request: DecisionRequest,
    evaluation: Evaluation,
    inputs: DecisionInputs,
    snapshot: dict[str, Any] | None,
    policy: PolicyDocument,
    principal: Principal,
    decided_at: datetime,
    timings: DecisionTimings,
) -> DecisionRow:
    currency = request.order.currency
    report = inputs.report
    return {
        "id": str(uuid.uuid4()),
        "order_id": request.order.id,
        "customer_id": request.customer.id,
        "outcome": evaluation.outcome.value,
        "currency": currency,
        "amount_minor": to_minor(request.order.amount_decimal, currency),
        "credit_limit_minor": _storable(evaluation.credit_limit, currency),
        "exposure_minor": _storable(evaluation.exposure, currency),
        "available_credit_minor": _storable(evaluation.available_credit, currency),
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
        "request": stored_request(request),
        "inputs": inputs.to_json(),
        "api_key_id": principal.key_id,
        "decided_at": decided_at,
        "timings": timings,
    }


def stored_request(request: DecisionRequest) -> dict[str, Any]:
    """The request as stored with its decision; one that asks for no terms stores no such key, as before."""
    exclude = {"order": {"payment_terms_days"}} if request.order.payment_terms_days is None else None
    return request.model_dump(mode="json", exclude=exclude)


class FigureOutOfRange(InvalidRequest):
    code, title = "figure_out_of_range", "A figure of the decision is too large for the order's currency"


def _storable(amount: Decimal, currency: str) -> int:
    """Minor units of a derived figure (a limit or exposure converted into the order's currency), which must fit
    the 64 bits every stored amount has: receivables and rates far beyond any real ones could pass them."""
    minor = to_minor(amount, currency)
    if abs(minor) >= 2**63:
        message = f"the customer's limit or exposure in {currency} is too large to decide on in {currency}"
        raise FigureOutOfRange(message, errors=[FieldError(field="order.currency", message=message)])
    return minor


def _vat_minor(request: DecisionRequest) -> int | None:
    order = request.order
    return None if order.vat_amount is None else to_minor(Decimal(order.vat_amount), order.currency)


def _rounds(pending: Sequence[_Pending], locked: dict[str, CustomerRecord]) -> list[list[int]]:
    """Positions of `pending` in rounds: within a round no two share a group (or a customer outside any
    group) or an order, and each comes in a later round than every earlier decision it shares one with."""
    rounds: list[list[int]] = []
    last: dict[str, int] = {}
    for index, item in enumerate(pending):
        customer = locked[item.customer_id]
        keys = ("group:" + (customer.parent_id or customer.id), "order:" + item.order.order_id)
        number = max([0, *(last[key] + 1 for key in keys if key in last)])
        if number == len(rounds):
            rounds.append([])
        rounds[number].append(index)
        for key in keys:
            last[key] = number
    return rounds


def _reserved_for(reservations: dict[str, ReservationState]) -> dict[str, str]:
    return {order_id: reservation.customer_id for order_id, reservation in reservations.items()}


def _order_changes(stored: CustomerRecord | None, customer_in: CustomerIn) -> bool:
    """Whether the order's customer data would change the stored row (`customers.ensure_from_orders`)."""
    if stored is None:
        return True
    if stored.master_data_from != "order":
        return False
    given = {name: getattr(customer_in, name) for name in customers.ORDER_FIELDS}
    return any(value is not None and value != getattr(stored, name) for name, value in given.items())


def _order_customer(customer_in: CustomerIn) -> dict[str, Any]:
    return {"id": customer_in.id, **{name: getattr(customer_in, name) for name in customers.ORDER_FIELDS}}


def _company(customer_in: CustomerIn, master: CustomerRecord | None) -> CompanyQuery | None:
    """Whom to ask the provider about: master data pushed by the ERP wins over what an order says."""
    if master is not None and master.master_data_from == "erp":
        country, number, name = master.country, master.registration_number, master.name
    else:
        country, number, name = customer_in.country, customer_in.registration_number, customer_in.name
    return CompanyQuery(country, number, name) if number else None
