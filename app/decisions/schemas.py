"""The decision API's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from app.fields import AMOUNT_PATTERN, Name, parse_amount
from app.money import is_country, minor_units
from app.schema_types import POSITIVE_AMOUNT_PATTERN, CountryCode, CurrencyCode, minor_units_rule

__all__ = ["AMOUNT_PATTERN", "parse_amount"]  # re-exported: every domain's schemas take amounts this way
Identifier = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
Money = Annotated[str, Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", examples=["1250.00"])]
OutcomeName = Literal["accept", "prepayment", "review", "reject"]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)


def check_currency(value: str) -> str:
    minor_units(value)  # ValueError for unknown codes and for currencies without minor units
    return value


class OrderIn(_Body):
    model_config = ConfigDict(json_schema_extra=minor_units_rule("currency", ("amount",)))

    id: Identifier = Field(description="The order's id in the shop or ERP.")
    currency: CurrencyCode
    amount: str = Field(
        pattern=AMOUNT_PATTERN,
        description="Order total as a decimal string in the currency's minor units.",
        examples=["1250.00"],
        json_schema_extra={"pattern": POSITIVE_AMOUNT_PATTERN},
    )

    _currency = field_validator("currency")(check_currency)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any, info: ValidationInfo) -> str:
        parse_amount(value, info.data.get("currency"))
        return str(value)

    @property
    def amount_decimal(self) -> Decimal:
        return Decimal(self.amount)


class CustomerIn(_Body):
    id: Identifier = Field(description="The customer's id in the ERP.")
    name: Name | None = None
    country: CountryCode
    registration_number: str | None = Field(
        default=None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$"
    )

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not is_country(value):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value


class DecisionRequest(_Body):
    order: OrderIn
    customer: CustomerIn


class ReasonOut(BaseModel):
    code: str = Field(description="Stable UPPER_SNAKE code.", examples=["WITHIN_LIMIT"])
    message: str
    rule: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)


class ReportOut(BaseModel):
    provider: str | None
    reference: str | None
    risk_class: str | None
    score: int | None
    source: Literal["fresh", "cache", "stale", "none", "unavailable", "not_found"]
    fetched_at: datetime | None


class DecisionOut(BaseModel):
    id: str
    order_id: str
    customer_id: str
    outcome: OutcomeName
    amount: Money
    currency: str
    credit_limit: Money
    exposure: Money
    available_credit: Money
    approved_credit_amount: Money
    prepayment_amount: Money
    payment_terms_days: int
    risk_class: str
    segment: str
    reasons: list[ReasonOut]
    report: ReportOut
    policy_version: str
    decided_at: datetime


class DecisionDetail(DecisionOut):
    """One decision with the inputs it was taken on."""

    request: dict[str, Any]
    inputs: dict[str, Any]
    report_snapshot: dict[str, Any] | None
    timings: dict[str, Any]


class DecisionPage(BaseModel):
    items: list[DecisionOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")
