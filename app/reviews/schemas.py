"""Review request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.decisions.schemas import DecisionDetail, DecisionOut
from app.fields import AMOUNT_PATTERN, Text, parse_amount
from app.schemas import Body, Money


class ReviewIn(Body):
    # A reject approves no credit; what accept and prepayment approve depends on the decided order (409).
    model_config = ConfigDict(
        json_schema_extra={
            "if": {"properties": {"outcome": {"const": "reject"}}, "required": ["outcome"]},
            "then": {
                "properties": {"approved_credit_amount": {"anyOf": [{"type": "null"}, {"pattern": r"^0(\.0{1,4})?$"}]}}
            },
        }
    )

    outcome: Literal["accept", "prepayment", "reject"] = Field(
        description="accept: the whole order on credit; prepayment: part or all up front; reject."
    )
    approved_credit_amount: str | None = Field(
        default=None,
        pattern=AMOUNT_PATTERN,
        description="For prepayment: the part on credit (default 0.00, the whole order up front), less than the "
        "order; for accept: the order's amount, if given; for reject: zero, if given. In the order's currency.",
        examples=["500.00"],
    )
    reason: Text = Field(min_length=1, max_length=2000, description="Why: required, kept in the audit trail.")

    @field_validator("approved_credit_amount", mode="before")
    @classmethod
    def _amount(cls, value: object) -> object:
        if value is not None:
            parse_amount(value, None, allow_zero=True)
        return value

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a review needs a reason in words")
        return value.strip()


class ReviewOut(BaseModel):
    id: str
    decision_id: str
    step: int = Field(description="1, or 2 for the second reviewer above the four-eyes amount.")
    final: bool = Field(description="Whether this review settles the case (the reservation follows it).")
    reviewer: str = Field(description="The reviewing API key's id.")
    outcome: Literal["accept", "prepayment", "reject"]
    currency: str
    approved_credit_amount: Money
    prepayment_amount: Money
    reason: str
    reviewed_at: datetime


class ReviewCase(BaseModel):
    decision: DecisionOut
    requested_by: str = Field(description="The id of the API key that asked for the decision: it does not review it.")
    reviews: list[ReviewOut]
    awaiting: Literal["first_review", "second_review"]


class ReviewQueue(BaseModel):
    items: list[ReviewCase]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ReviewedDecision(DecisionDetail):
    """A decision with the reviews appended to it; the decision's own fields never change."""

    reviews: list[ReviewOut]
