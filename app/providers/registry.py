"""Build the configured provider: a built-in name, or `package.module:Factory` for a third-party adapter."""

from __future__ import annotations

import importlib

import httpx

from app.providers.base import CreditReportProvider
from app.providers.simulated import SimulatedProvider
from app.settings import Settings


def build_provider(settings: Settings, http: httpx.AsyncClient) -> CreditReportProvider:
    name = settings.provider
    if name == "simulated":
        return SimulatedProvider(settings.simulated_latency_ms, settings.simulated_failure_rate)
    if ":" in name:
        module_name, _, attribute = name.partition(":")
        factory = getattr(importlib.import_module(module_name), attribute)
        provider: CreditReportProvider = factory(settings=settings, http=http)
        return provider
    raise ValueError(f"unknown provider {name!r}: use 'simulated' or 'package.module:Factory'")
