"""Request and response bodies of early-warning signals."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from app.notes.schemas import NoteText
from app.schemas import Body, Money

SignalKind = Literal["dbt_trend", "overdue_growth", "late_share", "broken_arrangement"]
SignalStatus = Literal["open", "acknowledged", "cleared"]


class AcknowledgeIn(Body):
    note: NoteText = Field(description="What was done or decided; stored as a note on the customer.")


class SignalOut(BaseModel):
    id: str
    customer_id: str
    kind: SignalKind
    status: SignalStatus = Field(
        description="open until acknowledged; cleared once its threshold is no longer crossed after acknowledgement."
    )
    facts: dict[str, Any] = Field(description="The figures that crossed the threshold when it was raised.")
    exposure: Money = Field(description="The customer's exposure when last recomputed, in `currency`.")
    currency: str = Field(description="The credit policy's currency.")
    raised_at: datetime
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    note_id: str | None = Field(description="The note given with the acknowledgement (GET …/notes).")
    cleared_at: datetime | None


class SignalsOut(BaseModel):
    signals: list[SignalOut]
