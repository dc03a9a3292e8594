"""Request and response bodies of limit requests."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from app.errors import CrossFieldError
from app.fields import AMOUNT_PATTERN, Text, parse_amount
from app.schema_types import CurrencyCode, IsoDateTime
from app.schemas import Body, Identifier, Money

RequestReason = Annotated[Text, Field(min_length=1, max_length=2000)]
RequestStatus = Literal["pending", "approved", "refused", "expired"]


class LimitRequestIn(Body):
    customer_id: Identifier = Field(description="The customer; for `target: group`, the group's root customer.")
    kind: Literal["standing", "temporary"] = Field(
        default="standing",
        description="standing: a new limit that replaces the manual (or group) limit; temporary: an uplift added "
        "to the standing limit from `starts_at` until `ends_at`, which ends by itself.",
    )
    target: Literal["customer", "group"] = Field(
        default="customer", description="customer: the customer's own limit; group: its group's limit (root only)."
    )
    amount: str = Field(
        pattern=AMOUNT_PATTERN,
        description="standing: the proposed limit (0 allowed); temporary: the uplift, more than 0.",
        examples=["20000.00"],
    )
    currency: CurrencyCode | None = Field(
        default=None,
        description="The currency of the amount: the customer's limit currency when it has one (another is 409), "
        "else this, else the policy's.",
    )
    starts_at: IsoDateTime | None = Field(default=None, description="temporary only: from when (default: approval).")
    ends_at: IsoDateTime | None = Field(default=None, description="temporary only, required: until when.")
    reason: RequestReason = Field(description="Why: kept with the request and in the audit trail.")
    valid_until: IsoDateTime | None = Field(
        default=None,
        description="The request lapses if undecided by then; default and longest: the policy's "
        "`limits.request_valid_days` from now.",
    )

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any) -> Any:
        parse_amount(value, None, allow_zero=True)
        return value

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give the reason in words")
        return value.strip()

    @model_validator(mode="after")
    def _period(self) -> LimitRequestIn:
        if self.kind == "standing" and (self.starts_at is not None or self.ends_at is not None):
            raise CrossFieldError("starts_at" if self.starts_at is not None else "ends_at", "for kind temporary only")
        if self.kind == "temporary":
            if self.ends_at is None:
                raise CrossFieldError("ends_at", "a temporary uplift needs ends_at")
            if self.starts_at is not None and self.starts_at >= self.ends_at:
                raise CrossFieldError("ends_at", "must be after starts_at")
            if self.target == "group":
                raise CrossFieldError("target", "a temporary uplift is on a customer's own limit: use target customer")
        return self


class LimitReviewIn(Body):
    outcome: Literal["approve", "refuse"]
    reason: RequestReason = Field(description="Why: required, kept in the audit trail.")

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("give the reason in words")
        return value.strip()


class LimitReviewOut(BaseModel):
    request_id: str
    step: int = Field(description="1, or 2 for the second reviewer above the four-eyes amount.")
    reviewer: str = Field(description="The reviewing key's id.")
    outcome: Literal["approve", "refuse"]
    final: bool = Field(description="Whether this review decided the request.")
    reason: str
    reviewed_at: datetime


class LimitRequestOut(BaseModel):
    id: str
    customer_id: str
    kind: Literal["standing", "temporary"]
    target: Literal["customer", "group"]
    amount: Money
    currency: str
    current_limit: Money | None = Field(
        description="The manual (or group) limit, or the uplift, the request would replace, when one was set."
    )
    starts_at: datetime | None
    ends_at: datetime | None
    reason: str
    requested_by: str = Field(description="The requesting key's id (it never reviews its own request).")
    requester_role: Literal["sales", "credit_manager", "opportunities"]
    valid_until: datetime
    four_eyes: bool = Field(description="Whether two different reviewers must approve it.")
    status: RequestStatus = Field(description="expired: still undecided after valid_until.")
    awaiting: Literal["first_review", "second_review"] | None = Field(description="Null once decided or expired.")
    reviews: list[LimitReviewOut]
    proposal: dict[str, Any] | None = Field(
        description="For a request the opportunities pass proposed: the figures its amount was computed from."
    )
    created_at: datetime
    decided_at: datetime | None


class LimitRequestList(BaseModel):
    items: list[LimitRequestOut] = Field(description="Newest first.")
