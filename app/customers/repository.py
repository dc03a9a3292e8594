"""Every query on customers, invoices, payments and exchange rates."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Date,
    Label,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from app.chunks import chunks
from app.customers.groups import group_root
from app.customers.models import CreditLimitChange, Customer, CustomerRecord, FxRate, Invoice, Payment
from app.customers.rates import RateTable
from app.db import Reader, WriteSession, core, dialect_insert, dialect_name, exact_sum, insert_for, table_of
from app.orders.models import Reservation

ORDER_FIELDS = ("name", "country", "registration_number")
CUSTOMERS = table_of(Customer)
# The decision path's reads, built once.
ALL_RATES = select(FxRate).order_by(FxRate.base, FxRate.quote)
RATE_COLUMNS = select(FxRate.base, FxRate.quote, FxRate.rate).order_by(FxRate.base, FxRate.quote)
CUSTOMERS_BY_ID = select(Customer).where(Customer.id.in_(bindparam("ids", expanding=True)))
LOCK_CUSTOMERS = (
    select(Customer)
    .where(Customer.id.in_(bindparam("ids", expanding=True)))
    .order_by(Customer.id)
    .with_for_update()
    .execution_options(populate_existing=True)
)
GROUP_MEMBERS = (
    select(Customer.id, Customer.parent_id)
    .where(
        Customer.id.in_(bindparam("roots", expanding=True)) | Customer.parent_id.in_(bindparam("roots", expanding=True))
    )
    .order_by(Customer.id)
)


async def get_customer(
    session: AsyncSession, customer_id: str, *, fresh: bool = False, lock: bool = False
) -> Customer | None:
    """`fresh` reads the row again even when the session holds it (after an upsert by statement); `lock`
    holds the row (the lock decisions take) until the transaction ends."""
    return await session.get(Customer, customer_id, populate_existing=fresh or lock, with_for_update=lock)


async def update_credit_terms(session: AsyncSession, customer_id: str, values: dict[str, Any]) -> None:
    """A manual limit or a block set from the console: only those columns (and updated_at) change."""
    await session.execute(update(Customer).where(Customer.id == customer_id).values(**values))


async def add_limit_change(session: WriteSession, values: dict[str, Any]) -> None:
    await session.execute(insert(CreditLimitChange).values(**values))


async def limit_history(session: AsyncSession, customer_id: str, limit: int) -> Sequence[CreditLimitChange]:
    """The customer's limit changes, newest first."""
    query = (
        select(CreditLimitChange)
        .where(CreditLimitChange.customer_id == customer_id)
        .order_by(CreditLimitChange.created_at.desc(), CreditLimitChange.id.desc())
        .limit(limit)
    )
    return (await session.scalars(query)).all()


async def group_root_of(session: AsyncSession, customer: Customer) -> Customer | None:
    """`groups.group_root` with the customer's parent read from the database."""
    parent = await get_customer(session, customer.parent_id) if customer.parent_id is not None else None
    return group_root(customer, parent)


async def upsert_master_data(session: WriteSession, values: dict[str, Any]) -> bool:
    """Insert or replace a customer's master data; True when the customer is new."""
    exists = await session.scalar(select(Customer.id).where(Customer.id == values["id"]).with_for_update())
    insert = dialect_insert(session)
    statement = insert(Customer).values(**values, created_at=values["updated_at"])
    changed = {name: statement.excluded[name] for name in values if name != "id"}
    await session.execute(statement.on_conflict_do_update(index_elements=["id"], set_=changed))
    return exists is None


async def ensure_from_orders(session: WriteSession, customers: Sequence[dict[str, Any]], now: datetime) -> None:
    """A customer the ERP never pushed gets its row from its order; ERP master data is never overwritten.

    One execution for many orders (in id order); when a customer comes twice, its last order's data stays."""
    rows = [
        {**values, "blocked": False, "master_data_from": "order", "created_at": now, "updated_at": now}
        for values in sorted(customers, key=lambda values: str(values["id"]))
    ]
    if rows:
        await session.execute(_order_upsert(dialect_name(session)), rows)


@lru_cache(maxsize=4)
def _order_upsert(dialect: str) -> Any:
    """One statement: insert the order's customer, or refresh a row that came from orders (never the ERP's).

    An order that leaves out its name or registration number does not erase what an earlier one gave."""
    statement = insert_for(dialect)(CUSTOMERS)
    refreshed = {name: func.coalesce(statement.excluded[name], CUSTOMERS.c[name]) for name in ORDER_FIELDS}
    return statement.on_conflict_do_update(
        index_elements=["id"],
        set_={**refreshed, "updated_at": statement.excluded.updated_at},
        where=CUSTOMERS.c.master_data_from == "order",
    )


# The decision path's reads of customers: Core rows of every column, no ORM instances (see CustomerRecord).
CUSTOMER_ROWS = select(*CUSTOMERS.c).where(CUSTOMERS.c.id.in_(bindparam("ids", expanding=True)))
LOCK_CUSTOMER_ROWS = CUSTOMER_ROWS.order_by(CUSTOMERS.c.id).with_for_update()


async def customer_records(session: Reader, customer_ids: Sequence[str]) -> dict[str, CustomerRecord]:
    """`customers_by_id` as Core rows."""
    found: dict[str, CustomerRecord] = {}
    connection = await core(session)
    for chunk in chunks(customer_ids):
        rows: Sequence[Any] = (await connection.execute(CUSTOMER_ROWS, {"ids": list(chunk)})).all()
        found.update((row.id, row) for row in rows)
    return found


async def lock_customer_records(session: WriteSession, customer_ids: Iterable[str]) -> list[CustomerRecord]:
    """`lock_customers` as Core rows."""
    rows: Sequence[Any] = (
        await (await core(session)).execute(LOCK_CUSTOMER_ROWS, {"ids": sorted(set(customer_ids))})
    ).all()
    return list(rows)


async def lock_customers(session: WriteSession, customer_ids: Iterable[str]) -> list[Customer]:
    """Row locks (in id order when several); SQLite already holds its write lock."""
    return list((await session.scalars(LOCK_CUSTOMERS, {"ids": sorted(set(customer_ids))})).all())


async def group_member_ids(session: AsyncSession, root_id: str) -> list[str]:
    return (await group_members(session, [root_id]))[root_id]


async def group_members(session: AsyncSession, root_ids: Sequence[str]) -> dict[str, list[str]]:
    """Each root's group: the root itself and the customers whose parent it is, in id order."""
    groups: dict[str, list[str]] = {root_id: [] for root_id in root_ids}
    if groups:
        rows = await (await core(session)).execute(GROUP_MEMBERS, {"roots": list(groups)})
        for customer_id, parent_id in rows:
            for root_id in (customer_id, parent_id):
                if root_id in groups:
                    groups[root_id].append(customer_id)
    return groups


async def existing_customer_ids(session: AsyncSession, customer_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in chunks(customer_ids):
        found.update((await session.scalars(select(Customer.id).where(Customer.id.in_(chunk)))).all())
    return found


async def get_invoice(
    session: AsyncSession, customer_id: str, invoice_id: str, *, lock: bool = False
) -> Invoice | None:
    query = select(Invoice).where(Invoice.customer_id == customer_id, Invoice.invoice_id == invoice_id)
    if lock:
        query = query.with_for_update()
    return (await session.scalars(query.execution_options(populate_existing=True))).one_or_none()


async def upsert_invoices(session: WriteSession, rows: list[dict[str, Any]]) -> None:
    """Insert or update many invoices: one compiled statement, executed for all rows (executemany)."""
    if not rows:
        return
    insert = dialect_insert(session)
    statement = insert(Invoice)
    changed = {name: statement.excluded[name] for name in rows[0] if name not in ("customer_id", "invoice_id")}
    statement = statement.on_conflict_do_update(index_elements=["customer_id", "invoice_id"], set_=changed)
    await session.execute(statement, rows)


async def count_existing_invoices(session: AsyncSession, keys: Sequence[tuple[str, str]]) -> int:
    by_customer: dict[str, list[str]] = {}
    for customer_id, invoice_id in keys:
        by_customer.setdefault(customer_id, []).append(invoice_id)
    total = 0
    for customer_id, invoice_ids in by_customer.items():
        for chunk in chunks(invoice_ids):
            query = select(func.count()).where(Invoice.customer_id == customer_id, Invoice.invoice_id.in_(chunk))
            total += int(await session.scalar(query) or 0)
    return total


async def insert_invoice_if_absent(session: WriteSession, values: dict[str, Any]) -> None:
    insert = dialect_insert(session)
    await session.execute(
        insert(Invoice).values(**values).on_conflict_do_nothing(index_elements=["customer_id", "invoice_id"])
    )


async def get_payment(session: AsyncSession, customer_id: str, payment_id: str) -> Payment | None:
    return await session.get(Payment, (customer_id, payment_id))


async def record_payment(session: WriteSession, payment: dict[str, Any], open_amount_minor: int) -> None:
    await session.execute(insert(Payment).values(**payment))
    await session.execute(
        update(Invoice)
        .where(Invoice.customer_id == payment["customer_id"], Invoice.invoice_id == payment["invoice_id"])
        .values(open_amount_minor=open_amount_minor, updated_at=payment["created_at"])
    )


async def upsert_rates(session: WriteSession, rows: list[dict[str, Any]]) -> None:
    insert = dialect_insert(session)
    statement = insert(FxRate).values(rows)
    changed = {name: statement.excluded[name] for name in ("rate", "as_of", "updated_at")}
    await session.execute(statement.on_conflict_do_update(index_elements=["base", "quote"], set_=changed))


async def all_rates(session: AsyncSession) -> list[FxRate]:
    return list((await session.scalars(ALL_RATES)).all())


async def rate_table(session: Reader) -> RateTable:
    """Every stored rate as the table conversions read (inverse and cross rates derived)."""
    rows = await (await core(session)).execute(RATE_COLUMNS)
    return RateTable.of((base, quote, rate) for base, quote, rate in rows)


async def payments_since(session: AsyncSession, customer_id: str, since: date) -> Sequence[Any]:
    """(currency, amount, paid_on, due_date) of the customer's payments from `since` on."""
    query = (
        select(Payment.currency, Payment.amount_minor, Payment.paid_on, Invoice.due_date)
        .join(Invoice, (Invoice.customer_id == Payment.customer_id) & (Invoice.invoice_id == Payment.invoice_id))
        .where(Payment.customer_id == customer_id, Payment.paid_on >= since)
    )
    return (await session.execute(query)).all()


async def exposure_rows(
    session: AsyncSession,
    customer_ids: Sequence[str] | None,
    *,
    today: date,
    now: datetime,
    exclude_orders: Sequence[str] = (),
    also: Select[*tuple[Any, ...]] | None = None,
    also_parameters: dict[str, Any] | None = None,
) -> Sequence[Any]:
    """(customer_id, kind, currency, amount_minor, oldest_due) in ONE statement, so it reads one snapshot.

    kind is "receivable", "overdue", "reserved" or "vat" (the VAT within the first and third). Reading
    receivables and reservations in one statement matters: an order's invoiced event moves an amount from one
    to the other, and two statements could see it in neither. The reservations of `exclude_orders` are left
    out: the orders being decided again.

    `also`: one more branch of the same shape, built once by the caller, with its own kind and its parameters
    in `also_parameters` (it may use `exclude_orders` too): what a decision asks besides exposure, answered in
    the same statement.
    """
    parameters: dict[str, Any] = {"today": today, "now": now, **(also_parameters or {})}
    if customer_ids is not None:
        parameters["customer_ids"] = list(customer_ids)
    if exclude_orders:
        parameters["exclude_orders"] = list(exclude_orders)
    statement = _exposure_statement(customer_ids is not None, bool(exclude_orders), also)
    return (await (await core(session)).execute(statement, parameters)).all()


@lru_cache(maxsize=8)
def _exposure_statement(by_customer: bool, excluding_order: bool, also: Select[*tuple[Any, ...]] | None = None) -> Any:
    """exposure_rows' statement, built once for each shape and executed with parameters."""
    now: BindParameter[datetime] = bindparam("now")
    today: BindParameter[date] = bindparam("today")
    counted = or_(Reservation.status == "shipped", and_(Reservation.status == "active", Reservation.expires_at > now))
    reserved_where: list[ColumnElement[bool]] = [counted]
    invoice_where: list[ColumnElement[bool]] = [Invoice.open_amount_minor > 0]
    if by_customer:  # else the whole portfolio
        reserved_where.append(Reservation.customer_id.in_(bindparam("customer_ids", expanding=True)))
        invoice_where.append(Invoice.customer_id.in_(bindparam("customer_ids", expanding=True)))
    if excluding_order:
        reserved_where.append(Reservation.order_id.not_in(bindparam("exclude_orders", expanding=True)))
    no_date = cast(null(), Date)
    overdue = (
        select(
            Invoice.customer_id,
            literal("overdue").label("kind"),
            Invoice.currency,
            exact_sum(Invoice.open_amount_minor).label("amount"),
            func.min(Invoice.due_date).label("oldest_due"),
        )
        .where(*invoice_where, Invoice.due_date < today)
        .group_by(Invoice.customer_id, Invoice.currency)
    )
    receivable = (
        select(
            Invoice.customer_id,
            literal("receivable"),
            Invoice.currency,
            exact_sum(Invoice.open_amount_minor),
            no_date,
        )
        .where(*invoice_where)
        .group_by(Invoice.customer_id, Invoice.currency)
    )
    reserved = (
        select(
            Reservation.customer_id,
            literal("reserved"),
            Reservation.currency,
            exact_sum(Reservation.amount_minor),
            no_date,
        )
        .where(*reserved_where)
        .group_by(Reservation.customer_id, Reservation.currency)
    )
    # The VAT in what is owed: an invoice's still open (its open amount, at most its VAT: payments are taken as
    # paying the net first, so the insured share is never overstated) and a reservation's.
    invoice_vat = (
        select(
            Invoice.customer_id,
            literal("vat"),
            Invoice.currency,
            exact_sum(_least(Invoice.vat_minor, Invoice.open_amount_minor)),
            no_date,
        )
        .where(*invoice_where, Invoice.vat_minor.is_not(None))
        .group_by(Invoice.customer_id, Invoice.currency)
    )
    reserved_vat = (
        select(
            Reservation.customer_id,
            literal("vat"),
            Reservation.currency,
            exact_sum(_least(Reservation.vat_minor, Reservation.amount_minor)),
            no_date,
        )
        .where(*reserved_where, Reservation.vat_minor.is_not(None))
        .group_by(Reservation.customer_id, Reservation.currency)
    )
    branches: list[Any] = [overdue, receivable, reserved, invoice_vat, reserved_vat]
    if also is not None:
        branches.append(also)
    return union_all(*branches)


def _least(first: Any, second: Any) -> Any:
    """The smaller of two columns, in SQL both databases speak."""
    return case((first < second, first), else_=second)


async def sales_since(session: AsyncSession, customer_id: str | None, since: date) -> Sequence[Any]:
    """(currency, amount_minor) of invoices issued from `since` on: the sales DSO divides by."""
    query = select(Invoice.currency, exact_sum(Invoice.amount_minor)).where(Invoice.issue_date >= since)
    if customer_id is not None:
        query = query.where(Invoice.customer_id == customer_id)
    return (await session.execute(query.group_by(Invoice.currency))).all()


# Days past due at which an open invoice moves on to the next ageing bucket (the portfolio's, the console's).
AGEING_DAYS = (30, 60, 90)
PORTFOLIO_BUCKETS = ("0-30", "31-60", "61-90", "90+")


def ageing_bucket(today: date, names: Sequence[str]) -> Label[str]:
    """An open invoice's ageing bucket, as the column "bucket". `names` name each bucket: not yet due, then
    up to each of AGEING_DAYS days past due, then beyond the last."""
    *bounded, beyond = names
    bounds = (today, *(today - timedelta(days=days) for days in AGEING_DAYS))
    whens = [(Invoice.due_date >= bound, name) for bound, name in zip(bounds, bounded, strict=True)]
    return case(*whens, else_=beyond).label("bucket")


async def overdue_buckets(session: AsyncSession, today: date) -> Sequence[Any]:
    """(bucket, currency, open_amount_minor) of overdue invoices by days past due: PORTFOLIO_BUCKETS."""
    bucket = ageing_bucket(today, ("not due", *PORTFOLIO_BUCKETS))  # none is: only overdue invoices are read
    query = (
        select(bucket, Invoice.currency, exact_sum(Invoice.open_amount_minor))
        .where(Invoice.open_amount_minor > 0, Invoice.due_date < today)
        .group_by(bucket, Invoice.currency)
    )
    return (await session.execute(query)).all()


async def blocked_customers(session: AsyncSession) -> list[Customer]:
    return list((await session.scalars(select(Customer).where(Customer.blocked).order_by(Customer.id))).all())


async def customers_by_id(session: AsyncSession, customer_ids: Sequence[str]) -> dict[str, Customer]:
    """The stored customers among `customer_ids`, without locks."""
    found: dict[str, Customer] = {}
    for chunk in chunks(customer_ids):
        rows = await session.scalars(CUSTOMERS_BY_ID, {"ids": list(chunk)})
        found.update((row.id, row) for row in rows)
    return found


async def receivables_then(session: AsyncSession, day: date) -> tuple[Sequence[Any], Sequence[Any]]:
    """What was owed at the end of `day`, and what was invoiced in the 90 days to it: DSO's two sides then.

    Owed then: the open amount today of the invoices issued by `day`, plus the payments on them recorded as
    paid after it (an open amount the ERP lowered without a payment counts as lowered all along). Each side
    as (currency, amount_minor) rows."""
    owed_now = (
        select(Invoice.currency, exact_sum(Invoice.open_amount_minor))
        .where(Invoice.issue_date <= day)
        .group_by(Invoice.currency)
    )
    paid_since = (
        select(Payment.currency, exact_sum(Payment.amount_minor))
        .join(Invoice, and_(Invoice.customer_id == Payment.customer_id, Invoice.invoice_id == Payment.invoice_id))
        .where(Invoice.issue_date <= day, Payment.paid_on > day)
        .group_by(Payment.currency)
    )
    sold = (
        select(Invoice.currency, exact_sum(Invoice.amount_minor))
        .where(Invoice.issue_date <= day, Invoice.issue_date > day - timedelta(days=90))
        .group_by(Invoice.currency)
    )
    owed: dict[str, int] = {}
    for rows in ((await session.execute(owed_now)).all(), (await session.execute(paid_since)).all()):
        for currency, amount in rows:
            owed[currency] = owed.get(currency, 0) + int(amount or 0)
    return list(owed.items()), (await session.execute(sold)).all()


# The payment-behaviour read: every invoice still open or issued since `since`, or paid since then, with its
# payments since then, for a list of customers in ONE statement (the decision path asks it once a round).
BEHAVIOUR_ROWS = (
    select(
        Invoice.customer_id,
        Invoice.invoice_id,
        Invoice.currency,
        Invoice.amount_minor,
        Invoice.open_amount_minor,
        Invoice.issue_date,
        Invoice.due_date,
        Payment.payment_id,
        Payment.currency.label("payment_currency"),
        Payment.amount_minor.label("payment_minor"),
        Payment.paid_on,
    )
    .outerjoin(
        Payment,
        (Payment.customer_id == Invoice.customer_id)
        & (Payment.invoice_id == Invoice.invoice_id)
        & (Payment.paid_on >= bindparam("since")),
    )
    .where(
        Invoice.customer_id.in_(bindparam("customer_ids", expanding=True)),
        or_(Invoice.open_amount_minor > 0, Invoice.issue_date >= bindparam("since"), Payment.payment_id.is_not(None)),
    )
)


async def behaviour_rows(session: AsyncSession, customer_ids: Sequence[str], since: date) -> Sequence[Any]:
    """(customer, invoice columns…, payment columns or NULLs) for `app.customers.behaviour.figures_by_customer`."""
    if not customer_ids:
        return []
    parameters = {"customer_ids": list(customer_ids), "since": since}
    return (await (await core(session)).execute(BEHAVIOUR_ROWS, parameters)).all()


# Each customer's first invoice, and for invoices paid in full since `since`, the due date and the last payment.
FIRST_INVOICES = (
    select(Invoice.customer_id, func.min(Invoice.issue_date))
    .where(Invoice.customer_id.in_(bindparam("customer_ids", expanding=True)))
    .group_by(Invoice.customer_id)
)
PAID_INVOICES = (
    select(Invoice.customer_id, Invoice.due_date, func.max(Payment.paid_on))
    .join(Payment, (Payment.customer_id == Invoice.customer_id) & (Payment.invoice_id == Invoice.invoice_id))
    .where(Invoice.customer_id.in_(bindparam("customer_ids", expanding=True)), Invoice.open_amount_minor == 0)
    .group_by(Invoice.customer_id, Invoice.invoice_id, Invoice.due_date)
    .having(func.max(Payment.paid_on) >= bindparam("since"))
)


async def trading_history(
    session: AsyncSession, customer_ids: Sequence[str], since: date
) -> dict[str, tuple[date | None, int]]:
    """Each customer's first invoice date and the most days past due an invoice paid since `since` was paid."""
    found: dict[str, tuple[date | None, int]] = dict.fromkeys(customer_ids, (None, 0))
    for piece in chunks(sorted(set(customer_ids))):
        for customer_id, first in await session.execute(FIRST_INVOICES, {"customer_ids": piece}):
            found[customer_id] = (first, found[customer_id][1])
        for customer_id, due, paid in await session.execute(PAID_INVOICES, {"customer_ids": piece, "since": since}):
            found[customer_id] = (found[customer_id][0], max(found[customer_id][1], (paid - due).days))
    return found
