"""The decision API's request and response bodies."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, computed_field, field_validator
from sqlalchemy import RowMapping

from app.decisions.models import Decision, Review
from app.decisions.repository import DecisionRow
from app.fields import AMOUNT_PATTERN, Name, parse_amount
from app.money import format_minor, is_country
from app.policy.facts import NEXT_STEPS, NextStep
from app.schema_types import POSITIVE_AMOUNT_PATTERN, CountryCode, CurrencyCode, json_integer, minor_units_rule
from app.schemas import Body, Identifier, Money, check_currency, vat_within

OutcomeName = Literal["accept", "prepayment", "review", "reject"]
# Bounds before the validator, or the OpenAPI document loses them (app/schema_types.py).
TermsDays = Annotated[int, Field(ge=0, le=365), BeforeValidator(json_integer)]


class OrderIn(Body):
    model_config = ConfigDict(json_schema_extra=minor_units_rule("currency", ("amount",), ("vat_amount",)))

    id: Identifier = Field(description="The order's id in the shop or ERP.")
    currency: CurrencyCode
    amount: str = Field(
        pattern=AMOUNT_PATTERN,
        description="Order total as a decimal string in the currency's minor units.",
        examples=["1250.00"],
        json_schema_extra={"pattern": POSITIVE_AMOUNT_PATTERN},
    )
    payment_terms_days: TermsDays | None = Field(
        default=None,
        description="The payment terms the order asks for, in days. Longer than its segment's terms, the "
        "policy's `longer_terms` grants, caps or refers them; the decision's `payment_terms_days` are those "
        "granted. Absent: the segment's terms.",
    )

    vat_amount: str | None = Field(
        default=None,
        pattern=AMOUNT_PATTERN,
        description="The VAT the amount includes, at most `amount` (optional; a cover may exclude VAT).",
        examples=["216.94"],
    )

    _currency = field_validator("currency")(check_currency)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any, info: ValidationInfo) -> str:
        parse_amount(value, info.data.get("currency"))
        return str(value)

    @field_validator("vat_amount", mode="before")
    @classmethod
    def _vat_amount(cls, value: Any, info: ValidationInfo) -> str | None:
        return vat_within(value, info.data.get("amount"), info.data.get("currency"))

    @property
    def amount_decimal(self) -> Decimal:
        return Decimal(self.amount)


class CustomerIn(Body):
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


class DecisionRequest(Body):
    order: OrderIn
    customer: CustomerIn


class ReasonOut(BaseModel):
    code: str = Field(description="Stable UPPER_SNAKE code.", examples=["WITHIN_LIMIT"])
    message: str
    rule: str | None = None
    facts: dict[str, Any] = Field(default_factory=dict)

    @computed_field(  # type: ignore[prop-decorator]
        description="What the caller can offer next for this reason (e.g. `request_limit_increase` on "
        "`EXCEEDS_AVAILABLE_CREDIT`: POST /v1/limit-requests); null when there is nothing to do."
    )
    @property
    def next_step(self) -> NextStep | None:
        return NEXT_STEPS.get(self.code)


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
    final_outcome: OutcomeName = Field(
        description="The settling review's outcome; the decision's own `outcome` while no review settled it."
    )
    settled_by: str | None = Field(
        description="The id of the API key whose review settled the decision; null while unsettled."
    )
    settled_at: datetime | None = Field(description="When the settling review was recorded; null while unsettled.")

    @computed_field(  # type: ignore[prop-decorator]
        description="The reasons' next steps, each once, in the reasons' order."
    )
    @property
    def next_steps(self) -> list[NextStep]:
        return list(dict.fromkeys(step for reason in self.reasons if (step := reason.next_step) is not None))


class DecisionDetail(DecisionOut):
    """One decision with the inputs it was taken on."""

    request: dict[str, Any]
    inputs: dict[str, Any]
    report_snapshot: dict[str, Any] | None
    timings: dict[str, Any]


class DecisionPage(BaseModel):
    items: list[DecisionOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


def decision_out_from_columns(
    values: Mapping[str, Any] | RowMapping, report_inputs: dict[str, Any], fetched_at: Any
) -> DecisionOut:
    """A decision as the API shows it, from its row's columns, the report's part of its inputs and the
    report snapshot's fetch time; `settled_outcome`, `settled_by` and `settled_at` (the settling review's,
    as `repository.SETTLEMENT_COLUMNS` reads them) are absent or null while no review settled it."""
    currency = values["currency"]
    settled_outcome = values.get("settled_outcome")
    # One validation a decision, the nested reasons and report included (not one a nested model).
    return DecisionOut.model_validate(
        {
            "id": values["id"],
            "order_id": values["order_id"],
            "customer_id": values["customer_id"],
            "outcome": values["outcome"],
            "amount": format_minor(values["amount_minor"], currency),
            "currency": currency,
            "credit_limit": format_minor(values["credit_limit_minor"], currency),
            "exposure": format_minor(values["exposure_minor"], currency),
            "available_credit": format_minor(values["available_credit_minor"], currency),
            "approved_credit_amount": format_minor(values["approved_credit_minor"], currency),
            "prepayment_amount": format_minor(values["prepayment_minor"], currency),
            "payment_terms_days": values["payment_terms_days"],
            "risk_class": values["risk_class"],
            "segment": values["segment"],
            "reasons": values["reasons"],
            "report": {
                "provider": report_inputs["provider"],
                "reference": report_inputs["reference"],
                "risk_class": report_inputs["risk_class"],
                "score": report_inputs["score"],
                "source": values["report_source"],
                "fetched_at": fetched_at,
            },
            "policy_version": values["policy_version"],
            "decided_at": values["decided_at"],
            "final_outcome": settled_outcome or values["outcome"],
            "settled_by": values.get("settled_by") if settled_outcome else None,
            "settled_at": values.get("settled_at") if settled_outcome else None,
        }
    )


def written_decision_out(values: DecisionRow) -> DecisionOut:
    """A decision as the API shows it, from the values the decision path has just inserted."""
    return decision_out_from_columns(values, values["inputs"]["report"], (values["report"] or {}).get("fetched_at"))


def decision_out(row: Decision, settled_by: Review | None = None) -> DecisionOut:
    """A stored decision as the API shows it, with the review that settled it, if any."""
    settlement = (
        {}
        if settled_by is None
        else {
            "settled_outcome": settled_by.outcome,
            "settled_by": settled_by.reviewer,
            "settled_at": settled_by.reviewed_at,
        }
    )
    return decision_out_from_columns(
        {**{column.key: getattr(row, column.key) for column in Decision.__table__.columns}, **settlement},
        row.inputs["report"],
        (row.report or {}).get("fetched_at"),
    )
