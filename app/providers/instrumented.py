"""Counting provider calls at the adapter boundary, whatever the configured provider is."""

from __future__ import annotations

import asyncio
import time

from app.observability.metrics import ProviderResult, record_provider_call
from app.providers.base import (
    BadProviderResponse,
    CompanyNotFound,
    CompanyQuery,
    CreditReport,
    CreditReportProvider,
)


class InstrumentedProvider:
    """Wraps a provider: every fetch_report is counted with its result, duration and cost."""

    def __init__(self, inner: CreditReportProvider) -> None:
        self.inner = inner
        self.name = inner.name

    async def fetch_report(self, company: CompanyQuery) -> CreditReport:
        started = time.perf_counter()
        try:
            report = await self.inner.fetch_report(company)
        except BaseException as exc:
            record_provider_call(self.name, _result_of(exc), time.perf_counter() - started)
            raise
        seconds = time.perf_counter() - started
        record_provider_call(self.name, "ok", seconds, float(report.cost), report.cost_currency)
        return report


def _result_of(exc: BaseException) -> ProviderResult:
    if isinstance(exc, CompanyNotFound):
        return "not_found"
    if isinstance(exc, BadProviderResponse):
        return "bad_response"
    if isinstance(exc, TimeoutError | asyncio.CancelledError):
        # The decision's budget ran out while the provider was still answering.
        return "timeout"
    return "unavailable"
