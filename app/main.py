"""create_app(settings): the ASGI application and the lifespan that builds its resources."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.api import customers, decisions, health, orders, policies, providers, receivables
from app.auth import KeyRing
from app.console.router import install_console
from app.customers.credit_file import CreditFileService
from app.customers.service import CustomerService
from app.db import Database
from app.decisions.service import DecisionService, decision_out
from app.errors import ServiceUnavailable, install_error_handlers, problem_response
from app.idempotency.service import IdempotencyService
from app.middleware import BodySizeLimit
from app.orders.service import OrderService
from app.policies.service import PolicyService
from app.policy.schema import load_policy_file
from app.providers.registry import build_report_service
from app.settings import Settings, get_settings

logger = logging.getLogger("creditgate")

DESCRIPTION = """B2B trade-credit decisions: accept on credit, ask prepayment, review or reject — with reasons.

Money is a decimal string in the currency's minor units. Errors are RFC 9457 problem details.
Authenticate with `Authorization: Bearer <api key>`."""


def create_app(settings: Settings | None = None, *, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """The app; `transport` replaces the network under the shared outgoing client (tests fake providers so)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keys = KeyRing(settings.key_scopes())
        if not keys:
            raise RuntimeError(
                "CREDITGATE_API_KEYS is empty: configure at least one key, or start the demo with `make run`"
            )
        load_policy_file(settings.policy_file)  # a broken policy file stops the start, not the first decision
        database = Database(settings.database_url, settings.database_pool_size)
        policies = PolicyService(database, settings.policy_file)
        await _bootstrap_policy(policies)
        timeout = httpx.Timeout(
            settings.decision_budget_ms / 1000, connect=min(2.0, settings.decision_budget_ms / 1000)
        )
        async with httpx.AsyncClient(
            timeout=timeout, limits=httpx.Limits(max_connections=50), transport=transport
        ) as http:
            reports = build_report_service(settings, http, database)

            app.state.settings = settings
            app.state.keys = keys
            app.state.database = database
            app.state.http = http
            app.state.reports = reports
            app.state.policies = policies
            active_policy = policies.active_policy
            app.state.decisions = DecisionService(
                database, reports, active_policy, reservation_days=settings.reservation_expiry_days
            )
            app.state.customers = CustomerService(database, active_policy, settings.max_batch_invoices)
            app.state.credit_files = CreditFileService(database, active_policy, decision_out)
            app.state.orders = OrderService(database)
            app.state.idempotency = IdempotencyService(
                database,
                retention=timedelta(hours=settings.idempotency_retention_hours),
                lease=timedelta(seconds=settings.idempotency_lease_seconds),
            )
            try:
                yield
            finally:
                await reports.aclose()
                await database.dispose()

    app = FastAPI(
        title="creditgate",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    _install_database_errors(app)
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={
            "/v1/receivables/batch": settings.max_batch_body_bytes,
            "/v1/providers/insurer-limits": settings.max_batch_body_bytes,
        },
    )
    app.include_router(health.router)
    app.include_router(decisions.router)
    app.include_router(policies.router)
    app.include_router(customers.router)
    app.include_router(receivables.router)
    app.include_router(orders.router)
    app.include_router(providers.router)
    install_console(app, settings)
    return app


async def _bootstrap_policy(policies: PolicyService) -> None:
    """Store the configured policy on an empty database; if the database is down, the first decision does it."""
    try:
        await policies.bootstrap()
    except (DBAPIError, OSError) as exc:
        logger.warning("could not check the stored policies at startup (%s); retrying on first use", exc)


def _install_database_errors(app: FastAPI) -> None:
    """A database that is down or saturated answers 503 fast, never a bare 500."""

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if not exc.connection_invalidated and not _is_unavailable(exc):
            raise exc
        return _unavailable(request)

    @app.exception_handler(PoolTimeout)
    async def _pool(request: Request, exc: PoolTimeout) -> JSONResponse:
        return _unavailable(request)


def _is_unavailable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return any(word in text for word in ("database is locked", "connection", "could not connect", "terminating"))


def _unavailable(request: Request) -> JSONResponse:
    return problem_response(
        ServiceUnavailable.status,
        ServiceUnavailable.code,
        ServiceUnavailable.title,
        detail="the database is not reachable; retry shortly",
        instance=request.url.path,
        headers={"Retry-After": "1"},
    )


def app_factory() -> FastAPI:
    """For `uvicorn --factory app.main:app_factory`."""
    return create_app()
