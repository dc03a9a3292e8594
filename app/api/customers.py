"""Customers, their invoices and payments (the ERP's writes), and the credit file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response

from app.api.deps import (
    CreditFileServiceDep,
    CustomerListServiceDep,
    CustomerServiceDep,
    Idempotent,
    JsonBody,
    OpenItemsServiceDep,
    Read,
    Receivables,
)
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses, query_parameters
from app.customers.schemas import (
    CustomerMasterData,
    CustomerOut,
    InvoiceIn,
    InvoiceOut,
    LimitHistoryOut,
    PaymentIn,
    PaymentOut,
)
from app.customers.service import PaymentExists
from app.errors import Conflict, Forbidden, InvalidRequest, NotFound, Unauthenticated
from app.readside.credit_file import BehaviourOut, CreditFile
from app.readside.customer_list import CustomerFilters, CustomerPage, CustomerSort
from app.readside.open_items import InvoicePage, InvoiceStatus, OpenItems
from app.schema_types import CUSTOMER_CURSOR_FORMAT, INVOICE_CURSOR_FORMAT, cursor_schema

router = APIRouter(prefix="/v1/customers", tags=["customers"])

CustomerId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
InvoiceId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
WRITE_PROBLEMS = (*JSON_WRITE_PROBLEMS, Conflict)


@router.get(
    "",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Find customers: search, filter, sort by exposure or utilisation",
)
async def list_customers(
    _principal: Read,
    service: CustomerListServiceDep,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=100, description="Part of the name, id or registration number."),
    ] = None,
    blocked: Annotated[bool | None, Query(description="true: blocked for credit; false: not.")] = None,
    over_limit: Annotated[bool | None, Query(description="true: exposure above the limit.")] = None,
    with_overdue: Annotated[bool | None, Query(description="true: anything overdue.")] = None,
    segment: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    group: Annotated[
        str | None, Query(min_length=1, max_length=64, description="The group's root customer: it and its members.")
    ] = None,
    sort: Annotated[CustomerSort, Query(description="Highest first; ties by id.")] = "exposure",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    cursor: Annotated[
        str | None,
        Query(
            max_length=512,
            json_schema_extra=cursor_schema("The `next_cursor` of the page before.", CUSTOMER_CURSOR_FORMAT),
        ),
    ] = None,
) -> CustomerPage:
    """Limit, exposure and available credit are the credit file's: what a decision taken now would have."""
    filters = CustomerFilters(
        q=(q or "").strip() or None,
        blocked=blocked,
        over_limit=over_limit,
        with_overdue=with_overdue,
        segment=segment,
        group=group,
    )
    with query_parameters("cursor"):
        return await service.search(filters, sort, limit, cursor)


@router.put(
    "/{customer_id}",
    response_model=CustomerOut,
    dependencies=[JsonBody],
    responses={201: {"model": CustomerOut, "description": "Created"}, **problem_responses(*WRITE_PROBLEMS)},
    summary="Create or replace a customer's master data (200 replaced, 201 created)",
)
async def put_customer(
    customer_id: CustomerId,
    body: CustomerMasterData,
    principal: Receivables,
    service: CustomerServiceDep,
    idempotent: Idempotent,
) -> Response:
    """Master data from the ERP wins over what orders say; only the ERP sets segment, limits and blocks."""
    return await idempotent.run(
        lambda recorder: service.put_customer(customer_id, body, recorder, actor=principal.key_id)
    )


@router.get(
    "/{customer_id}",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="A customer's master data",
)
async def get_customer(customer_id: CustomerId, _principal: Read, service: CustomerServiceDep) -> CustomerOut:
    return await service.get_customer(customer_id)


@router.get(
    "/{customer_id}/limit-history",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound, InvalidRequest),
    summary="Every change of the customer's limit, newest first: source, who, when, why",
)
async def limit_history(
    customer_id: CustomerId,
    _principal: Read,
    service: CustomerServiceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> LimitHistoryOut:
    """Manual limits (ERP, console), approved limit requests (with `request_id`) and monitoring's reassessments."""
    return await service.limit_history(customer_id, limit)


@router.get(
    "/{customer_id}/credit-file",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="Limit and its source, exposure, available credit, overdue, DBT, DSO, latest report, recent decisions",
)
async def credit_file(customer_id: CustomerId, _principal: Read, service: CreditFileServiceDep) -> CreditFile:
    return await service.credit_file(customer_id)


@router.get(
    "/{customer_id}/behaviour",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="Payment-behaviour figures from the customer's own invoices and payments, and their score",
)
async def behaviour(customer_id: CustomerId, _principal: Read, service: CreditFileServiceDep) -> BehaviourOut:
    """As of today: each figure with its window and data, and the score, class and contributions under the
    active policy's `behaviour` section (null without one; no points below its minimum experience)."""
    return await service.behaviour(customer_id)


@router.get(
    "/{customer_id}/invoices",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound, InvalidRequest),
    summary="A customer's invoices, by due date",
)
async def list_invoices(
    customer_id: CustomerId,
    _principal: Read,
    service: OpenItemsServiceDep,
    status: Annotated[InvoiceStatus, Query(description="open: something still owed; paid: nothing open; all.")] = "all",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    cursor: Annotated[
        str | None,
        Query(
            max_length=512,
            json_schema_extra=cursor_schema("The `next_cursor` of the page before.", INVOICE_CURSOR_FORMAT),
        ),
    ] = None,
) -> InvoicePage:
    with query_parameters("cursor"):
        return await service.invoices(customer_id, status, limit, cursor)


@router.get(
    "/{customer_id}/open-items",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="A customer's open items: open invoices and reserved credit, with the exposure they add up to",
)
async def open_items(customer_id: CustomerId, _principal: Read, service: OpenItemsServiceDep) -> OpenItems:
    """The rows the credit file's exposure sums: an ERP reconciles its ledger against them."""
    return await service.open_items(customer_id)


@router.put(
    "/{customer_id}/invoices/{invoice_id}",
    response_model=InvoiceOut,
    dependencies=[JsonBody],
    responses={
        201: {"model": InvoiceOut, "description": "Created"},
        **problem_responses(*WRITE_PROBLEMS, NotFound),
    },
    summary="Create or update an invoice (an upsert: 200 updated, 201 created)",
)
async def put_invoice(
    customer_id: CustomerId,
    invoice_id: InvoiceId,
    body: InvoiceIn,
    _principal: Receivables,
    service: CustomerServiceDep,
    idempotent: Idempotent,
) -> Response:
    """The open amount is what is still owed. An order id ends that order's reservation (it is invoiced)."""
    return await idempotent.run(lambda recorder: service.put_invoice(customer_id, invoice_id, body, recorder))


@router.post(
    "/{customer_id}/invoices/{invoice_id}/payments",
    status_code=201,
    response_model=PaymentOut,
    dependencies=[JsonBody],
    responses=problem_responses(*WRITE_PROBLEMS, NotFound, PaymentExists),
    summary="Record a payment: it lowers the invoice's open amount",
)
async def add_payment(
    customer_id: CustomerId,
    invoice_id: InvoiceId,
    body: PaymentIn,
    _principal: Receivables,
    service: CustomerServiceDep,
    idempotent: Idempotent,
) -> Response:
    return await idempotent.run(lambda recorder: service.add_payment(customer_id, invoice_id, body, recorder))
