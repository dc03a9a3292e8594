"""The embedded provider: deterministic reports from the registration number, no network.

The last digit of the registration number gives the class: 0–1 A, 2–3 B, 4–5 C, 6–7 D, 8 E, 9 insolvent.
All zeros is a company the provider does not know. Score and recommended limit follow the class and are
stable for the same number.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from app.providers.base import (
    CompanyNotFound,
    CompanyQuery,
    CreditReport,
    ProviderUnavailable,
    payload_hash,
)

# class → (lowest score, highest score, recommended limit in EUR at the lowest score)
CLASS_BANDS: dict[str, tuple[int, int, int]] = {
    "A": (80, 100, 50_000),
    "B": (60, 79, 25_000),
    "C": (40, 59, 10_000),
    "D": (20, 39, 5_000),
    "E": (5, 19, 1_000),
    "insolvent": (0, 4, 0),
}
DIGIT_TO_CLASS = "AABBCCDDE"  # index by last digit; 9 is insolvent
REPORT_COST = Decimal("9.50")


def simulated_class(registration_number: str) -> str:
    digits = [c for c in registration_number if c.isdigit()]
    last = int(digits[-1]) if digits else 0
    return "insolvent" if last == 9 else DIGIT_TO_CLASS[last]


class SimulatedProvider:
    """Deterministic reports; optional latency and failure rate for demos and tests."""

    name = "simulated"

    def __init__(self, latency_ms: int = 0, failure_rate: float = 0.0, seed: int | None = None) -> None:
        self.latency_ms = latency_ms
        self.failure_rate = failure_rate
        self._random = random.Random(seed)  # noqa: S311 - simulated faults, not security

    async def fetch_report(self, company: CompanyQuery) -> CreditReport:
        if self.latency_ms:
            await asyncio.sleep(self.latency_ms / 1000)
        if self.failure_rate and self._random.random() < self.failure_rate:
            raise ProviderUnavailable("simulated provider failure")
        number = company.registration_number
        if not number.strip("0 "):
            raise CompanyNotFound(f"no company {company.country}/{number}")
        raw = simulated_payload(company)
        return CreditReport(
            provider=self.name,
            reference=raw["reference"],
            country=company.country,
            registration_number=number,
            company_name=company.name,
            status=raw["status"],
            risk_class=raw["rating"],
            score=raw["score"],
            recommended_limit=Decimal(raw["recommended_limit"]),
            limit_currency="EUR",
            days_beyond_terms=raw["days_beyond_terms"],
            negative_events=tuple(raw["negative_events"]),
            fetched_at=datetime.now(UTC),
            cost=REPORT_COST,
            cost_currency="EUR",
            raw_hash=payload_hash(raw),
            raw=raw,
        )


def simulated_payload(company: CompanyQuery) -> dict[str, Any]:
    """The simulated provider's own payload: stable for the same country and registration number."""
    risk_class = simulated_class(company.registration_number)
    low, high, base_limit = CLASS_BANDS[risk_class]
    digest = hashlib.sha256(f"{company.country}:{company.registration_number}".encode()).digest()
    position = digest[0] / 255  # 0..1, stable per company
    score = low + round(position * (high - low))
    limit = Decimal(base_limit) * (1 + Decimal(digest[1] % 100) / 100)
    insolvent = risk_class == "insolvent"
    return {
        "reference": "SIM-" + digest[2:8].hex().upper(),
        "status": "insolvent" if insolvent else "active",
        "rating": risk_class,
        "score": score,
        "recommended_limit": str(limit.quantize(Decimal("1000")) if limit else Decimal("0")),
        "days_beyond_terms": {"A": 0, "B": 2, "C": 7, "D": 15, "E": 35, "insolvent": 90}[risk_class],
        "negative_events": ["insolvency_proceedings"] if insolvent else [],
    }
