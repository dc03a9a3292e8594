"""Request and response bodies for covers: what an insurer granted on a buyer, and its history."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator, model_validator

from app.errors import CrossFieldError
from app.fields import AMOUNT_PATTERN, Name, Text, parse_amount
from app.schema_types import CurrencyCode, IsoDate, minor_units_rule
from app.schemas import Body, Money, check_currency

CoverStatus = Literal["active", "suspended", "withdrawn"]
CoverSource = Literal["csv", "api", "manual", "insurer"]
Reference = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._:/-]*$")]
PERCENTAGE_PATTERN = r"^(100(\.0{1,2})?|[0-9]{1,2}(\.[0-9]{1,2})?)$"
_PERCENTAGE = re.compile(PERCENTAGE_PATTERN)


def parse_percentage(value: Any) -> Decimal:
    """A coverage percentage as sent: a decimal string above 0 and at most 100, two decimals at most."""
    if not isinstance(value, str) or not _PERCENTAGE.fullmatch(value):
        raise ValueError('must be a percentage from "0.01" to "100", as a decimal string with 2 decimals at most')
    percentage = Decimal(value)
    if percentage <= 0:
        raise ValueError("must be above 0")
    return percentage


def basis_points(percentage: Decimal) -> int:
    return int(percentage * 100)


def percentage_text(points: int) -> str:
    return str((Decimal(points) / 100).quantize(Decimal("0.01")))


class CoverIn(Body):
    """A cover as the credit manager records it; a PUT replaces the cover and keeps the old one in the history."""

    model_config = ConfigDict(json_schema_extra=minor_units_rule("currency", ("amount",)))

    insurer: Name = Field(max_length=64, description="The credit insurer, e.g. Atradius.")
    policy_number: Reference | None = Field(default=None, description="The seller's insurance policy.")
    buyer_reference: Reference = Field(description="The insurer's reference of the buyer (or of the limit).")
    currency: CurrencyCode
    amount: str = Field(
        pattern=AMOUNT_PATTERN, description="The insured amount (the cover, or limit).", examples=["50000.00"]
    )
    coverage_percentage: str = Field(
        default="100",
        description="The share of a loss on the covered amount the insurer pays, 0.01 to 100.",
        examples=["90"],
        json_schema_extra={"pattern": PERCENTAGE_PATTERN},
    )
    excludes_vat: StrictBool = Field(default=False, description="The cover protects amounts net of VAT only.")
    valid_from: IsoDate
    valid_to: IsoDate | None = Field(default=None, description="Last day in force, inclusive; none: open-ended.")
    conditions: Annotated[Text, Field(max_length=2000)] | None = Field(
        default=None, description="The insurer's conditions, in words."
    )
    status: CoverStatus = "active"
    source: Literal["api", "manual"] = Field(
        default="api", description="api: an integration sent it; manual: a person typed it in."
    )

    _currency = field_validator("currency")(check_currency)

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any, info: ValidationInfo) -> str:
        parse_amount(value, info.data.get("currency"), allow_zero=True)
        return str(value)

    @field_validator("coverage_percentage", mode="before")
    @classmethod
    def _percentage(cls, value: Any) -> str:
        parse_percentage(value)
        return str(value)

    @model_validator(mode="after")
    def _period(self) -> CoverIn:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise CrossFieldError("valid_to", "is before valid_from")
        return self


class CoverOut(BaseModel):
    customer_id: str
    insurer: str | None
    policy_number: str | None
    buyer_reference: str
    amount: Money
    currency: str
    coverage_percentage: str
    excludes_vat: bool
    valid_from: date
    valid_to: date | None
    conditions: str | None
    status: CoverStatus
    source: CoverSource
    in_force: bool = Field(description="Active, and today (UTC) within valid_from and valid_to.")
    version: int = Field(description="1 for the first cover, one more for each change.")
    updated_at: datetime
    updated_by: str = Field(description="The key id that wrote it, or `csv-import`.")


class CoverVersionOut(BaseModel):
    version: int
    recorded_at: datetime
    recorded_by: str
    source: CoverSource
    cover: dict[str, Any] = Field(description="The cover as it was written in this version.")


class CoverHistory(BaseModel):
    customer_id: str
    items: list[CoverVersionOut] = Field(description="Newest first.")
