"""create_app(settings): the ASGI application and the lifespan that builds its resources."""

from __future__ import annotations

import asyncio
import functools
import gc
import json
import logging
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import Depends, FastAPI
from fastapi_offline import FastAPIOffline
from sqlalchemy.exc import DBAPIError

from app.api import (
    arrangements,
    audit,
    covers,
    customers,
    decisions,
    health,
    insurance,
    limit_requests,
    lost_sales,
    metrics,
    notes,
    notifications,
    orders,
    policies,
    providers,
    receivables,
    reviews,
    signals,
    webhooks,
)
from app.api.deps import reject_unknown_query
from app.api.exception_handlers import install_database_errors, install_error_handlers
from app.api.problems import PROBLEM_JSON
from app.api.request_context import RequestContext
from app.api.version import router as version_router
from app.auth import KeyRing
from app.console.router import install_console
from app.cookies import signer_for
from app.db import Database
from app.errors import InvalidRequest
from app.middleware import BodySizeLimit, JsonDepthLimit
from app.monitoring.scheduler import run_scheduler
from app.observability.logging import configure_logging
from app.policy.schema import load_policy_file
from app.policy_versions.service import PolicyService
from app.services import Services, build_services, provide
from app.settings import Settings, get_settings

logger = logging.getLogger("creditgate")

DESCRIPTION = """B2B trade-credit decisions: accept on credit, ask prepayment, review or reject — with reasons.

Money is a decimal string in the currency's minor units. Errors are RFC 9457 problem details.
Authenticate with `Authorization: Bearer <api key>`.

No string anywhere (body, query, path) may contain U+0000. A request that is well formed but that the stored
state refuses (an unknown customer in a batch, a payment above the open amount, review terms that do not fit
the decided order) is 409 with the fields named; 422 means the request itself breaks the rules stated here.
A `cursor` (`format: cursor`) is only ever a `next_cursor` this API returned."""

DOCS_ASSETS = "/docs-assets"


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
    console_signer = signer_for(settings)  # outside the lifespan: a random secret lasts as long as the app

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
            timeout=timeout, limits=httpx.Limits(max_connections=50), transport=transport, verify=_outgoing_tls()
        ) as http:
            services = build_services(
                settings, keys=keys, database=database, policies=policies, http=http, console_signer=console_signer
            )
            provide(app, services)
            tasks = _background_tasks(services)
            if freeze_after_startup:
                gc.collect()
                gc.freeze()
            try:
                yield
            finally:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                await services.reports.aclose()
                await database.dispose()

    # /docs and /redoc load Swagger UI and ReDoc from files the package ships, never from a CDN: they work
    # where the service has no internet.
    app = FastAPIOffline(
        static_url=DOCS_ASSETS,
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
    app.include_router(covers.router)
    app.include_router(insurance.router)
    app.include_router(notes.router)
    app.include_router(arrangements.router)
    app.include_router(signals.router)
    app.include_router(limit_requests.router)
    app.include_router(limit_requests.reviews_router)
    app.include_router(lost_sales.router)
    app.include_router(receivables.router)
    app.include_router(orders.router)
    app.include_router(providers.router)
    app.include_router(reviews.router)
    app.include_router(audit.router)
    app.include_router(metrics.router)
    app.include_router(notifications.router)
    app.include_router(webhooks.router)
    install_console(app)
    return app


@functools.cache
def _outgoing_tls() -> ssl.SSLContext:
    """httpx's default verification (the certifi bundle, or SSL_CERT_FILE/SSL_CERT_DIR), read once per process:
    loading the bundle takes tens of milliseconds, paid by every app started in one process, as tests start them."""
    return httpx.create_ssl_context()


def _background_tasks(services: Services) -> list[asyncio.Task[None]]:
    """The webhook dispatcher, SQLite's background checkpoints and, when switched on, the monitor scheduler:
    all stop with the app."""
    settings = services.settings
    tasks = []
    if services.database.checkpointer is not None:
        tasks.append(asyncio.create_task(services.database.checkpointer.run()))
    if settings.webhooks_dispatch_interval_seconds > 0:
        tasks.append(asyncio.create_task(services.dispatcher.run(settings.webhooks_dispatch_interval_seconds)))
    if settings.monitor_interval_seconds > 0:
        tasks.append(
            asyncio.create_task(
                run_scheduler(
                    services.database, services.monitor, settings.monitor_budget, settings.monitor_interval_seconds
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
