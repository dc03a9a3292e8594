"""A monitor pass: refresh old reports within a budget, most exposed first, and act on what changed."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from app.active_policy import ActivePolicy
from app.arrangements.service import arrangement_inputs
from app.audit.service import EventType, append
from app.customers import repository as customers
from app.customers.exposure import ExposureSums, in_currency, sums_by_customer
from app.customers.models import Customer
from app.db import Database, WriteSession, utcnow
from app.decisions import repository as decisions
from app.decisions.inputs import cover_facts, needs_trading, rates_used, trading_facts
from app.insurance import repository as insurance
from app.money import format_minor, to_minor
from app.monitoring import repository
from app.monitoring.changes import Change, CreditFacts, blocks, detect
from app.monitoring.limits import limit_currency, policy_limit
from app.monitoring.models import CustomerCreditState
from app.policy.behaviour import LONG_WINDOW_DAYS
from app.policy.rules import arranged_overdue_check
from app.policy.schema import PolicyDocument, Reports
from app.providers import repository as reports_repository
from app.providers.base import CompanyQuery
from app.providers.reports import ReportService
from app.webhooks.service import enqueue_event

Progress = Callable[[int, int], None]


@dataclass(slots=True)
class PassResult:
    candidates: int = 0
    checked: int = 0
    report_calls: int = 0  # purchases asked of the provider chain: never more than the budget
    skipped_for_budget: int = 0
    changed: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Candidate:
    customer_id: str
    exposure: Decimal
    company: CompanyQuery | None
    flagged: bool  # a provider notification (or a pass short of budget) asked for a fresh report


# Judges the customers' payment arrangements and recomputes their warning signals, in the caller's transaction.
LedgerPass = Callable[[WriteSession, Sequence[str]], Awaitable[Any]]


class MonitorService:
    def __init__(
        self,
        database: Database,
        reports: ReportService,
        active_policy: ActivePolicy,
        recent_days: int,
        ledger_pass: LedgerPass | None = None,
    ) -> None:
        self.database = database
        self.reports = reports
        self.active_policy = active_policy
        self.recent_days = recent_days
        self.ledger_pass = ledger_pass

    async def run_pass(self, budget: int, progress: Progress | None = None) -> PassResult:
        """Customers with exposure or recent orders, most exposed first; at most `budget` report purchases."""
        policy = await self.active_policy()
        refresh_policy = policy.model_copy(update={"reports": Reports(max_age_days=policy.monitoring.max_age_days)})
        candidates = await self._candidates(policy)
        if self.ledger_pass is not None:
            # Time alone breaks an arrangement whose instalment is not paid and moves the behaviour figures:
            # the candidates' arrangements are judged again and their warning signals recomputed.
            async with self.database.transaction() as session:
                await self.ledger_pass(session, [candidate.customer_id for candidate in candidates])
        result = PassResult(candidates=len(candidates))
        for done, candidate in enumerate(candidates, start=1):
            snapshot, due = await self._latest(candidate, policy)
            if due and candidate.company is not None:
                if result.report_calls < budget:
                    result.report_calls += 1
                    obtained = await self.reports.obtain(candidate.company, buy=True, policy=refresh_policy)
                    snapshot = obtained.snapshot or snapshot
                    due = obtained.snapshot is None
                else:
                    result.skipped_for_budget += 1
            if await self.check(candidate.customer_id, snapshot, policy, actor="monitor", refresh_pending=due):
                result.changed.append(candidate.customer_id)
            result.checked += 1
            if progress is not None:
                progress(done, len(candidates))
        return result

    async def check(
        self,
        customer_id: str,
        snapshot: dict[str, Any] | None,
        policy: PolicyDocument,
        *,
        actor: str,
        refresh_pending: bool = False,
    ) -> bool:
        """Compare the customer's facts now with what was last seen; act on changes. True when any."""
        now = utcnow()
        async with self.database.transaction() as session:
            locked = await customers.lock_customers(session, [customer_id])
            if not locked:
                return False
            customer = locked[0]
            state = await repository.get_state(session, customer_id)
            snapshot = _newest(snapshot, state)
            currency = limit_currency(customer, policy)
            rates = await customers.rate_table(session)
            rows = await customers.exposure_rows(session, [customer_id], today=now.date(), now=now)
            own = in_currency(sums_by_customer(rows).get(customer_id, ExposureSums()), currency, rates, now.date())
            # The decision's own stop rule, the tolerance converted into the limit currency as a decision would.
            used = rates_used(currency, rates, (own,), (policy.currency,))
            # Invoices under a kept payment arrangement are out of it, as they are for a decision.
            arranged = await arrangement_inputs(session, [customer_id], today=now.date(), policy=policy)
            facts, arrangement_rates = arranged.facts(customer_id, currency=currency, rates=rates, today=now.date())
            used = {**arrangement_rates, **used}
            check = arranged_overdue_check(own.overdue_amount, own.oldest_overdue_days, facts, currency, policy, used)
            overdue = check.check.beyond
            new = _facts(snapshot, overdue)
            old, old_limit = await _previous(session, state, customer_id, currency)
            changes = detect(old, new, policy.monitoring) if old is not None else []
            root = await customers.group_root_of(session, customer)
            cover = cover_facts(await insurance.get_cover(session, customer_id), now.date())
            trading = None
            if needs_trading(policy):
                since = now.date() - timedelta(days=LONG_WINDOW_DAYS)
                history = await customers.trading_history(session, [customer_id], since)
                trading = trading_facts(history[customer_id], now.date())
            if changes and (customer.blocked or customer.manual_limit_minor is not None):
                # A block or a manual limit set since the last check is the limit in force, which no stored
                # limit knows yet: the evaluator says what it was, on the facts seen before this change.
                before = _as_before(snapshot, old)
                old_limit = to_minor(
                    policy_limit(customer, root, before, own, rates, policy, now, cover, trading), currency
                )
            if changes:
                customer = await self._act(session, customer, changes, policy, actor, now)
            limit = to_minor(policy_limit(customer, root, snapshot, own, rates, policy, now, cover, trading), currency)
            if changes:
                await self._record(session, customer, changes, old_limit, limit, currency, policy, actor, now)
            await repository.save_state(session, _state_row(customer_id, new, snapshot, limit, currency, now))
            if refresh_pending:
                await repository.request_refresh(session, customer_id, now)
            return bool(changes)

    async def _act(
        self,
        session: WriteSession,
        customer: Customer,
        changes: list[Change],
        policy: PolicyDocument,
        actor: str,
        now: datetime,
    ) -> Customer:
        blocking = blocks(changes, policy.monitoring)
        if not blocking or customer.blocked:
            return customer
        reason = "monitoring: " + ", ".join(change.kind for change in blocking)
        await session.execute(
            update(Customer)
            .where(Customer.id == customer.id)
            .values(blocked=True, block_reason=reason[:500], updated_at=now)
        )
        await enqueue_event(
            session, "customer.blocked", {"customer_id": customer.id, "reason": reason, "source": actor}
        )
        (customer,) = await customers.lock_customers(session, [customer.id])
        return customer

    async def _record(
        self,
        session: WriteSession,
        customer: Customer,
        changes: list[Change],
        old_limit: int | None,
        new_limit: int,
        currency: str,
        policy: PolicyDocument,
        actor: str,
        now: datetime,
    ) -> None:
        described = [change.as_dict() for change in changes]
        await enqueue_event(
            session,
            "customer.risk_changed",
            {"customer_id": customer.id, "changes": described, "blocked": customer.blocked, "source": actor},
        )
        limit_changed = old_limit != new_limit
        if limit_changed:
            await repository.add_limit_change(
                session,
                {
                    "customer_id": customer.id,
                    "old_limit_minor": old_limit,
                    "new_limit_minor": new_limit,
                    "currency": currency,
                    "changes": described,
                    "source": actor,
                    "policy_version": policy.version,
                    "actor": actor,
                    "created_at": now,
                },
            )
            await enqueue_event(
                session,
                "customer.limit_changed",
                {
                    "customer_id": customer.id,
                    "old_limit": None if old_limit is None else format_minor(old_limit, currency),
                    "new_limit": format_minor(new_limit, currency),
                    "currency": currency,
                    "changes": described,
                    "policy_version": policy.version,
                    "source": actor,
                },
            )
        audit = {
            "changes": described,
            "old_limit": None if old_limit is None else format_minor(old_limit, currency),
            "new_limit": format_minor(new_limit, currency),
            "currency": currency,
            "blocked": customer.blocked,
            "policy_version": policy.version,
        }
        # Last in the transaction: the audit chain's lock is held only until the commit.
        await append(session, EventType.CUSTOMER_CREDIT_REASSESSED, customer.id, audit, actor)

    async def _candidates(self, policy: PolicyDocument) -> list[_Candidate]:
        now = utcnow()
        async with self.database.read() as session:
            rows = await customers.exposure_rows(session, None, today=now.date(), now=now)
            recent = await repository.recently_decided(session, now - timedelta(days=self.recent_days))
            flagged = set(await repository.refresh_requested(session))
            rates = await customers.rate_table(session)
            sums = sums_by_customer(rows)
            ids = sorted({*sums, *recent, *flagged})
            found = await customers.customers_by_id(session, ids)
        candidates = []
        for customer_id, customer in found.items():
            exposure = in_currency(sums.get(customer_id, ExposureSums()), policy.currency, rates, now.date()).total
            company = (
                CompanyQuery(customer.country, customer.registration_number, customer.name)
                if customer.registration_number
                else None
            )
            candidates.append(_Candidate(customer_id, exposure, company, customer_id in flagged))
        # Flagged customers first (their refresh was asked for or put off), then the most exposed.
        return sorted(candidates, key=lambda c: (not c.flagged, -c.exposure, c.customer_id))

    async def _latest(self, candidate: _Candidate, policy: PolicyDocument) -> tuple[dict[str, Any] | None, bool]:
        """The newest cached report of the customer's company, and whether it is due for a refresh."""
        if candidate.company is None:
            return None, False
        names = [p.name for p in self.reports.providers if getattr(p, "cacheable", True)]
        async with self.database.read() as session:
            stored = await reports_repository.latest_snapshots(
                session, names, candidate.company.country, candidate.company.number_key
            )
            state = await repository.get_state(session, candidate.customer_id)
        snapshot = max(stored.values(), key=lambda s: s["fetched_at"]) if stored else None
        if snapshot is None or (state is not None and state.refresh_requested):
            return snapshot, True
        age = utcnow() - datetime.fromisoformat(snapshot["fetched_at"])
        return snapshot, age >= timedelta(days=policy.monitoring.max_age_days)


async def _previous(
    session: AsyncSession, state: CustomerCreditState | None, customer_id: str, currency: str
) -> tuple[CreditFacts | None, int | None]:
    """What was last seen: the monitoring state, else the report and limit of the latest decision."""
    if state is not None and state.limit_minor is not None:  # a state row only flagged for refresh has no facts
        old = CreditFacts(
            state.risk_class, state.score, state.status, state.days_beyond_terms, state.overdue_beyond_tolerance
        )
        return old, state.limit_minor if state.limit_currency == currency else None
    latest = (await decisions.latest_limits(session, [customer_id])).get(customer_id)
    if latest is None or latest.report is None:
        return None, None
    report = latest.report
    old = CreditFacts(
        report.get("risk_class"), report.get("score"), report.get("status"), report.get("days_beyond_terms")
    )
    return old, latest.credit_limit_minor if latest.currency == currency else None


def _newest(snapshot: dict[str, Any] | None, state: CustomerCreditState | None) -> dict[str, Any] | None:
    """A report no newer than what monitoring already saw (e.g. a provider's pushed rating) is overlaid by it."""
    if snapshot is None or state is None or state.report_fetched_at is None:
        return snapshot
    if datetime.fromisoformat(snapshot["fetched_at"]) > state.report_fetched_at:
        return snapshot
    return {**snapshot, "risk_class": state.risk_class, "score": state.score, "status": state.status}


def _as_before(snapshot: dict[str, Any] | None, old: CreditFacts | None) -> dict[str, Any] | None:
    """The report with the rating facts seen before a change put back."""
    if snapshot is None or old is None:
        return snapshot
    return {**snapshot, "risk_class": old.risk_class, "score": old.score, "status": old.status}


def _facts(snapshot: dict[str, Any] | None, overdue: bool) -> CreditFacts:
    if snapshot is None:
        return CreditFacts(overdue_beyond_tolerance=overdue)
    return CreditFacts(
        snapshot.get("risk_class"),
        snapshot.get("score"),
        snapshot.get("status"),
        snapshot.get("days_beyond_terms"),
        overdue,
    )


def _state_row(
    customer_id: str, facts: CreditFacts, snapshot: dict[str, Any] | None, limit: int, currency: str, now: datetime
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "risk_class": facts.risk_class,
        "score": facts.score,
        "status": facts.status,
        "days_beyond_terms": facts.days_beyond_terms,
        "overdue_beyond_tolerance": facts.overdue_beyond_tolerance,
        "limit_minor": limit,
        "limit_currency": currency,
        "report_provider": snapshot.get("provider") if snapshot else None,
        "report_reference": snapshot.get("reference") if snapshot else None,
        "report_fetched_at": _fetched_at(snapshot, now),
        "refresh_requested": False,
        "checked_at": now,
    }


def _fetched_at(snapshot: dict[str, Any] | None, now: datetime) -> datetime | None:
    if snapshot is None:
        return None
    pushed = snapshot.get("pushed_at")
    return datetime.fromisoformat(pushed) if pushed else datetime.fromisoformat(snapshot["fetched_at"])
