"""Limit requests to the credit insurer: asked through the insurer adapter, pending until the insurer answers
(by callback, or when polled), and the answer applied to the customer's cover, audited and announced."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator, model_validator

from app.audit.service import EventType, NewEvent, append_many
from app.customers import repository as customers
from app.db import Database, WriteSession, utcnow
from app.errors import Conflict, CrossFieldError, NotFound, ProblemError
from app.fields import Name, parse_amount
from app.idempotency.service import Recorder, StoredResponse
from app.insurance import repository
from app.insurance.covers import TERMS, write_cover
from app.insurance.insurers import (
    AnswerKind,
    InsurerAdapter,
    InsurerAnswer,
    InsurerError,
    InsurerNotConfigured,
    LimitRequestToInsurer,
    RequestKind,
)
from app.insurance.models import Cover, InsurerRequest
from app.insurance.schemas import PERCENTAGE_PATTERN, Reference, basis_points, parse_percentage
from app.money import format_minor, to_minor
from app.schema_types import POSITIVE_AMOUNT_PATTERN, CurrencyCode, minor_units_rule
from app.schemas import Body, Money, check_currency
from app.webhooks.service import enqueue_event


class InsurerRequestIn(Body):
    model_config = ConfigDict(json_schema_extra=minor_units_rule("currency", ("amount",)))

    kind: RequestKind = Field(description="new, increase, reduce (a cover exists for the last two), or cancel.")
    currency: CurrencyCode | None = Field(default=None, description="With an amount.")
    amount: str | None = Field(
        default=None,
        pattern=POSITIVE_AMOUNT_PATTERN,
        description="The limit asked for, above zero; none for cancel.",
        examples=["40000.00"],
    )
    insurer: Name | None = Field(default=None, max_length=64, description="For a new cover: the insurer's name.")
    policy_number: Reference | None = None
    coverage_percentage: str = Field(
        default="100", description="For a new cover: the share of a loss insured.", pattern=PERCENTAGE_PATTERN
    )
    excludes_vat: StrictBool = Field(default=False, description="For a new cover: it protects amounts net of VAT.")

    _currency = field_validator("currency")(lambda value: None if value is None else check_currency(value))

    @field_validator("amount", mode="before")
    @classmethod
    def _amount(cls, value: Any, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        parse_amount(value, info.data.get("currency"))
        return str(value)

    @field_validator("coverage_percentage", mode="before")
    @classmethod
    def _percentage(cls, value: Any) -> str:
        parse_percentage(value)
        return str(value)

    @model_validator(mode="after")
    def _amount_for_the_kind(self) -> InsurerRequestIn:
        if self.kind == "cancel" and self.amount is not None:
            raise CrossFieldError("amount", "a cancellation asks for no amount")
        if self.kind != "cancel" and (self.amount is None or self.currency is None):
            raise CrossFieldError("amount", f"a {self.kind} request names the amount and its currency")
        return self


class InsurerRequestOut(BaseModel):
    id: str
    customer_id: str
    kind: RequestKind
    amount: Money | None
    currency: str | None
    status: str = Field(description="pending until the insurer answers; then answered.")
    insurer: str
    insurer_request_id: str
    answer: dict[str, Any] | None = Field(description="The insurer's answer: decision, amount, conditions, …")
    requested_at: datetime
    requested_by: str
    answered_at: datetime | None


class InsurerRequestPage(BaseModel):
    items: list[InsurerRequestOut] = Field(description="Newest first.")


@dataclass(frozen=True, slots=True)
class PollResult:
    polled: int
    answered: int
    still_pending: int
    failed: int


class NoCoverToChange(Conflict):
    code, title = "no_cover", "The customer has no cover to change"


class AlreadyAnswered(Conflict):
    code, title = "already_answered", "The limit request has its answer already"


class NoInsurerConfigured(Conflict):
    code, title = "insurer_not_configured", "No credit insurer is configured"


class InsurerNotReachable(ProblemError):
    status, code, title = 503, "insurer_unavailable", "The credit insurer could not be asked"


class InsurerRequestService:
    def __init__(self, database: Database, insurer: InsurerAdapter) -> None:
        self.database = database
        self.insurer = insurer

    async def request(
        self, customer_id: str, body: InsurerRequestIn, recorder: Recorder, *, actor: str
    ) -> StoredResponse:
        """Send the request to the insurer, then record it pending; an insurer that cannot be asked is a 503
        and nothing is recorded."""
        async with self.database.read() as session:
            customer = await customers.get_customer(session, customer_id)
            cover = await repository.get_cover(session, customer_id)
        if customer is None:
            raise NotFound(f"no customer {customer_id}: push its master data first")
        if body.kind != "new" and cover is None:
            raise NoCoverToChange(f"a {body.kind} request needs a cover on customer {customer_id}: ask for a new one")
        request_id = str(uuid.uuid4())
        amount = None if body.amount is None else Decimal(body.amount)
        outgoing = LimitRequestToInsurer(
            reference=request_id,
            kind=body.kind,
            amount=amount,
            currency=body.currency,
            buyer_country=customer.country,
            buyer_registration_number=customer.registration_number,
            buyer_name=customer.name,
            buyer_reference=cover.buyer_reference if cover is not None else None,
            policy_number=body.policy_number or (cover.policy_number if cover is not None else None),
        )
        try:
            insurer_request_id = await self.insurer.submit(outgoing)
        except InsurerNotConfigured as exc:
            raise NoInsurerConfigured(f"the limit request was not sent: {exc}") from None
        except InsurerError as exc:
            raise InsurerNotReachable(f"the limit request was not sent: {exc}") from None
        now = utcnow()
        values = {
            "id": request_id,
            "customer_id": customer_id,
            "kind": body.kind,
            "amount_minor": None if amount is None or body.currency is None else to_minor(amount, body.currency),
            "currency": body.currency,
            "terms": {
                "insurer": body.insurer,
                "policy_number": body.policy_number,
                "coverage_basis_points": basis_points(parse_percentage(body.coverage_percentage)),
                "excludes_vat": body.excludes_vat,
            },
            "status": "pending",
            "insurer": self.insurer.name,
            "insurer_request_id": insurer_request_id,
            "answer": None,
            "requested_at": now,
            "requested_by": actor,
            "answered_at": None,
            "polled_at": None,
        }
        async with self.database.transaction() as session:
            if not await customers.lock_customers(session, [customer_id]):
                raise NotFound(f"no customer {customer_id}")
            await repository.insert_limit_request(session, values)
            row = await repository.get_limit_request(session, request_id)
            assert row is not None
            out = limit_request_out(row)
            stored = await recorder.respond(session, 201, out)
            payload = out.model_dump(mode="json")
            await append_many(session, [NewEvent(EventType.INSURER_REQUEST_CREATED, customer_id, payload, actor)])
            return stored

    async def answer(self, request_id: str, answer: InsurerAnswer, *, actor: str) -> InsurerRequestOut:
        """The insurer's answer (its callback, or a poll): the cover follows it, in one transaction."""
        async with self.database.transaction() as session:
            request = await repository.get_limit_request(session, request_id)
            if request is None:
                raise NotFound(f"no limit request {request_id}")
            await customers.lock_customers(session, [request.customer_id])
            request = await repository.get_limit_request(session, request_id, lock=True)
            assert request is not None
            if request.status != "pending":
                raise AlreadyAnswered(f"limit request {request_id} was answered already")
            return await self._apply(session, request, answer, actor)

    async def poll(self, limit: int = 100) -> PollResult:
        """Ask the insurer about the pending requests (longest unpolled first); apply each answer given."""
        async with self.database.read() as session:
            pending = list(await repository.pending_limit_requests(session, limit))
        answered = failed = still = 0
        for request in pending:
            try:
                answer = await self.insurer.poll(request.insurer_request_id)
            except InsurerError:
                failed += 1
                continue
            if answer is None:
                still += 1
                async with self.database.transaction() as session:
                    row = await repository.get_limit_request(session, request.id, lock=True)
                    if row is not None:
                        row.polled_at = utcnow()
                continue
            try:
                await self.answer(request.id, answer, actor=f"insurer:{request.insurer}")
                answered += 1
            except AlreadyAnswered:  # its callback came first
                answered += 1
        return PollResult(polled=len(pending), answered=answered, still_pending=still, failed=failed)

    async def get(self, request_id: str) -> InsurerRequestOut:
        async with self.database.read() as session:
            row = await repository.get_limit_request(session, request_id)
        if row is None:
            raise NotFound(f"no limit request {request_id}")
        return limit_request_out(row)

    async def of_customer(self, customer_id: str, limit: int) -> InsurerRequestPage:
        async with self.database.read() as session:
            if await customers.get_customer(session, customer_id) is None:
                raise NotFound(f"no customer {customer_id}")
            rows = await repository.limit_requests_of(session, customer_id, limit)
        return InsurerRequestPage(items=[limit_request_out(row) for row in rows])

    async def _apply(
        self, session: WriteSession, request: InsurerRequest, answer: InsurerAnswer, actor: str
    ) -> InsurerRequestOut:
        now = utcnow()
        cover = await repository.get_cover(session, request.customer_id)
        terms = _cover_after(request, cover, answer, now.date())
        events: list[NewEvent] = []
        if terms is not None:
            written = await write_cover(session, request.customer_id, terms, source="insurer", actor=actor, now=now)
            if written.event is not None:
                events.append(written.event)
        request.status = "answered"
        request.answer = answer.model_dump(mode="json")
        request.answered_at = now
        await session.flush()
        out = limit_request_out(request)
        data = out.model_dump(mode="json")
        await enqueue_event(session, "customer.insurer_request_answered", data)
        events.append(NewEvent(EventType.INSURER_REQUEST_ANSWERED, request.customer_id, data, actor))
        await append_many(session, events)
        return out


def _cover_after(
    request: InsurerRequest, cover: Cover | None, answer: InsurerAnswer, today: date
) -> dict[str, Any] | None:
    """The cover's terms after the answer; None when the cover stays as it is (refused)."""
    decision: AnswerKind = answer.decision
    if decision == "refused":
        return None
    current = {name: getattr(cover, name) for name in TERMS} if cover is not None else None
    if request.kind == "cancel":
        return None if current is None else current | {"status": "withdrawn"}
    if answer.amount is not None and answer.currency is not None:
        amount_minor, currency = to_minor(Decimal(answer.amount), answer.currency), answer.currency
    else:
        assert request.amount_minor is not None
        assert request.currency is not None
        amount_minor, currency = request.amount_minor, request.currency
    base = current or {
        "insurer": request.terms.get("insurer"),
        "policy_number": request.terms.get("policy_number"),
        "buyer_reference": request.id,
        "coverage_basis_points": request.terms.get("coverage_basis_points", 10000),
        "excludes_vat": request.terms.get("excludes_vat", False),
        "valid_from": today,
        "valid_to": None,
        "conditions": None,
    }
    return base | {
        "buyer_reference": answer.buyer_reference or base["buyer_reference"],
        "amount_minor": amount_minor,
        "currency": currency,
        "valid_from": answer.valid_from or (base["valid_from"] if current is not None else today),
        "valid_to": answer.valid_to if answer.valid_to is not None else base["valid_to"],
        "conditions": answer.conditions if answer.conditions is not None else base["conditions"],
        "status": "active",
    }


def limit_request_out(row: InsurerRequest) -> InsurerRequestOut:
    return InsurerRequestOut(
        id=row.id,
        customer_id=row.customer_id,
        kind=row.kind,
        amount=None
        if row.amount_minor is None or row.currency is None
        else format_minor(row.amount_minor, row.currency),
        currency=row.currency,
        status=row.status,
        insurer=row.insurer,
        insurer_request_id=row.insurer_request_id,
        answer=row.answer,
        requested_at=row.requested_at,
        requested_by=row.requested_by,
        answered_at=row.answered_at,
    )


def _money(minor: int | None, currency: str | None) -> str | None:
    return None if minor is None or currency is None else format_minor(minor, currency)
