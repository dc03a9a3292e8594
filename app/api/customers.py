"""Customers, their invoices and payments (the ERP's writes), and the credit file."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from app.api.deps import CreditFileServiceDep, CustomerServiceDep, Idempotent, JsonBody, Read, Receivables
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.customers.schemas import CustomerMasterData, CustomerOut, InvoiceIn, InvoiceOut, PaymentIn, PaymentOut
from app.customers.service import PaymentExists
from app.errors import Conflict, Forbidden, NotFound, Unauthenticated
from app.readside.credit_file import BehaviourOut, CreditFile

router = APIRouter(prefix="/v1/customers", tags=["customers"])

CustomerId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
InvoiceId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")]
WRITE_PROBLEMS = (*JSON_WRITE_PROBLEMS, Conflict)


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
