"""Request and response bodies of notes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from app.fields import Text
from app.schemas import Body, Identifier

NoteText = Annotated[Text, Field(min_length=1, max_length=2000)]


class NoteIn(Body):
    text: NoteText = Field(description="The note; several lines allowed.", examples=["Called the buyer: pays Friday."])
    decision_id: Identifier | None = Field(
        default=None, description="A decision of this customer (a review case) the note is on; none: the customer."
    )


class NoteOut(BaseModel):
    id: str
    customer_id: str
    decision_id: str | None
    text: str
    author: str = Field(description="The key id that wrote the note.")
    created_at: datetime


class NotesOut(BaseModel):
    notes: list[NoteOut] = Field(description="Newest first.")
