"""create_app(settings): the ASGI application and the lifespan that builds its resources."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import httpx
from fastapi import Depends, FastAPI
from sqlalchemy.exc import DBAPIError

from app.api import (
    audit,
    customers,
    decisions,
    health,
    metrics,
    notifications,
    orders,
    policies,
    providers,
    receivables,
    reviews,
    webhooks,
)
from app.api.deps import reject_unknown_query
from app.api.exception_handlers import install_database_errors, install_error_handlers
from app.api.problems import PROBLEM_JSON
from app.api.request_context import RequestContext
from app.api.version import router as version_router
from app.auth import KeyRing
from app.console.router import install_console
from app.customers.service import CustomerService
from app.db import Database
from app.decisions.schemas import decision_out
from app.decisions.service import DecisionService
from app.errors import InvalidRequest
from app.idempotency.service import IdempotencyService
from app.middleware import BodySizeLimit, JsonDepthLimit
from app.monitoring.notifications import NotificationService
from app.monitoring.scheduler import run_scheduler
from app.monitoring.service import MonitorService
from app.observability.logging import configure_logging
from app.orders.service import OrderService
from app.policy.schema import load_policy_file
from app.policy_versions.service import PolicyService
from app.providers.registry import build_report_service
from app.ratelimit.service import RateLimiter
from app.readside.credit_file import CreditFileService
from app.readside.customer_list import CustomerListService
from app.readside.open_items import OpenItemsService
from app.reviews.service import ReviewService
from app.settings import Settings, get_settings
from app.webhooks.dispatcher import Dispatcher, retry_rules
from app.webhooks.service import WebhookService

logger = logging.getLogger("creditgate")

DESCRIPTION = """B2B trade-credit decisions: accept on credit, ask prepayment, review or reject — with reasons.

Money is a decimal string in the currency's minor units. Errors are RFC 9457 problem details.
Authenticate with `Authorization: Bearer <api key>`.

No string anywhere (body, query, path) may contain U+0000. A request that is well formed but that the stored
state refuses (an unknown customer in a batch, a payment above the open amount, review terms that do not fit
the decided order) is 409 with the fields named; 422 means the request itself breaks the rules stated here.
A `cursor` (`format: cursor`) is only ever a `next_cursor` this API returned."""


def create_app(
    settings: Settings | None = None,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    freeze_after_startup: bool = False,
) -> FastAPI:
    """The app; `transport` replaces the network under the shared outgoing client (tests fake providers so).

    `freeze_after_startup` (the served process): what startup built is moved out of the garbage collector's
    way (gc.freeze), so a full collection no longer walks every module, model and compiled statement, a
    stall of tens of milliseconds in the latency tail. Not for processes that build many apps, as tests do:
    what is frozen is never collected."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keys = KeyRing(settings.key_scopes())
        if not keys:
            raise RuntimeError(
                "CREDITGATE_API_KEYS is empty: configure at least one key, or start the demo with `make run`"
            )
        load_policy_file(settings.policy_file)  # a broken policy file stops the start, not the first decision
        database = Database.from_settings(settings)
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
            app.state.credit_files = CreditFileService(database, active_policy, decision_out, reports)
            app.state.customer_list = CustomerListService(database, active_policy, reports)
            app.state.open_items = OpenItemsService(database, active_policy)
            app.state.orders = OrderService(database)
            app.state.reviews = ReviewService(database, policies, settings.reservation_expiry_days)
            app.state.idempotency = IdempotencyService(
                database,
                retention=timedelta(hours=settings.idempotency_retention_hours),
                lease=timedelta(seconds=settings.idempotency_lease_seconds),
            )
            app.state.webhooks = WebhookService(database, allow_private_targets=settings.webhooks_allow_private_targets)
            app.state.dispatcher = Dispatcher(database, http, retry_rules(settings))
            app.state.monitor = MonitorService(database, reports, active_policy, settings.monitor_recent_days)
            app.state.notifications = NotificationService(database, app.state.monitor, active_policy)
            tasks = _background_tasks(app, settings)
            app.state.decision_rate = RateLimiter(
                database, "decisions", settings.decision_rate_limit, settings.decision_rate_window_seconds
            )
            if freeze_after_startup:
                gc.collect()
                gc.freeze()
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await reports.aclose()
                await database.dispose()

    app = FastAPI(
        title="creditgate",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        dependencies=[Depends(reject_unknown_query)],
    )
    install_error_handlers(app)
    install_database_errors(app)
    _document_validation_problems(app)
    app.add_middleware(JsonDepthLimit)  # inside BodySizeLimit, which bounds what it buffers
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={
            "/v1/receivables/batch": settings.max_batch_body_bytes,
            "/v1/providers/insurer-limits": settings.max_batch_body_bytes,
        },
    )
    # Added last, so outermost: even a refused body or an unhandled error answers with X-Request-ID.
    app.add_middleware(RequestContext)
    app.include_router(health.router)
    app.include_router(version_router)
    app.include_router(decisions.router)
    app.include_router(policies.router)
    app.include_router(customers.router)
    app.include_router(receivables.router)
    app.include_router(orders.router)
    app.include_router(providers.router)
    app.include_router(reviews.router)
    app.include_router(audit.router)
    app.include_router(metrics.router)
    app.include_router(notifications.router)
    app.include_router(webhooks.router)
    install_console(app, settings)
    return app


def _background_tasks(app: FastAPI, settings: Settings) -> list[asyncio.Task[None]]:
    """The webhook dispatcher and, when switched on, the monitor scheduler: both stop with the app."""
    tasks = []
    if settings.webhooks_dispatch_interval_seconds > 0:
        tasks.append(asyncio.create_task(app.state.dispatcher.run(settings.webhooks_dispatch_interval_seconds)))
    if settings.monitor_interval_seconds > 0:
        tasks.append(
            asyncio.create_task(
                run_scheduler(
                    app.state.database, app.state.monitor, settings.monitor_budget, settings.monitor_interval_seconds
                )
            )
        )
    return tasks


async def _bootstrap_policy(policies: PolicyService) -> None:
    """Store the configured policy on an empty database; if the database is down, the first decision does it."""
    try:
        await policies.bootstrap()
    except (DBAPIError, OSError) as exc:
        logger.warning("could not check the stored policies at startup (%s); retrying on first use", exc)


def _document_validation_problems(app: FastAPI) -> None:
    """FastAPI documents its own 422 body on routes that declare none; ours is always a problem document."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        document = build()
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                response = operation.get("responses", {}).get("422")
                if response and "HTTPValidationError" in json.dumps(response):
                    operation["responses"]["422"] = {
                        "description": InvalidRequest.title,
                        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
                    }
        schemas = document.get("components", {}).get("schemas", {})
        if "HTTPValidationError" not in json.dumps(document.get("paths", {})):
            schemas.pop("HTTPValidationError", None)
            schemas.pop("ValidationError", None)
        app.openapi_schema = document
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def app_factory() -> FastAPI:
    """For `uvicorn --factory app.main:app_factory`: the served process logs JSON and freezes its startup."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format == "json")
    return create_app(settings, freeze_after_startup=True)
