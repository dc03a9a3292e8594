"""The adapter protocol every credit-report provider implements, and the normalised report."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Protocol

import orjson

from app.fields import money_text, utc_text


@dataclass(frozen=True, slots=True)
class CompanyQuery:
    """Who to look up: the identity an order gives for its customer."""

    country: str
    registration_number: str
    name: str | None = None

    @property
    def number_key(self) -> str:
        """The registration number as the cache keys it: "HRB 12345" and "hrb12345" are one company."""
        return registration_key(self.registration_number)


def registration_key(registration_number: str) -> str:
    return re.sub(r"[\s./-]", "", registration_number).upper()


@dataclass(frozen=True, slots=True)
class CreditReport:
    """A provider's report, normalised: every adapter returns this and nothing else."""

    provider: str
    reference: str
    country: str
    registration_number: str
    company_name: str | None
    status: str  # "active", "inactive" or "insolvent"
    risk_class: str | None  # A–E or "insolvent"; None when the provider gives only a score or nothing
    score: int | None  # 0–100
    recommended_limit: Decimal | None
    limit_currency: str | None
    days_beyond_terms: int | None
    negative_events: tuple[str, ...]
    fetched_at: datetime
    cost: Decimal
    cost_currency: str
    raw_hash: str
    raw: dict[str, Any] = field(repr=False, compare=False)

    def snapshot(self) -> dict[str, Any]:
        """The normalised report as stored on a decision (the raw payload only by its hash)."""
        return {
            "provider": self.provider,
            "reference": self.reference,
            "country": self.country,
            "registration_number": self.registration_number,
            "company_name": self.company_name,
            "status": self.status,
            "risk_class": self.risk_class,
            "score": self.score,
            "recommended_limit": (
                None if self.recommended_limit is None else money_text(self.recommended_limit, self.limit_currency)
            ),
            "limit_currency": self.limit_currency,
            "days_beyond_terms": self.days_beyond_terms,
            "negative_events": list(self.negative_events),
            "fetched_at": utc_text(self.fetched_at),
            "cost": money_text(self.cost, self.cost_currency),
            "cost_currency": self.cost_currency,
            "raw_hash": self.raw_hash,
        }

    @classmethod
    def from_snapshot(cls, snapshot: dict[str, Any]) -> CreditReport:
        """A stored snapshot back as a report (without its raw payload, which stays in the cache table)."""
        limit = snapshot.get("recommended_limit")
        return cls(
            provider=snapshot["provider"],
            reference=snapshot["reference"],
            country=snapshot["country"],
            registration_number=snapshot["registration_number"],
            company_name=snapshot.get("company_name"),
            status=snapshot["status"],
            risk_class=snapshot.get("risk_class"),
            score=snapshot.get("score"),
            recommended_limit=None if limit is None else Decimal(limit),
            limit_currency=snapshot.get("limit_currency"),
            days_beyond_terms=snapshot.get("days_beyond_terms"),
            negative_events=tuple(snapshot.get("negative_events", ())),
            fetched_at=datetime.fromisoformat(snapshot["fetched_at"]),
            cost=Decimal(snapshot["cost"]),
            cost_currency=snapshot["cost_currency"],
            raw_hash=snapshot["raw_hash"],
            raw={},
        )


def payload_hash(raw: dict[str, Any]) -> str:
    """SHA-256 over the canonical JSON of a provider payload."""
    return hashlib.sha256(orjson.dumps(raw, option=orjson.OPT_SORT_KEYS)).hexdigest()


class ProviderError(Exception):
    """Base of the few failures an adapter may raise."""


class CompanyNotFound(ProviderError):
    """The provider knows no company with this identity."""


class ProviderUnavailable(ProviderError):
    """Transport failure, timeout, rate limit or server error: try again later or fall back.

    `transient` says whether retrying at once may help (a timeout, a 503, a 429); a refused login or
    an open circuit is not worth a retry within the same decision.
    """

    def __init__(self, message: str, *, transient: bool = True) -> None:
        super().__init__(message)
        self.transient = transient


class CircuitOpen(ProviderUnavailable):
    """The provider failed repeatedly and is not asked until its breaker lets a trial call through."""

    def __init__(self, message: str) -> None:
        super().__init__(message, transient=False)


class BadProviderResponse(ProviderError):
    """The provider answered something that is not a valid report."""


class CreditReportProvider(Protocol):
    """What creditgate needs of a provider: one report for one company.

    A provider may also set `cacheable = False` when its answers are local and free (the insurer's
    limits table): those are asked on every decision and never cached, coalesced or counted as spend.
    """

    name: str

    async def fetch_report(self, company: CompanyQuery) -> CreditReport:
        """Buy (or look up) the company's report; raise one of the ProviderError subclasses on failure."""
        ...
