"""Third-party adapters as a deployment would name them in CREDITGATE_PROVIDER (`module:Factory`)."""

from __future__ import annotations

from typing import Any

import httpx

from app.providers.base import CompanyQuery, CreditReport
from app.settings import Settings


class BrokenProvider:
    """An adapter with a bug: it crashes on every call instead of raising a provider error."""

    name = "broken"

    def __init__(self, *, settings: Settings, http: httpx.AsyncClient) -> None:
        self.settings = settings

    async def fetch_report(self, company: CompanyQuery) -> CreditReport:
        payload: dict[str, Any] = {}
        return payload["report"]  # type: ignore[no-any-return]
