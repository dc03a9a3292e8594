"""Order events and the reservation they act on."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from app.fields import AMOUNT_PATTERN, Text, parse_amount
from app.schema_types import POSITIVE_AMOUNT_PATTERN, IsoDate
from app.schemas import Body, Identifier, Money


class ShippedEvent(Body):
    type: Literal["shipped"]


class InvoicedEvent(Body):
    type: Literal["invoiced"]
    invoice_id: Identifier = Field(description="The invoice that now carries the order's amount.")
    issue_date: IsoDate | None = Field(default=None, description="Default: today.")
    due_date: IsoDate | None = Field(default=None, description="Default: issue date + the decision's payment terms.")


class CancelledEvent(Body):
    type: Literal["cancelled"]
    reason: Text | None = Field(default=None, max_length=500)


class AmendedEvent(Body):
    type: Literal["amended"]
    amount: str = Field(
        pattern=AMOUNT_PATTERN,
        description="The order's new total, in the order's currency (at most its decimals).",
        examples=["900.00"],
        json_schema_extra={"pattern": POSITIVE_AMOUNT_PATTERN},
    )

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> str:
        parse_amount(value, None)
        return str(value)


OrderEvent = Annotated[ShippedEvent | InvoicedEvent | CancelledEvent | AmendedEvent, Field(discriminator="type")]
ReservationStatus = Literal["active", "shipped", "invoiced", "cancelled", "expired", "released"]


class ReservationOut(BaseModel):
    order_id: str
    customer_id: str
    decision_id: str
    status: ReservationStatus
    currency: str
    order_amount: Money
    approved_credit_amount: Money
    reserved_amount: Money = Field(description="What counts towards exposure now: zero unless active or shipped.")
    invoice_id: str | None
    expires_at: datetime
    updated_at: datetime
