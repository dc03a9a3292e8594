"""The policy API's request and response bodies."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from app.decisions.schemas import OutcomeName, ReasonOut
from app.policy.schema import PolicyDocument
from app.schema_types import IsoDateTime, cursor_schema, json_integer
from app.schemas import Money


class PolicyVersionSummary(BaseModel):
    version: str
    description: str
    currency: str
    digest: str = Field(description="SHA-256 of the document's canonical JSON: equal digests, equal content.")
    created_at: datetime
    created_by: str = Field(description="The API key id that stored the version, or `startup`.")
    active: bool
    last_activated_at: datetime | None


class PolicyVersionOut(PolicyVersionSummary):
    document: PolicyDocument


class PolicyVersionList(BaseModel):
    active_version: str | None
    items: list[PolicyVersionSummary] = Field(description="Newest first.")


PageSize = Annotated[int, Field(ge=1, le=500), BeforeValidator(json_integer)]


class SimulationRequest(BaseModel):
    """Which stored decisions to replay, and which page of the changed ones to return."""

    model_config = ConfigDict(extra="forbid")

    customer_id: str | None = Field(default=None, max_length=64)
    outcome: OutcomeName | None = Field(default=None, description="Only decisions that had this outcome.")
    decided_from: IsoDateTime | None = Field(default=None, description="Inclusive, RFC 3339 with an offset.")
    decided_to: IsoDateTime | None = Field(default=None, description="Exclusive, RFC 3339 with an offset.")
    policy_version: str | None = Field(default=None, max_length=64, description="Only decisions taken under it.")
    limit: PageSize = Field(default=50, description="Changed decisions per page.")
    cursor: str | None = Field(
        default=None, max_length=512, json_schema_extra=cursor_schema("`next_cursor` of the previous page.")
    )


class Transition(BaseModel):
    old_outcome: OutcomeName
    new_outcome: OutcomeName
    count: int
    amount: dict[str, Money] = Field(description="Order amounts by currency.")


class CreditExtended(BaseModel):
    currency: str
    before: Money = Field(description="Approved credit as decided.")
    after: Money = Field(description="Approved credit under the candidate version.")
    change: Money


class ReplayResult(BaseModel):
    outcome: OutcomeName
    approved_credit_amount: Money
    prepayment_amount: Money
    payment_terms_days: int


class ReplayedResult(ReplayResult):
    reasons: list[ReasonOut]


class ChangedDecision(BaseModel):
    decision_id: str
    order_id: str
    customer_id: str
    decided_at: datetime
    amount: Money
    currency: str
    policy_version: str = Field(description="The version the decision was taken under.")
    old: ReplayResult
    new: ReplayedResult


class ChangedPage(BaseModel):
    items: list[ChangedDecision] = Field(description="Newest first.")
    next_cursor: str | None


class SimulationOut(BaseModel):
    policy_version: str = Field(description="The candidate version the decisions were replayed through.")
    replayed: int
    changed: int = Field(description="Decisions whose outcome, amounts or payment terms would differ.")
    transitions: list[Transition] = Field(description="Old outcome → new outcome, unchanged pairs included.")
    credit_extended: list[CreditExtended]
    changed_decisions: ChangedPage
