"""The ERP's writes: customer master data, invoices, payments, the receivables batch, exchange rates."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError

from app.active_policy import ActivePolicy
from app.audit.service import EventType, append
from app.customers import repository
from app.customers.models import CreditLimitChange, Customer, FxRate, Invoice
from app.customers.schemas import (
    BatchResult,
    CreditBlockIn,
    CustomerMasterData,
    CustomerOut,
    InvoiceIn,
    InvoiceOut,
    LimitChangeOut,
    LimitHistoryOut,
    LimitSource,
    ManualLimitOut,
    PaymentIn,
    PaymentOut,
    RateOut,
    RatesIn,
    RatesOut,
    ReceivablesBatch,
)
from app.db import Database, WriteSession, utcnow
from app.errors import Conflict, FieldError, InvalidRequest, NotFound
from app.fields import check_text, parse_amount, utc_text
from app.idempotency.service import Recorder, StoredResponse
from app.money import format_minor, to_minor
from app.orders import repository as orders
from app.schemas import check_currency
from app.webhooks.service import enqueue_event


class PaymentExists(Conflict):
    code, title = "payment_exists", "A payment with this id is already recorded"


# Told, in the write's own transaction, which customers' invoices or payments changed (payment arrangements
# are judged again then). Handed in by build_services, so this domain imports none above it.
LedgerChanged = Callable[[WriteSession, Sequence[str]], Awaitable[Any]]


class CustomerService:
    def __init__(
        self,
        database: Database,
        active_policy: ActivePolicy,
        max_batch_invoices: int,
        *,
        ledger_changed: LedgerChanged | None = None,
    ) -> None:
        self.database = database
        self.active_policy = active_policy
        self.max_batch_invoices = max_batch_invoices
        self.ledger_changed = ledger_changed

    async def _ledger_changed(self, session: WriteSession, customer_ids: Sequence[str]) -> None:
        if self.ledger_changed is not None:
            await self.ledger_changed(session, customer_ids)

    async def put_customer(
        self, customer_id: str, body: CustomerMasterData, recorder: Recorder, *, actor: str = "erp"
    ) -> StoredResponse:
        await self._check_master_data(customer_id, body)
        now = utcnow()
        values = _master_data_row(customer_id, body, now)
        async with self.database.transaction() as session:
            before = await repository.get_customer(session, customer_id)
            credit_before = _credit_terms(before) if before is not None else None
            was = _watched(before) if before is not None else None
            limits_before = _limit_terms(before)  # a snapshot: the row object is refreshed in place below
            created = await repository.upsert_master_data(session, values)
            row = await repository.get_customer(session, customer_id, fresh=True)
            assert row is not None
            await _announce_changes(session, customer_id, was, _watched(row))
            stored = await recorder.respond(session, 201 if created else 200, customer_out(row, now))
            credit_after = _credit_terms(row)
            await record_limit_history(session, limits_before, row, source="erp", actor=actor, reason=None, now=now)
            if credit_after != credit_before:
                payload = {"customer_id": customer_id, "before": credit_before, "after": credit_after}
                await append(session, EventType.CUSTOMER_CREDIT_CHANGED, customer_id, payload, actor)
            return stored

    async def get_customer(self, customer_id: str) -> CustomerOut:
        async with self.database.read() as session:
            row = await repository.get_customer(session, customer_id)
        if row is None:
            raise NotFound(f"no customer {customer_id}")
        return customer_out(row, utcnow())

    async def limit_history(self, customer_id: str, limit: int) -> LimitHistoryOut:
        async with self.database.read() as session:
            if await repository.get_customer(session, customer_id) is None:
                raise NotFound(f"no customer {customer_id}")
            rows = await repository.limit_history(session, customer_id, limit)
        return LimitHistoryOut(customer_id=customer_id, items=[limit_change_out(row) for row in rows])

    async def _check_master_data(self, customer_id: str, body: CustomerMasterData) -> None:
        errors = []
        if body.parent_id == customer_id:
            errors.append(FieldError(field="parent_id", message="a customer cannot be its own parent"))
        policy = await self.active_policy()
        if errors:
            raise InvalidRequest("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
        if body.segment is not None and body.segment not in policy.segments:
            # Well formed, but not one of the active policy's segments: the stored state refuses it.
            message = f"not a segment of the credit policy: {', '.join(policy.segments)}"
            raise Conflict(f"segment: {message}", errors=[FieldError(field="segment", message=message)])

    async def put_invoice(
        self, customer_id: str, invoice_id: str, body: InvoiceIn, recorder: Recorder
    ) -> StoredResponse:
        now = utcnow()
        row = _invoice_row(customer_id, invoice_id, body, now)
        async with self.database.transaction() as session:
            if await repository.get_customer(session, customer_id) is None:
                raise NotFound(f"no customer {customer_id}: push its master data first")
            created = await repository.get_invoice(session, customer_id, invoice_id) is None
            await repository.upsert_invoices(session, [row])
            await orders.mark_invoiced(session, _order_links([row]), now)
            invoice = await repository.get_invoice(session, customer_id, invoice_id)
            assert invoice is not None
            stored = await recorder.respond(session, 201 if created else 200, invoice_out(invoice, now))
            await self._ledger_changed(session, [customer_id])
            return stored

    async def add_payment(
        self, customer_id: str, invoice_id: str, body: PaymentIn, recorder: Recorder
    ) -> StoredResponse:
        now = utcnow()
        async with self.database.transaction() as session:
            invoice = await repository.get_invoice(session, customer_id, invoice_id, lock=True)
            if invoice is None:
                raise NotFound(f"no invoice {invoice_id} of customer {customer_id}")
            if await repository.get_payment(session, customer_id, body.id) is not None:
                raise PaymentExists(f"payment {body.id} of customer {customer_id} is already recorded")
            try:
                amount = to_minor(Decimal(body.amount), invoice.currency)
            # A well-formed amount the stored invoice refuses (its currency's decimals, its open amount): 409.
            except ValueError as exc:
                raise Conflict(str(exc), errors=[FieldError(field="amount", message=str(exc))]) from None
            if amount > invoice.open_amount_minor:
                open_amount = format_minor(invoice.open_amount_minor, invoice.currency)
                message = f"exceeds the open amount {open_amount} {invoice.currency}"
                raise Conflict(message, errors=[FieldError(field="amount", message=message)])
            payment = {
                "customer_id": customer_id,
                "payment_id": body.id,
                "invoice_id": invoice_id,
                "currency": invoice.currency,
                "amount_minor": amount,
                "paid_on": body.paid_on,
                "created_at": now,
            }
            try:
                await repository.record_payment(session, payment, invoice.open_amount_minor - amount)
            except IntegrityError:  # the same payment id recorded at this moment against another invoice
                raise PaymentExists(f"payment {body.id} of customer {customer_id} is already recorded") from None
            invoice = await repository.get_invoice(session, customer_id, invoice_id)
            assert invoice is not None
            out = PaymentOut(
                payment_id=body.id,
                amount=format_minor(amount, invoice.currency),
                currency=invoice.currency,
                paid_on=body.paid_on,
                invoice=invoice_out(invoice, now),
            )
            stored = await recorder.respond(session, 201, out)
            await self._ledger_changed(session, [customer_id])
            return stored

    async def sync_batch(self, batch: ReceivablesBatch, recorder: Recorder) -> StoredResponse:
        """All or nothing: every row is checked first, and one error anywhere stores none."""
        if len(batch.invoices) > self.max_batch_invoices:
            message = f"at most {self.max_batch_invoices} invoices per batch"
            raise InvalidRequest(message, errors=[FieldError(field="invoices", message=message)])
        now = utcnow()
        rows = [_invoice_row(item.customer_id, item.invoice_id, item, now) for item in batch.invoices]
        errors = _duplicate_errors(rows)
        async with self.database.transaction() as session:
            customer_ids = sorted({row["customer_id"] for row in rows})
            known = await repository.existing_customer_ids(session, customer_ids)
            unknown = [
                FieldError(
                    field=f"invoices[{index}].customer_id",
                    message=f"no customer {row['customer_id']}: push its master data first",
                )
                for index, row in enumerate(rows)
                if row["customer_id"] not in known
            ]
            if errors:
                errors.sort(key=lambda error: _row_index(error.field))
                raise InvalidRequest(f"{len(errors)} invoices are not valid; none was stored", errors=errors[:1000])
            if unknown:
                # Well formed, but naming customers the ERP has not pushed yet: the stored state refuses it.
                raise Conflict(
                    f"{len(unknown)} invoices name unknown customers; none was stored", errors=unknown[:1000]
                )
            existing = await repository.count_existing_invoices(
                session, [(row["customer_id"], row["invoice_id"]) for row in rows]
            )
            # Rows locked in key order: two overlapping batches wait for each other instead of deadlocking.
            ordered = sorted(rows, key=lambda row: (row["customer_id"], row["invoice_id"]))
            await repository.upsert_invoices(session, ordered)
            await orders.mark_invoiced(session, _order_links(ordered), now)
            result = BatchResult(invoices=len(rows), created=len(rows) - existing, updated=existing)
            stored = await recorder.respond(session, 200, result)
            await self._ledger_changed(session, customer_ids)
            return stored

    async def put_rates(self, body: RatesIn, recorder: Recorder) -> StoredResponse:
        now = utcnow()
        rows = [
            {"base": body.base, "quote": quote, "rate": rate, "as_of": body.as_of, "updated_at": now}
            for quote, rate in body.rates.items()
        ]
        async with self.database.transaction() as session:
            await repository.upsert_rates(session, rows)
            rates = await repository.all_rates(session)
            return await recorder.respond(session, 200, RatesOut(rates=[rate_out(rate) for rate in rates]))

    async def list_rates(self) -> RatesOut:
        async with self.database.read() as session:
            rates = await repository.all_rates(session)
        return RatesOut(rates=[rate_out(rate) for rate in rates])

    async def set_manual_limit(
        self,
        customer_id: str,
        amount: str | None,
        currency: str | None,
        reason: str,
        *,
        actor: str,
        source: str = "console",
    ) -> CustomerOut:
        """Set (an amount) or clear (None) a customer's manual limit, with the reason; audited and announced.

        The limit takes the customer's limit currency, or `currency` when it has none. The ERP's next
        `PUT /v1/customers/{id}` replaces it again: master data from the ERP wins."""
        reason = _action_reason(reason)
        async with self.database.transaction() as session:
            row = await repository.get_customer(session, customer_id, lock=True)
            if row is None:
                raise NotFound(f"no customer {customer_id}")
            values: dict[str, Any]
            if amount is None:
                values = {"manual_limit_minor": None, "manual_limit_reason": None, "manual_limit_expires_at": None}
            else:
                limit_currency = row.limit_currency or currency
                if limit_currency is None:
                    raise _invalid("currency", "choose the currency of the limit")
                values = {
                    "limit_currency": limit_currency,
                    "manual_limit_minor": _limit_minor(amount, limit_currency),
                    "manual_limit_reason": reason,
                    "manual_limit_expires_at": None,
                }
            return await change_credit_terms(session, row, values, reason, actor, source)

    async def set_block(
        self, customer_id: str, blocked: bool, reason: str, *, actor: str, source: str = "console"
    ) -> CustomerOut:
        """Block (True) or unblock a customer for credit, with the reason; audited and announced."""
        reason = _action_reason(reason)
        async with self.database.transaction() as session:
            row = await repository.get_customer(session, customer_id, lock=True)
            if row is None:
                raise NotFound(f"no customer {customer_id}")
            values = {"blocked": blocked, "block_reason": reason if blocked else None}
            return await change_credit_terms(session, row, values, reason, actor, source)


async def change_credit_terms(
    session: WriteSession,
    row: Customer,
    values: dict[str, Any],
    reason: str,
    actor: str,
    source: str,
    *,
    request_id: str | None = None,
) -> CustomerOut:
    """Change a locked customer's limits or block: history, webhooks and the audit event in the same transaction
    (the audit event last, as it holds the chain's lock until the commit)."""
    now = utcnow()
    credit_before, was = _credit_terms(row), _watched(row)
    before = _limit_terms(row)
    await repository.update_credit_terms(session, row.id, {**values, "updated_at": now})
    after = await repository.get_customer(session, row.id, fresh=True)
    assert after is not None
    await _announce_changes(session, row.id, was, _watched(after), source=source, reason=reason, request_id=request_id)
    await _announce_other_limits(session, before, after, source=source, request_id=request_id)
    await record_limit_history(
        session, before, after, source=source, actor=actor, reason=reason, now=now, request_id=request_id
    )
    credit_after = _credit_terms(after)
    if credit_after != credit_before:
        payload = {
            "customer_id": row.id,
            "before": credit_before,
            "after": credit_after,
            "reason": reason,
            "source": source,
        }
        if request_id is not None:
            payload["request_id"] = request_id
        await append(session, EventType.CUSTOMER_CREDIT_CHANGED, row.id, payload, actor)
    return customer_out(after, now)


@dataclass(frozen=True, slots=True)
class LimitTerms:
    """The limits a person sets on a customer, as stored: what the limit history records changes of."""

    currency: str | None
    manual: int | None
    manual_expires_at: datetime | None
    group: int | None
    uplift: int | None
    uplift_starts_at: datetime | None
    uplift_ends_at: datetime | None


def _limit_terms(row: Customer | LimitTerms | None) -> LimitTerms:
    if isinstance(row, LimitTerms):
        return row
    if row is None:
        return LimitTerms(None, None, None, None, None, None, None)
    return LimitTerms(
        row.limit_currency,
        row.manual_limit_minor,
        row.manual_limit_expires_at,
        row.group_limit_minor,
        row.uplift_minor,
        row.uplift_starts_at,
        row.uplift_ends_at,
    )


def limit_terms(row: Customer) -> LimitTerms:
    return _limit_terms(row)


async def record_limit_history(
    session: WriteSession,
    before: Customer | LimitTerms | None,
    after: Customer,
    *,
    source: str,
    actor: str,
    reason: str | None,
    now: datetime,
    request_id: str | None = None,
) -> None:
    """One row in the customer's limit history when a manual limit, group limit or temporary uplift changed."""
    old, new = _limit_terms(before), _limit_terms(after)
    currency = new.currency or old.currency
    if currency is None:
        return
    changes: list[dict[str, Any]] = []

    def money(minor: int | None, in_currency: str | None) -> str | None:
        return None if minor is None or in_currency is None else format_minor(minor, in_currency)

    periods = (old.uplift_starts_at, old.uplift_ends_at), (new.uplift_starts_at, new.uplift_ends_at)
    for field, was, now_is, moved in (
        ("manual_limit", (old.manual, old.currency), (new.manual, new.currency), False),
        ("group_limit", (old.group, old.currency), (new.group, new.currency), False),
        ("temporary_uplift", (old.uplift, old.currency), (new.uplift, new.currency), periods[0] != periods[1]),
    ):
        if (was != now_is or moved) and (was[0] is not None or now_is[0] is not None):
            changes.append({"field": field, "old": money(*was), "new": money(*now_is)})
    if old.manual_expires_at != new.manual_expires_at and new.manual is not None:
        changes.append(
            {
                "field": "manual_limit_expires_at",
                "old": _when(old.manual_expires_at),
                "new": _when(new.manual_expires_at),
            }
        )
    if not changes:
        return
    for change in changes:
        if change["field"] == "temporary_uplift" and new.uplift is not None:
            change["starts_at"], change["ends_at"] = _when(new.uplift_starts_at), _when(new.uplift_ends_at)
    first = changes[0]["field"]
    old_minor, new_minor = {
        "manual_limit": (old.manual, new.manual),
        "manual_limit_expires_at": (old.manual, new.manual),
        "group_limit": (old.group, new.group),
        "temporary_uplift": (old.uplift, new.uplift),
    }[first]
    await repository.add_limit_change(
        session,
        {
            "id": str(uuid.uuid4()),
            "customer_id": after.id,
            "old_limit_minor": old_minor if old.currency == currency else None,
            "new_limit_minor": new_minor,
            "currency": currency,
            "changes": changes,
            "source": source,
            "policy_version": None,
            "actor": actor,
            "reason": reason,
            "request_id": request_id,
            "created_at": now,
        },
    )


def _when(value: datetime | None) -> str | None:
    return utc_text(value) if value is not None else None


async def _announce_other_limits(
    session: WriteSession, before: LimitTerms, after: Customer, *, source: str, request_id: str | None
) -> None:
    """`customer.limit_changed` for a group limit or a temporary uplift (the manual limit announces itself)."""
    new = _limit_terms(after)
    currency = new.currency
    if currency is None:
        return
    extra = {"request_id": request_id} if request_id is not None else {}
    if before.group != new.group:
        await enqueue_event(
            session,
            "customer.limit_changed",
            {
                "customer_id": after.id,
                "limit": "group",
                "old_limit": format_minor(before.group, currency) if before.group is not None else None,
                "new_limit": format_minor(new.group, currency) if new.group is not None else None,
                "currency": currency,
                "source": source,
                **extra,
            },
        )
    if (before.uplift, before.uplift_starts_at, before.uplift_ends_at) != (
        new.uplift,
        new.uplift_starts_at,
        new.uplift_ends_at,
    ):
        await enqueue_event(
            session,
            "customer.limit_changed",
            {
                "customer_id": after.id,
                "limit": "temporary_uplift",
                "old_limit": format_minor(before.uplift, currency) if before.uplift is not None else None,
                "new_limit": format_minor(new.uplift, currency) if new.uplift is not None else None,
                "currency": currency,
                "starts_at": _when(new.uplift_starts_at),
                "ends_at": _when(new.uplift_ends_at),
                "source": source,
                **extra,
            },
        )


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(f"{field}: {message}", errors=[FieldError(field=field, message=message)])


def _action_reason(reason: str) -> str:
    """A reason a credit manager gives for a change: required, one line, at most 500 characters."""
    reason = reason.strip()
    if not reason:
        raise _invalid("reason", "give a reason for the change")
    if len(reason) > 500:
        raise _invalid("reason", "at most 500 characters")
    try:
        return check_text(reason)
    except ValueError as exc:
        raise _invalid("reason", str(exc)) from None


def _limit_minor(amount: str, currency: str) -> int:
    try:
        check_currency(currency)
    except ValueError:
        raise _invalid("currency", "not an ISO 4217 currency with minor units") from None
    try:
        return to_minor(parse_amount(amount, currency, allow_zero=True), currency)
    except ValueError as exc:
        raise _invalid("amount", str(exc)) from None


def _watched(row: Customer) -> tuple[bool, str | None, int | None, str | None]:
    """What the ERP's webhooks report on: the block (and its reason) and the manual limit."""
    return row.blocked, row.block_reason, row.manual_limit_minor, row.limit_currency


async def _announce_changes(
    session: WriteSession,
    customer_id: str,
    was: tuple[bool, str | None, int | None, str | None] | None,
    now: tuple[bool, str | None, int | None, str | None],
    *,
    source: str = "erp",
    reason: str | None = None,
    request_id: str | None = None,
) -> None:
    """Webhook events for a change of block or manual limit (by the ERP or the console), in the write's own
    transaction; `reason` is the change's own (an unblock's), else the block's."""
    blocked, block_reason, limit, currency = now
    old_blocked, _reason, old_limit, old_currency = was if was is not None else (False, None, None, None)
    if blocked != old_blocked:
        event = "customer.blocked" if blocked else "customer.unblocked"
        payload = {"customer_id": customer_id, "reason": reason or block_reason, "source": source}
        await enqueue_event(session, event, payload)
    if (limit, currency) != (old_limit, old_currency):
        await enqueue_event(
            session,
            "customer.limit_changed",
            {
                "customer_id": customer_id,
                "old_limit": format_minor(old_limit, old_currency) if old_limit is not None and old_currency else None,
                "new_limit": format_minor(limit, currency) if limit is not None and currency else None,
                "currency": currency,
                "source": source,
                **({"request_id": request_id} if request_id is not None else {}),
            },
        )


def _master_data_row(customer_id: str, body: CustomerMasterData, now: datetime) -> dict[str, Any]:
    currency = body.limit_currency
    manual = body.manual_limit
    return {
        "id": customer_id,
        "name": body.name,
        "country": body.country,
        "registration_number": body.registration_number,
        "segment": body.segment,
        "parent_id": body.parent_id,
        "limit_currency": currency,
        "manual_limit_minor": to_minor(Decimal(manual.amount), currency) if manual and currency else None,
        "manual_limit_reason": manual.reason if manual else None,
        "manual_limit_expires_at": manual.expires_at if manual else None,
        "group_limit_minor": to_minor(Decimal(body.group_limit), currency) if body.group_limit and currency else None,
        "blocked": body.credit_block is not None,
        "block_reason": body.credit_block.reason if body.credit_block else None,
        "payment_terms_days": body.payment_terms_days,
        "master_data_from": "erp",
        "updated_at": now,
    }


def _invoice_row(customer_id: str, invoice_id: str, body: InvoiceIn, now: datetime) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "invoice_id": invoice_id,
        "currency": body.currency,
        "amount_minor": to_minor(Decimal(body.amount), body.currency),
        "open_amount_minor": to_minor(Decimal(body.open_amount), body.currency),
        "issue_date": body.issue_date,
        "due_date": body.due_date,
        "order_id": body.order_id,
        "vat_minor": None if body.vat_amount is None else to_minor(Decimal(body.vat_amount), body.currency),
        "source": "erp",
        "updated_at": now,
    }


def _order_links(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    links = [
        {"link_order_id": row["order_id"], "link_customer_id": row["customer_id"], "link_invoice_id": row["invoice_id"]}
        for row in rows
        if row["order_id"] is not None
    ]
    return sorted(links, key=lambda link: link["link_order_id"])


def _duplicate_errors(rows: list[dict[str, Any]]) -> list[FieldError]:
    first: dict[tuple[str, str], int] = {}
    errors = []
    for index, row in enumerate(rows):
        key = (row["customer_id"], row["invoice_id"])
        if key in first:
            message = f"the same invoice as invoices[{first[key]}]"
            errors.append(FieldError(field=f"invoices[{index}].invoice_id", message=message))
        else:
            first[key] = index
    return errors


def _row_index(field: str) -> int:
    return int(field.split("[", 1)[1].split("]", 1)[0])


def customer_out(row: Customer, now: datetime) -> CustomerOut:
    currency = row.limit_currency
    manual = None
    if row.manual_limit_minor is not None and currency is not None:
        expires_at = row.manual_limit_expires_at
        manual = ManualLimitOut(
            amount=format_minor(row.manual_limit_minor, currency),
            reason=row.manual_limit_reason,
            expires_at=expires_at,
            active=expires_at is None or expires_at > now,
        )
    return CustomerOut(
        id=row.id,
        name=row.name,
        country=row.country,
        registration_number=row.registration_number,
        segment=row.segment,
        parent_id=row.parent_id,
        limit_currency=currency,
        manual_limit=manual,
        group_limit=format_minor(row.group_limit_minor, currency)
        if row.group_limit_minor is not None and currency
        else None,
        credit_block=CreditBlockIn(reason=row.block_reason or "blocked") if row.blocked else None,
        payment_terms_days=row.payment_terms_days,
        master_data_from=row.master_data_from,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def invoice_out(row: Invoice, now: datetime) -> InvoiceOut:
    overdue_days = (now.date() - row.due_date).days if row.open_amount_minor > 0 else 0
    return InvoiceOut(
        customer_id=row.customer_id,
        invoice_id=row.invoice_id,
        currency=row.currency,
        amount=format_minor(row.amount_minor, row.currency),
        open_amount=format_minor(row.open_amount_minor, row.currency),
        issue_date=row.issue_date,
        due_date=row.due_date,
        order_id=row.order_id,
        vat_amount=None if row.vat_minor is None else format_minor(row.vat_minor, row.currency),
        overdue_days=max(0, overdue_days),
        updated_at=row.updated_at,
    )


def rate_out(row: FxRate) -> RateOut:
    return RateOut(base=row.base, quote=row.quote, rate=row.rate, as_of=row.as_of, updated_at=row.updated_at)


def _credit_terms(row: Customer) -> dict[str, Any]:
    """The master data that moves a customer's credit: limits and blocks (audited when they change)."""
    currency = row.limit_currency

    def money(minor: int | None) -> str | None:
        return None if minor is None or currency is None else format_minor(minor, currency)

    return {
        "limit_currency": currency,
        "manual_limit": money(row.manual_limit_minor),
        "manual_limit_reason": row.manual_limit_reason,
        "manual_limit_expires_at": row.manual_limit_expires_at,
        "group_limit": money(row.group_limit_minor),
        "blocked": row.blocked,
        "block_reason": row.block_reason,
    }


def limit_source(origin: str) -> LimitSource:
    """The kind of source of a stored history row's origin."""
    if origin.startswith("provider"):
        return "report"
    sources: dict[str, LimitSource] = {
        "monitor": "monitoring",
        "erp": "manual",
        "console": "manual",
        "request": "request",
    }
    return sources.get(origin, "policy")


def limit_change_out(row: CreditLimitChange) -> LimitChangeOut:
    currency = row.currency
    return LimitChangeOut(
        id=row.id,
        source=limit_source(row.source),
        origin=row.source,
        actor=row.actor,
        changed_at=row.created_at,
        old_limit=format_minor(row.old_limit_minor, currency) if row.old_limit_minor is not None else None,
        new_limit=format_minor(row.new_limit_minor, currency) if row.new_limit_minor is not None else None,
        currency=currency,
        changes=list(row.changes),
        reason=row.reason,
        request_id=row.request_id,
        policy_version=row.policy_version,
    )
