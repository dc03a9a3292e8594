"""Request and response bodies of payment arrangements."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator

from app.fields import AMOUNT_PATTERN, Text, parse_amount
from app.schema_types import POSITIVE_AMOUNT_PATTERN, IsoDate
from app.schemas import Body, Identifier, Money

MAX_INVOICES = 100
MAX_INSTALMENTS = 60
ArrangementKind = Literal["promise", "instalments"]
ArrangementStatusOut = Literal["kept", "broken", "fulfilled", "cancelled"]
PositiveAmount = Annotated[
    str, Field(pattern=AMOUNT_PATTERN, examples=["500.00"], json_schema_extra={"pattern": POSITIVE_AMOUNT_PATTERN})
]


class InstalmentIn(Body):
    due_date: IsoDate = Field(description="Today or later; after the instalment before it.")
    amount: PositiveAmount = Field(description="In the invoices' currency.")

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> str:
        parse_amount(value, None)  # the invoices' currency's decimals are checked against the stored invoices
        return str(value)


class ArrangementIn(Body):
    """A promise to pay (one instalment) or an instalment plan for open invoices of one currency.

    The instalments add up to what the invoices owe today; each is due after the one before."""

    kind: ArrangementKind
    invoice_ids: list[Identifier] = Field(min_length=1, max_length=MAX_INVOICES)
    instalments: list[InstalmentIn] = Field(min_length=1, max_length=MAX_INSTALMENTS)
    reference: Annotated[Text, Field(min_length=1, max_length=200)] | None = Field(
        default=None, description="The ERP's or the credit manager's reference for it."
    )


class CancelIn(Body):
    reason: Annotated[Text, Field(min_length=1, max_length=500)]


class InstalmentOut(BaseModel):
    number: int
    due_date: date
    amount: Money


class ArrangedInvoiceOut(BaseModel):
    invoice_id: str
    open_amount_agreed: Money = Field(description="What it owed at the start of the day the arrangement was agreed.")
    open_amount: Money


class ArrangementOut(BaseModel):
    id: str
    customer_id: str
    kind: ArrangementKind
    status: ArrangementStatusOut = Field(
        description="As of today: kept (on track), broken (an instalment not paid within the grace), "
        "fulfilled (all paid) or cancelled."
    )
    currency: str
    total: Money
    paid: Money = Field(description="Paid on its invoices since the day it was agreed.")
    due_so_far: Money = Field(description="What had to be paid by now: instalments whose grace has ended.")
    agreed_on: date
    grace_days: int = Field(description="The active policy's `arrangements.grace_days` it was judged with.")
    broken_on: date | None
    missed_instalment: int | None
    next_due_date: date | None
    invoices: list[ArrangedInvoiceOut]
    instalments: list[InstalmentOut]
    reference: str | None
    created_by: str
    created_at: datetime
    cancelled_by: str | None
    cancel_reason: str | None


class ArrangementsOut(BaseModel):
    arrangements: list[ArrangementOut]
