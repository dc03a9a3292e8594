"""Request and response bodies for customers, invoices, payments and exchange rates."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator

from app.fields import AMOUNT_PATTERN, RATE_PATTERN, Name, Text, parse_amount, parse_rate
from app.money import is_country
from app.schema_types import (
    POSITIVE_AMOUNT_PATTERN,
    RATE_SCHEMA,
    CountryCode,
    CurrencyCode,
    IsoDate,
    IsoDateTime,
    json_integer,
    minor_units_rule,
)
from app.schemas import Body, Identifier, Money, check_currency, vat_within

Currency = CurrencyCode
PaymentTermsDays = Annotated[int, Field(ge=0, le=365), BeforeValidator(json_integer)]
Reason = Annotated[Text, Field(min_length=1, max_length=500)]
Amount = Annotated[str, Field(pattern=AMOUNT_PATTERN, examples=["1250.00"])]
PositiveAmount = Annotated[Amount, Field(json_schema_extra={"pattern": POSITIVE_AMOUNT_PATTERN})]
Rate = Annotated[str, Field(pattern=RATE_PATTERN, examples=["1.0850"], json_schema_extra=RATE_SCHEMA)]


class ManualLimitIn(Body):
    amount: Amount = Field(description="In the customer's limit currency.", examples=["20000.00"])
    reason: Reason
    expires_at: IsoDateTime | None = Field(default=None, description="RFC 3339; the override ends then.")

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> str:
        parse_amount(value, None, allow_zero=True)
        return str(value)


class CreditBlockIn(Body):
    reason: Reason


class CustomerMasterData(Body):
    """What the ERP knows of a customer; a PUT replaces all of it."""

    model_config = ConfigDict(
        json_schema_extra=minor_units_rule(
            "limit_currency", ("manual_limit", "amount"), ("group_limit",), required_with_amounts=True
        )
    )

    name: Name | None = None
    country: CountryCode
    registration_number: str | None = Field(
        default=None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ./-]*$"
    )
    segment: str | None = Field(default=None, description="One of the credit policy's segments.")
    parent_id: Identifier | None = Field(default=None, description="The group's root customer.")
    limit_currency: Currency | None = Field(default=None, description="Currency of the limits; needed with one.")
    manual_limit: ManualLimitIn | None = None
    group_limit: Amount | None = Field(
        default=None, description="On a group's root: the limit of the whole group.", examples=["100000.00"]
    )
    credit_block: CreditBlockIn | None = None
    payment_terms_days: PaymentTermsDays | None = None

    @field_validator("country")
    @classmethod
    def _country(cls, value: str) -> str:
        if not is_country(value):
            raise ValueError(f"{value!r} is not an ISO 3166-1 alpha-2 country code")
        return value

    @field_validator("limit_currency")
    @classmethod
    def _limit_currency(cls, value: str | None) -> str | None:
        return None if value is None else check_currency(value)

    @field_validator("manual_limit")
    @classmethod
    def _manual_limit(cls, value: ManualLimitIn | None, info: ValidationInfo) -> ManualLimitIn | None:
        if value is not None:
            _in_limit_currency(value.amount, info)
        return value

    @field_validator("group_limit", mode="before")
    @classmethod
    def _group_limit(cls, value: Any, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        parse_amount(value, None, allow_zero=True)
        _in_limit_currency(str(value), info)
        return str(value)


def _in_limit_currency(amount: str, info: ValidationInfo) -> None:
    currency = info.data.get("limit_currency")
    if currency is None:
        if "limit_currency" in info.data:
            raise ValueError("give limit_currency with a limit")
        return  # limit_currency itself is invalid and reported
    parse_amount(amount, currency, allow_zero=True)


class ManualLimitOut(BaseModel):
    amount: Money
    reason: str | None
    expires_at: datetime | None
    active: bool


class CustomerOut(BaseModel):
    id: str
    name: str | None
    country: str
    registration_number: str | None
    segment: str | None
    parent_id: str | None
    limit_currency: str | None
    manual_limit: ManualLimitOut | None
    group_limit: Money | None
    credit_block: CreditBlockIn | None
    payment_terms_days: int | None
    master_data_from: str = Field(description='"erp" once the ERP pushed master data; "order" before.')
    created_at: datetime
    updated_at: datetime


class InvoiceIn(Body):
    model_config = ConfigDict(
        json_schema_extra=minor_units_rule("currency", ("amount",), ("open_amount",), ("vat_amount",))
    )

    currency: Currency
    amount: PositiveAmount
    open_amount: Amount = Field(
        description="What is still owed; zero when paid; at most `amount`.", examples=["1250.00"]
    )
    issue_date: IsoDate
    due_date: IsoDate
    order_id: Identifier | None = Field(default=None, description="Ends the order's reservation: it is invoiced.")
    vat_amount: Amount | None = Field(
        default=None,
        description="The VAT `amount` includes, at most `amount`; a cover that excludes VAT protects the rest.",
        examples=["216.94"],
    )

    _check_currency = field_validator("currency")(check_currency)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any, info: ValidationInfo) -> str:
        parse_amount(value, info.data.get("currency"))
        return str(value)

    @field_validator("open_amount", mode="before")
    @classmethod
    def _open_amount(cls, value: Any, info: ValidationInfo) -> str:
        open_amount = parse_amount(value, info.data.get("currency"), allow_zero=True)
        amount = info.data.get("amount")
        if amount is not None and open_amount > parse_amount(amount, None):
            raise ValueError("must not exceed the invoice amount")
        return str(value)

    @field_validator("vat_amount", mode="before")
    @classmethod
    def _vat_amount(cls, value: Any, info: ValidationInfo) -> str | None:
        return vat_within(value, info.data.get("amount"), info.data.get("currency"))

    @field_validator("due_date")
    @classmethod
    def _due_date(cls, value: date, info: ValidationInfo) -> date:
        issue_date = info.data.get("issue_date")
        if issue_date is not None and value < issue_date:
            raise ValueError("must not be before the issue date")
        return value


class BatchInvoiceIn(InvoiceIn):
    customer_id: Identifier
    invoice_id: Identifier


class ReceivablesBatch(Body):
    invoices: list[BatchInvoiceIn] = Field(min_length=1)


class InvoiceOut(BaseModel):
    customer_id: str
    invoice_id: str
    currency: str
    amount: Money
    open_amount: Money
    issue_date: date
    due_date: date
    order_id: str | None
    vat_amount: Money | None
    overdue_days: int = Field(description="Days past the due date while anything is open; 0 otherwise.")
    updated_at: datetime


class BatchResult(BaseModel):
    invoices: int
    created: int
    updated: int


class PaymentIn(Body):
    id: Identifier = Field(description="The payment's id in the ERP; unique per customer.")
    amount: PositiveAmount = Field(description="In the invoice's currency.", examples=["250.00"])
    paid_on: IsoDate

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> str:
        parse_amount(value, None)  # the invoice's currency's decimals are checked against the stored invoice
        return str(value)


class PaymentOut(BaseModel):
    payment_id: str
    amount: Money
    currency: str
    paid_on: date
    invoice: InvoiceOut


class RatesIn(Body):
    base: Currency
    rates: dict[Currency, Rate] = Field(
        min_length=1, description="Units of each currency per one unit of base.", examples=[{"USD": "1.0850"}]
    )
    as_of: IsoDate | None = None

    _base = field_validator("base")(check_currency)

    @field_validator("rates", mode="before")
    @classmethod
    def _rates(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, dict):
            return value  # the type check names it
        for currency, rate in value.items():
            if len(currency) == 3 and currency.isupper():
                check_currency(currency)  # any other key fails its pattern
            if currency == info.data.get("base"):
                raise ValueError(f"{currency}: a currency has no rate to itself")
            try:
                parse_rate(rate)
            except ValueError as exc:
                raise ValueError(f"{currency}: {exc}") from None
        return value


class RateOut(BaseModel):
    base: str
    quote: str
    rate: str
    as_of: date | None
    updated_at: datetime


class RatesOut(BaseModel):
    rates: list[RateOut]


LimitSource = Literal["report", "policy", "manual", "request", "monitoring"]


class LimitChangeOut(BaseModel):
    id: str
    source: LimitSource = Field(
        description="What changed the limit: `report` (a provider pushed a new rating), `monitoring` (the monitor "
        "reassessed on a new report), `manual` (the ERP's master data or a credit manager in the console), "
        "`request` (an approved limit request)."
    )
    origin: str = Field(description="Where exactly: `monitor`, `provider:<name>`, `erp`, `console`, `request`.")
    actor: str | None = Field(description="The key id (or process) that made the change.")
    changed_at: datetime
    old_limit: Money | None = Field(description="The limit before (null: none of this kind was set).")
    new_limit: Money | None = Field(description="The limit after (null: cleared, the policy's limit applies).")
    currency: str
    changes: list[dict[str, Any]] = Field(
        description="What changed: for manual changes and requests `{field, old, new}` with `field` one of "
        "`manual_limit`, `group_limit`, `temporary_uplift` (with `starts_at`, `ends_at`), "
        "`manual_limit_expires_at`; from monitoring the report changes `{kind, old, new}`."
    )
    reason: str | None
    request_id: str | None = Field(description="The approved limit request, when one made the change.")
    policy_version: str | None


class LimitHistoryOut(BaseModel):
    customer_id: str
    items: list[LimitChangeOut] = Field(description="Newest first.")
