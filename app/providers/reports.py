"""Getting the report a decision needs, within the decision's time budget.

In order: a fresh report from the shared cache; else a purchase from the chain of providers (primary, then
fallbacks while the earlier ones are unavailable); else, when none is available, the newest cached report
however old (stale-if-error); else nothing, and the policy's fallback decides."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from app.db import Database, Reader, utcnow
from app.observability.metrics import record_cache_lookup
from app.policy.facts import OrderFacts, ReportFacts, ReportSource
from app.policy.rules import small_order
from app.policy.schema import PolicyDocument
from app.providers import repository
from app.providers.base import CompanyNotFound, CompanyQuery, CreditReport, CreditReportProvider, ProviderError
from app.providers.counters import CacheHitCounter
from app.providers.insurer_limits import ImportResult, import_insurer_limits
from app.providers.purchase import Purchase, Purchaser
from app.providers.resilience import ProviderGuard
from app.providers.usage import UsagePage, provider_usage

# The share of the decision budget a report may take; the rest is for the decision's own writes.
REPORT_SHARE_OF_BUDGET = 0.8


@dataclass(frozen=True, slots=True)
class ObtainedReport:
    """The report facts the evaluator reads, and the normalised snapshot stored with the decision."""

    facts: ReportFacts
    snapshot: dict[str, Any] | None
    provider_ms: float = 0.0
    paid: bool = False  # this decision bought the report


@dataclass(frozen=True, slots=True)
class _Answer:
    source: ReportSource
    report: CreditReport | None = None
    provider: str | None = None


def report_facts(report: CreditReport, source: str) -> ReportFacts:
    return ReportFacts(
        source=source,  # type: ignore[arg-type]
        risk_class=report.risk_class,
        score=report.score,
        recommended_limit=report.recommended_limit,
        limit_currency=report.limit_currency,
        provider=report.provider,
        reference=report.reference,
    )


class ReportService:
    """Decides whether a report is needed and gets it in bounded time, buying each one at most once."""

    def __init__(
        self,
        providers: CreditReportProvider | Sequence[CreditReportProvider],
        budget_seconds: float,
        *,
        database: Database,
        guard: ProviderGuard,
        stale_max_days: int = 365,
    ) -> None:
        self.providers: tuple[CreditReportProvider, ...] = (
            tuple(providers) if isinstance(providers, Sequence) else (providers,)
        )
        if not self.providers:
            raise ValueError("at least one provider is needed")
        self.budget_seconds = budget_seconds
        self.database = database
        self.guard = guard
        self.stale_max_age = timedelta(days=stale_max_days)
        self.purchaser = Purchaser(database, guard, lease_seconds=budget_seconds + 5)
        self.cache_hits = CacheHitCounter(database)

    @property
    def provider(self) -> CreditReportProvider:
        """The primary provider."""
        return self.providers[0]

    def needs_report(self, order: OrderFacts, policy: PolicyDocument, rates: Mapping[str, Decimal]) -> bool:
        """Orders under the small-order threshold never buy a report (`rates`: order-currency units per unit)."""
        return not small_order(order.amount, order.currency, policy, rates).below

    async def obtain(
        self,
        company: CompanyQuery | None,
        *,
        buy: bool,
        policy: PolicyDocument,
        stored: list[CreditReport] | None = None,
    ) -> ObtainedReport:
        """The best report to be had by the deadline; a cached one is used even when `buy` is false.

        `stored` is what `stored_reports` just read for the company, when the caller read it already."""
        if company is None:
            return ObtainedReport(ReportFacts(source="none"), None)
        loop = asyncio.get_running_loop()
        started = loop.time()
        deadline = started + self.budget_seconds * REPORT_SHARE_OF_BUDGET
        max_age = timedelta(days=policy.reports.max_age_days)
        if stored is None:
            async with self.database.read() as session:
                stored = await self.stored_reports(session, company)
        now = utcnow()
        fresh = next((report for report in stored if now - report.fetched_at < max_age), None)
        if fresh is not None:
            answer = _Answer("cache", fresh)
        elif not buy:
            return ObtainedReport(ReportFacts(source="none"), None, _ms(loop.time() - started))
        else:
            answer = await self._ask_chain(company, deadline, max_age)
            if answer.source == "unavailable":
                answer = self._stale(stored, now) or answer
        if answer.source in ("cache", "stale") and answer.report is not None:
            self.cache_hits.add(answer.report.provider, stale=answer.source == "stale")
        record_cache_lookup("hit" if answer.source == "cache" else "stale" if answer.source == "stale" else "miss")
        return _obtained(answer, _ms(loop.time() - started))

    def breaker_states(self) -> dict[str, str]:
        """Each provider's circuit breaker: closed, half_open or open."""
        return self.guard.breaker_states()

    async def usage(self, day_from: date, day_to: date, provider: str | None) -> UsagePage:
        """Calls, cost and cache hits per provider and day, this replica's latest cache hits included (the
        others' are at most a second behind)."""
        await self.cache_hits.flush()
        return await provider_usage(self.database, day_from, day_to, provider)

    async def import_insurer_limits(
        self, text: str, *, replace: bool = False, actor: str = "csv-import"
    ) -> ImportResult:
        """The credit insurer's limits list from CSV, as covers: all rows or none (see `insurer_limits`)."""
        return await import_insurer_limits(self.database, text, replace=replace, actor=actor)

    async def cached(
        self, session: AsyncSession, company: CompanyQuery | None, policy: PolicyDocument
    ) -> ObtainedReport:
        """What `obtain` answers when no report is bought, read in the caller's session: the fresh cached
        report, else none (a read model asks this, so that its figures are a decision's)."""
        if company is None:
            return ObtainedReport(ReportFacts(source="none"), None)
        return _fresh_or_none(await self.stored_reports(session, company), policy)

    async def cached_of_many(
        self, session: AsyncSession, companies: Sequence[CompanyQuery], policy: PolicyDocument
    ) -> dict[tuple[str, str], ObtainedReport]:
        """`cached` for several companies in one statement, keyed by (country, registration key)."""
        stored = await self.stored_reports_of_many(session, companies)
        return {key: _fresh_or_none(reports, policy) for key, reports in stored.items()}

    async def aclose(self) -> None:
        await self.purchaser.aclose()
        await self.cache_hits.aclose()

    async def stored_reports(self, session: AsyncSession, company: CompanyQuery) -> list[CreditReport]:
        """The newest cached report from each cacheable provider of the chain, primary first."""
        names = [provider.name for provider in self.providers if _cacheable(provider)]
        if not names:
            return []
        snapshots = await repository.latest_snapshots(session, names, company.country, company.number_key)
        return [CreditReport.from_snapshot(snapshots[name]) for name in names if name in snapshots]

    async def stored_reports_of_many(
        self, session: Reader, companies: Sequence[CompanyQuery]
    ) -> dict[tuple[str, str], list[CreditReport]]:
        """`stored_reports` for several companies in one statement, keyed by (country, registration key)."""
        names = [provider.name for provider in self.providers if _cacheable(provider)]
        keys = sorted({(company.country, company.number_key) for company in companies})
        if not names or not keys:
            return {}
        found = await repository.latest_snapshots_of_many(session, names, keys)
        return {
            key: [CreditReport.from_snapshot(snapshots[name]) for name in names if name in snapshots]
            for key, snapshots in found.items()
        }

    async def _ask_chain(self, company: CompanyQuery, deadline: float, max_age: timedelta) -> _Answer:
        loop = asyncio.get_running_loop()
        for position, provider in enumerate(self.providers):
            if self.guard.rejects(provider.name):
                continue  # its breaker is open: no waiting on a provider known to be down
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            if position < len(self.providers) - 1:
                remaining /= 2  # a provider with fallbacks after it leaves them half the time left
            # The purchase ends a little before this caller stops waiting for it, so callers get its
            # outcome (and the breaker has counted it) rather than a timeout of their own.
            purchase_deadline = loop.time() + remaining * 0.95
            try:
                async with asyncio.timeout(remaining):
                    purchase, started_here = await self._purchase(provider, company, purchase_deadline, max_age)
            except TimeoutError:
                continue
            if purchase.report is not None:
                return _Answer("fresh" if purchase.bought and started_here else "cache", purchase.report)
            if purchase.outcome == "not_found":
                # Authoritative: the identity is wrong or unknown; a second paid provider would say the same,
                # and the policy's company_not_found rule sends it to a person who can correct it.
                return _Answer("not_found", provider=provider.name)
        return _Answer("unavailable", provider=self.provider.name)

    async def _purchase(
        self, provider: CreditReportProvider, company: CompanyQuery, deadline: float, max_age: timedelta
    ) -> tuple[Purchase, bool]:
        if _cacheable(provider):
            return await self.purchaser.purchase(provider, company, deadline, max_age)
        # A local, free provider (the insurer's limits): asked every time, nothing to share or count.
        try:
            report = await self.guard.call(provider, company, deadline)
        except CompanyNotFound as exc:
            return Purchase("not_found", detail=str(exc)), True
        except ProviderError as exc:
            return Purchase("unavailable", detail=str(exc)), True
        return Purchase("report", report, bought=True), True

    def _stale(self, stored: list[CreditReport], now: datetime) -> _Answer | None:
        usable = [report for report in stored if now - report.fetched_at < self.stale_max_age]
        if not usable:
            return None
        return _Answer("stale", max(usable, key=lambda report: report.fetched_at))


def _fresh_or_none(stored: list[CreditReport], policy: PolicyDocument) -> ObtainedReport:
    max_age = timedelta(days=policy.reports.max_age_days)
    now = utcnow()
    fresh = next((report for report in stored if now - report.fetched_at < max_age), None)
    if fresh is None:
        return ObtainedReport(ReportFacts(source="none"), None)
    return _obtained(_Answer("cache", fresh), 0.0)


def _cacheable(provider: CreditReportProvider) -> bool:
    return bool(getattr(provider, "cacheable", True))


def _obtained(answer: _Answer, provider_ms: float) -> ObtainedReport:
    if answer.report is None:
        return ObtainedReport(ReportFacts(source=answer.source, provider=answer.provider), None, provider_ms)
    report = answer.report
    return ObtainedReport(report_facts(report, answer.source), report.snapshot(), provider_ms, answer.source == "fresh")


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
