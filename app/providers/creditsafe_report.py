"""Creditsafe Connect payloads → creditgate's normalised report.

Only the parts a credit decision reads are modelled (Connect OpenAPI 1.10.4: `CompanyReportResponse`,
`LtdCreditScore`, `CreditRating`, `LtdCompanySummary`, the company search result); everything else in the
payload is kept untouched in the raw copy. A payload that does not fit is a BadProviderResponse."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError

from app.money import minor_units
from app.providers.base import BadProviderResponse, CompanyNotFound, CompanyQuery, CreditReport, payload_hash

PROVIDER = "creditsafe"
# Words in a company status description that mean insolvency proceedings, in the registers Creditsafe covers.
INSOLVENCY_WORDS = re.compile(
    r"insolv|bankrupt|liquidat|receivership|administration|faillis|surseance|konkurs|faillite|redressement",
    re.IGNORECASE,
)


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore")


class _Range(_Part):
    value: str | None = None
    minValue: str | None = None
    maxValue: str | None = None


class _Limit(_Part):
    value: str | None = None
    currency: str | None = None


class _Rating(_Part):
    commonValue: Literal["A", "B", "C", "D", "E"] | None = None
    commonDescription: str | None = None
    creditLimit: _Limit | None = None
    providerValue: _Range | None = None


class _CreditScore(_Part):
    currentCreditRating: _Rating | None = None


class _Status(_Part):
    status: Literal["Active", "NonActive", "Pending", "Other"] | None = None
    description: str | None = None


class _Summary(_Part):
    businessName: str | None = None
    companyRegistrationNumber: str | None = None
    companyStatus: _Status | None = None


class _Report(_Part):
    companyId: str | None = None
    companySummary: _Summary | None = None
    creditScore: _CreditScore | None = None
    paymentData: dict[str, Any] | None = None
    negativeInformation: dict[str, Any] | None = None


class _ReportResponse(_Part):
    companyId: str | None = None
    report: _Report


class _SearchHit(_Part):
    id: str
    name: str | None = None
    regNo: str | None = None
    country: str | None = None


class _SearchResponse(_Part):
    # The "no results" shape has `companies: {}` rather than an empty list.
    companies: list[_SearchHit] | dict[str, Any] | None = None
    totalSize: float | None = None


def connect_id(payload: Any, company: CompanyQuery) -> str:
    """The connectId of the searched company: the hit with the same registration number, else the first."""
    try:
        response = _SearchResponse.model_validate(payload)
    except ValidationError as exc:
        raise BadProviderResponse(f"creditsafe search: {_first_error(exc)}") from None
    hits = response.companies if isinstance(response.companies, list) else []
    if not hits:
        raise CompanyNotFound(f"creditsafe knows no company {company.country}/{company.registration_number}")
    wanted = _plain(company.registration_number)
    exact = [hit for hit in hits if hit.regNo is not None and _plain(hit.regNo) == wanted]
    return (exact or hits)[0].id


def normalise(
    payload: Any, company: CompanyQuery, *, reference: str, cost: Decimal, cost_currency: str
) -> CreditReport:
    """The normalised report; the raw payload is kept whole for audit."""
    if not isinstance(payload, dict):
        raise BadProviderResponse("creditsafe report: the body is not a JSON object")
    try:
        response = _ReportResponse.model_validate(payload)
    except ValidationError as exc:
        raise BadProviderResponse(f"creditsafe report: {_first_error(exc)}") from None
    report = response.report
    summary = report.companySummary or _Summary()
    rating = (report.creditScore or _CreditScore()).currentCreditRating or _Rating()
    status = _status(summary.companyStatus)
    limit, limit_currency = _limit(rating.creditLimit)
    negative = _negative_events(report.negativeInformation)
    if status == "insolvent" and "insolvency" not in negative:
        negative = ("insolvency", *negative)
    return CreditReport(
        provider=PROVIDER,
        reference=_text(report.companyId or response.companyId) or reference,
        country=company.country,
        registration_number=company.registration_number,
        company_name=_text(summary.businessName) or company.name,
        status=status,
        risk_class="insolvent" if status == "insolvent" else rating.commonValue,
        score=_score(rating.providerValue),
        recommended_limit=limit,
        limit_currency=limit_currency,
        days_beyond_terms=_days_beyond_terms(report.paymentData),
        negative_events=negative,
        fetched_at=datetime.now(UTC),
        cost=cost,
        cost_currency=cost_currency,
        raw_hash=payload_hash(payload),
        raw=payload,
    )


def _status(status: _Status | None) -> str:
    if status is None or status.status in (None, "Active"):
        return "active"
    if status.description and INSOLVENCY_WORDS.search(status.description):
        return "insolvent"
    return "inactive"


def _score(value: _Range | None) -> int | None:
    """Creditsafe's own score (a string, with its range) on creditgate's 0–100 scale; None if not numeric."""
    if value is None or value.value is None:
        return None
    number = _decimal(value.value)
    if number is None:
        return None
    low, high = _decimal(value.minValue), _decimal(value.maxValue)
    if low is not None and high is not None and high > low:
        number = (number - low) * 100 / (high - low)
    return max(0, min(100, int(number.to_integral_value())))


def _limit(limit: _Limit | None) -> tuple[Decimal | None, str | None]:
    if limit is None or limit.value is None:
        return None, None
    amount = _decimal(limit.value.replace(",", ""))
    if amount is None or amount < 0:
        return None, None
    currency = limit.currency
    if currency is None:
        return None, None
    try:
        minor_units(currency)
    except ValueError:
        return None, None  # a withdrawn currency (e.g. NLG) cannot be converted: no usable limit
    return amount, currency


def _days_beyond_terms(payment_data: dict[str, Any] | None) -> int | None:
    # Connect names days beyond terms `dbt` (a number) wherever it reports it.
    value = (payment_data or {}).get("dbt")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0, round(value))


def _negative_events(information: dict[str, Any] | None) -> tuple[str, ...]:
    """Sections of the negative information that hold something (a non-empty list or a positive count)."""
    events = []
    for name, value in (information or {}).items():
        if (isinstance(value, list) and value) or (
            isinstance(value, int | float) and not isinstance(value, bool) and value > 0
        ):
            events.append(_snake(name))
    return tuple(sorted(events))


def _decimal(text: str | None) -> Decimal | None:
    if text is None:
        return None
    try:
        number = Decimal(text.strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _text(value: str | None) -> str | None:
    """Text as every database stores it (PostgreSQL refuses NUL characters)."""
    return None if value is None else value.replace("\x00", "")


def _plain(registration_number: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", registration_number).upper()


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


def _first_error(exc: ValidationError) -> str:
    error = exc.errors(include_url=False)[0]
    where = ".".join(str(part) for part in error["loc"]) or "body"
    return f"{where}: {error['msg']}"
