"""The credit manager's actions on a credit file: the manual limit, the credit block and notes.

Each form goes through the service the API uses (`CustomerService.set_manual_limit` / `set_block`,
`NoteService.add`), so the change is audited (actor: the signed-in key) and announced to webhooks with
`source: console`. A refused form shows the credit file again with the fields named and nothing stored."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Path, Request, Response
from fastapi.responses import RedirectResponse

from app.console.credit_view import credit_file_view
from app.console.web import ConsoleRoute, ConsoleUser, checked_form, render
from app.customers.service import CustomerService
from app.errors import NotFound, ProblemError
from app.idempotency.service import Recorder
from app.notes.schemas import NoteIn, NoteOut
from app.services import services_of
from app.signals.schemas import AcknowledgeIn

router = APIRouter(prefix="/console/customers", route_class=ConsoleRoute, include_in_schema=False)
CreditManager = Annotated[ConsoleUser, Depends(checked_form("review"))]
CustomerId = Annotated[str, Path(max_length=64)]
Short = Annotated[str, Form(max_length=64)]
LongText = Annotated[str, Form(max_length=4000)]
ACTION_SCOPE = "review"  # the credit manager's scope: who reviews cases also sets limits, blocks and notes
NOTES_SHOWN = 50


async def case_notes(request: Request, customer_id: str, decision_id: str) -> list[NoteOut]:
    """The notes on one decision (a review case), newest first."""
    notes_service = services_of(request.app).notes
    try:
        return (await notes_service.list(customer_id, decision_id, NOTES_SHOWN)).notes
    except NotFound:
        return []


async def credit_file_page(
    request: Request,
    user: ConsoleUser,
    customer_id: str,
    *,
    status_code: int = 200,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    done: str = "",
) -> Response:
    """The credit file with its notes and, for a credit manager, the action forms."""
    services = services_of(request.app)
    view = await credit_file_view(services.database, services.credit_files, customer_id)
    notes_service = services_of(request.app).notes
    notes = await notes_service.list(customer_id, None, NOTES_SHOWN)
    return render(
        request,
        "credit_file.html",
        user,
        status_code=status_code,
        view=view,
        file=view.file,
        notes=notes.notes,
        can_act=user.can(ACTION_SCOPE),
        errors=errors or {},
        form=form or {},
        done=done,
    )


def _customers(request: Request) -> CustomerService:
    service = services_of(request.app).customers
    return service


def _done(customer_id: str, what: str, anchor: str) -> RedirectResponse:
    return RedirectResponse(f"/console/customers/{quote(customer_id, safe='')}?done={what}#{anchor}", status_code=303)


async def _refused(
    request: Request, user: ConsoleUser, customer_id: str, exc: ProblemError, form: dict[str, str], prefix: str
) -> Response:
    """The credit file again: each field the problem names, under the form's own ids (`prefix-field`)."""
    errors: dict[str, str] = {f"{prefix}-{error.field}": error.message for error in exc.errors or []}
    if not errors:
        errors[f"{prefix}-reason"] = exc.detail or exc.title
    return await credit_file_page(request, user, customer_id, status_code=exc.status, errors=errors, form=form)


@router.post("/{customer_id}/manual-limit")
async def manual_limit(
    request: Request,
    user: CreditManager,
    customer_id: CustomerId,
    action: Short = "set",
    amount: Short = "",
    currency: Short = "",
    reason: LongText = "",
) -> Response:
    """`action=set` with an amount sets the manual limit; `action=clear` removes it. Both need a reason."""
    prefix = "clear" if action == "clear" else "limit"  # the clearing form's fields are its own
    form = {f"{prefix}-amount": amount, f"{prefix}-currency": currency, f"{prefix}-reason": reason}
    try:
        await _customers(request).set_manual_limit(
            customer_id,
            amount.strip() if action == "set" else None,
            currency.strip().upper() or None,
            reason,
            actor=user.principal.key_id,
            source="console",
        )
    except ProblemError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        return await _refused(request, user, customer_id, exc, form, prefix)
    return _done(customer_id, "limit-cleared" if action == "clear" else "limit-set", "actions-title")


@router.post("/{customer_id}/block")
async def block(
    request: Request, user: CreditManager, customer_id: CustomerId, action: Short = "block", reason: LongText = ""
) -> Response:
    """`action=block` blocks the customer for credit; `action=unblock` lifts it. Both need a reason."""
    try:
        await _customers(request).set_block(
            customer_id, action != "unblock", reason, actor=user.principal.key_id, source="console"
        )
    except ProblemError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        return await _refused(request, user, customer_id, exc, {"block-reason": reason}, "block")
    return _done(customer_id, "unblocked" if action == "unblock" else "blocked", "actions-title")


@router.post("/{customer_id}/notes")
async def add_note(
    request: Request,
    user: CreditManager,
    customer_id: CustomerId,
    text: LongText = "",
    decision_id: Short = "",
) -> Response:
    """A note on the customer or, with `decision_id`, on that review case; back to where it was written."""
    service = services_of(request.app).notes
    # A browser sends a textarea's line breaks as CRLF; the note keeps plain newlines, as the API stores them.
    plain = text.replace("\r\n", "\n").strip()
    body: Any = NoteIn.model_construct(text=plain, decision_id=decision_id.strip() or None)
    try:
        await service.add(customer_id, body, user.principal.key_id, Recorder(None))
    except ProblemError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        return await _refused(
            request, user, customer_id, exc, {"note-text": text, "note-decision_id": decision_id}, "note"
        )
    if body.decision_id:
        return RedirectResponse(f"/console/decisions/{body.decision_id}?noted=1#notes-title", status_code=303)
    return _done(customer_id, "noted", "notes-title")


@router.post("/{customer_id}/signals/{signal_id}/acknowledge")
async def acknowledge_signal(
    request: Request,
    user: CreditManager,
    customer_id: CustomerId,
    signal_id: Annotated[str, Path(max_length=36)],
    note: LongText = "",
) -> Response:
    """Acknowledge a warning with a note, through the API's service (the note joins the customer's notes)."""
    service = services_of(request.app).signals
    body: Any = AcknowledgeIn.model_construct(note=note.replace("\r\n", "\n").strip())
    try:
        await service.acknowledge(customer_id, signal_id, body, user.principal.key_id, Recorder(None))
    except ProblemError as exc:
        if exc.status >= 500 or exc.status == 404:
            raise
        return await _refused(request, user, customer_id, exc, {"ack-note": note}, "ack")
    return _done(customer_id, "acknowledged", "warnings-title")
