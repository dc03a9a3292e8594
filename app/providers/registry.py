"""Build the configured providers: built-in names, or `package.module:Factory` for a third-party adapter.

CREDITGATE_PROVIDER names one provider or a chain, primary first: `creditsafe,simulated`."""

from __future__ import annotations

import importlib

import httpx

from app.db import Database
from app.providers.base import CreditReportProvider
from app.providers.creditsafe import CreditsafeProvider
from app.providers.instrumented import InstrumentedProvider
from app.providers.insurer_limits import InsurerLimitsProvider
from app.providers.reports import ReportService
from app.providers.resilience import ProviderGuard
from app.providers.simulated import SimulatedProvider
from app.settings import Settings

BUILT_IN = ("simulated", "creditsafe", "insurer_limits")


def build_provider(
    name: str, settings: Settings, http: httpx.AsyncClient, database: Database | None = None
) -> CreditReportProvider:
    if name == "simulated":
        return SimulatedProvider(settings.simulated_latency_ms, settings.simulated_failure_rate)
    if name == "creditsafe":
        return CreditsafeProvider.from_settings(settings, http)
    if name == "insurer_limits":
        if database is None:
            raise ValueError("the insurer_limits provider needs the database")
        return InsurerLimitsProvider(database, settings.insurer_limits_risk_class)
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
        provider: CreditReportProvider = factory(settings=settings, http=http)
        return provider
    raise ValueError(f"unknown provider {name!r}: use one of {', '.join(BUILT_IN)} or 'package.module:Factory'")


def build_chain(settings: Settings, http: httpx.AsyncClient, database: Database) -> list[CreditReportProvider]:
    # Every provider is counted at its boundary (calls, errors, cost), whatever adapter it is.
    providers: list[CreditReportProvider] = [
        InstrumentedProvider(build_provider(name, settings, http, database)) for name in settings.provider_chain
    ]
    names = [provider.name for provider in providers]
    if not providers or len(set(names)) != len(names):
        raise ValueError(f"CREDITGATE_PROVIDER must name one or more different providers, not {settings.provider!r}")
    return providers


def build_report_service(settings: Settings, http: httpx.AsyncClient, database: Database) -> ReportService:
    """The report service with its chain and the resilience rules the settings give."""
    guard = ProviderGuard(
        attempt_timeout_seconds=settings.provider_timeout_ms / 1000,
        retries=settings.provider_retries,
        max_concurrency=settings.provider_max_concurrency,
        breaker_failures=settings.provider_breaker_failures,
        breaker_reset_seconds=settings.provider_breaker_reset_seconds,
    )
    return ReportService(
        build_chain(settings, http, database),
        settings.decision_budget_ms / 1000,
        database=database,
        guard=guard,
        stale_max_days=settings.provider_stale_max_days,
    )
