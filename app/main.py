"""create_app(settings): the ASGI application and the lifespan that builds its resources."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from app.api import audit, decisions, health, metrics
from app.auth import KeyRing
from app.db import Database
from app.decisions.service import DecisionService
from app.errors import ServiceUnavailable, install_error_handlers, problem_response
from app.middleware import BodySizeLimit
from app.observability.logging import configure_logging
from app.observability.providers import InstrumentedProvider
from app.observability.requests import RequestContext
from app.policy.schema import PolicyDocument, load_policy_file
from app.providers.registry import build_provider
from app.providers.reports import ReportService
from app.settings import Settings, get_settings

DESCRIPTION = """B2B trade-credit decisions: accept on credit, ask prepayment, review or reject — with reasons.

Money is a decimal string in the currency's minor units. Errors are RFC 9457 problem details.
Authenticate with `Authorization: Bearer <api key>`."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        keys = KeyRing(settings.key_scopes())
        if not keys:
            raise RuntimeError(
                "CREDITGATE_API_KEYS is empty: configure at least one key, or start the demo with `make run`"
            )
        policy = load_policy_file(settings.policy_file)
        database = Database(settings.database_url, settings.database_pool_size)
        timeout = httpx.Timeout(
            settings.decision_budget_ms / 1000, connect=min(2.0, settings.decision_budget_ms / 1000)
        )
        async with httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_connections=50)) as http:
            provider = InstrumentedProvider(build_provider(settings, http))

            async def active_policy() -> PolicyDocument:
                return policy

            reports = ReportService(provider, settings.decision_budget_ms / 1000)
            app.state.settings = settings
            app.state.keys = keys
            app.state.database = database
            app.state.http = http
            app.state.decisions = DecisionService(database, reports, active_policy)
            try:
                yield
            finally:
                await database.dispose()

    app = FastAPI(
        title="creditgate",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_error_handlers(app)
    _install_database_errors(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    # Added last, so outermost: even a refused body or an unhandled error answers with X-Request-ID.
    app.add_middleware(RequestContext)
    app.include_router(health.router)
    app.include_router(decisions.router)
    app.include_router(audit.router)
    app.include_router(metrics.router)
    return app


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
    """For `uvicorn --factory app.main:app_factory`: the served process logs JSON lines."""
    settings = get_settings()
    configure_logging(settings.log_level, settings.log_format == "json")
    return create_app(settings)
