"""Adding and reading notes; each note added is an audit event in the same transaction."""

from __future__ import annotations

import uuid

from app.audit.service import EventType, append
from app.customers import repository as customers
from app.db import Database, utcnow
from app.errors import Conflict, FieldError, InvalidRequest, NotFound
from app.fields import check_text
from app.idempotency.service import Recorder, StoredResponse
from app.notes import repository
from app.notes.models import Note
from app.notes.schemas import NoteIn, NoteOut, NotesOut

MAX_TEXT = 2000


class NoteService:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def add(self, customer_id: str, body: NoteIn, actor: str, recorder: Recorder) -> StoredResponse:
        """Stores the note and its audit event; the response is stored with them under an Idempotency-Key."""
        text = note_text(body.text)
        now = utcnow()
        note = {
            "id": str(uuid.uuid4()),
            "customer_id": customer_id,
            "decision_id": body.decision_id,
            "text": text,
            "author": actor,
            "created_at": now,
        }
        async with self.database.transaction() as session:
            if await customers.get_customer(session, customer_id) is None:
                raise NotFound(f"no customer {customer_id}")
            if body.decision_id is not None:
                owner = await repository.decision_customer(session, body.decision_id)
                if owner != customer_id:
                    message = f"no decision {body.decision_id} of customer {customer_id}"
                    raise Conflict(message, errors=[FieldError(field="decision_id", message=message)])
            await repository.add(session, note)
            stored = await recorder.respond(session, 201, NoteOut(**note))
            payload = {"note_id": note["id"], "customer_id": customer_id, "decision_id": body.decision_id, "text": text}
            await append(session, EventType.NOTE_ADDED, customer_id, payload, actor)
        return stored

    async def list(self, customer_id: str, decision_id: str | None = None, limit: int = 100) -> NotesOut:
        async with self.database.read() as session:
            if await customers.get_customer(session, customer_id) is None:
                raise NotFound(f"no customer {customer_id}")
            rows = await repository.notes(session, customer_id, decision_id, limit)
        return NotesOut(notes=[note_out(row) for row in rows])


def note_out(row: Note) -> NoteOut:
    return NoteOut(
        id=row.id,
        customer_id=row.customer_id,
        decision_id=row.decision_id,
        text=row.text,
        author=row.author,
        created_at=row.created_at,
    )


def note_text(value: str, *, field: str = "text") -> str:
    """The API's rules for a note's text, checked here too since the console's form has no schema; blank is
    refused. `field` names it in the error."""
    text = value
    message = None
    if not text.strip():
        message = "write the note"
    elif len(text) > MAX_TEXT:
        message = f"at most {MAX_TEXT} characters"
    else:
        try:
            check_text(text, multiline=True)
        except ValueError as exc:
            message = str(exc)
    if message is not None:
        raise InvalidRequest(f"{field}: {message}", errors=[FieldError(field=field, message=message)])
    return text
