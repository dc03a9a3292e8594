"""Notes on a customer or one of its review cases: credit managers write them, readers read them."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Response

from app.api.customers import CustomerId
from app.api.deps import Idempotent, JsonBody, NoteServiceDep, Read, require_scope
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.auth import Principal
from app.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthenticated
from app.notes.schemas import NoteIn, NoteOut, NotesOut
from app.schemas import Identifier

router = APIRouter(prefix="/v1/customers", tags=["customers"])

Reviewer = Annotated[Principal, Depends(require_scope("review"))]


@router.post(
    "/{customer_id}/notes",
    status_code=201,
    response_model=NoteOut,
    dependencies=[JsonBody],
    responses=problem_responses(*JSON_WRITE_PROBLEMS, NotFound, Conflict),
    summary="Add a note to a customer, or to one of its decisions (a review case)",
)
async def add_note(
    customer_id: CustomerId, body: NoteIn, principal: Reviewer, service: NoteServiceDep, idempotent: Idempotent
) -> Response:
    """The note is in the audit trail (`note.added`, with its text) from the moment it is stored."""
    return await idempotent.run(lambda recorder: service.add(customer_id, body, principal.key_id, recorder))


@router.get(
    "/{customer_id}/notes",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound, InvalidRequest),
    summary="A customer's notes, newest first",
)
async def list_notes(
    customer_id: CustomerId,
    _principal: Read,
    service: NoteServiceDep,
    decision_id: Annotated[Identifier | None, Query(description="Only the notes on this decision.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 100,
) -> NotesOut:
    return await service.list(customer_id, decision_id, limit)
