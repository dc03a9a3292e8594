"""Getting the report a decision needs, within the decision's time budget."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.policy.facts import ReportFacts
from app.policy.schema import PolicyDocument
from app.providers.base import (
    BadProviderResponse,
    CompanyNotFound,
    CompanyQuery,
    CreditReport,
    CreditReportProvider,
    ProviderUnavailable,
)


@dataclass(frozen=True, slots=True)
class ObtainedReport:
    """The report facts the evaluator reads, and the normalised snapshot stored with the decision."""

    facts: ReportFacts
    snapshot: dict[str, Any] | None
    provider_ms: float = 0.0


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
    """Decides whether a report is needed and gets it in bounded time."""

    def __init__(self, provider: CreditReportProvider, budget_seconds: float) -> None:
        self.provider = provider
        self.budget_seconds = budget_seconds

    def needs_report(self, amount_in_policy_currency: Decimal | None, policy: PolicyDocument) -> bool:
        """Orders under the small-order threshold never buy a report."""
        return amount_in_policy_currency is None or amount_in_policy_currency >= policy.small_orders.threshold

    async def obtain(self, company: CompanyQuery | None, *, buy: bool, policy: PolicyDocument) -> ObtainedReport:
        if company is None or not buy:
            return ObtainedReport(ReportFacts(source="none"), None)
        loop = asyncio.get_running_loop()
        started = loop.time()
        try:
            async with asyncio.timeout(self.budget_seconds):
                report = await self.provider.fetch_report(company)
        except CompanyNotFound:
            return ObtainedReport(
                ReportFacts(source="not_found", provider=self.provider.name), None, _ms(loop.time() - started)
            )
        except (ProviderUnavailable, BadProviderResponse, TimeoutError):
            return ObtainedReport(
                ReportFacts(source="unavailable", provider=self.provider.name),
                None,
                _ms(loop.time() - started),
            )
        return ObtainedReport(report_facts(report, "fresh"), report.snapshot(), _ms(loop.time() - started))


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 3)
