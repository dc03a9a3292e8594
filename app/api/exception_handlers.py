"""The API's exception handlers: every error, expected or not, leaves as one RFC 9457 problem document.

Domain errors (`app/errors.py`) carry their status, code, title, detail and fields as data; this module maps
them, FastAPI's request validation, Starlette's HTTP errors and an unreachable database to problem+json."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from app.api.problems import error_response, problem_response
from app.db import DatabaseTimeout
from app.errors import CrossFieldError, FieldError, InvalidRequest, MalformedRequest, ProblemError, ServiceUnavailable

logger = logging.getLogger("creditgate")


def _field_name(loc: tuple[Any, ...]) -> str:
    """("body", "invoices", 17, "due_date") → "invoices[17].due_date"; other places keep their prefix."""
    where = str(loc[0]) if loc and loc[0] in ("body", "query", "path", "header") else None
    path = ""
    for part in loc[1:] if where else loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    if where is None or where == "body":
        return path or "body"
    return f"{where}.{path}" if path else where


def _validation_errors(exc: RequestValidationError) -> tuple[bool, list[FieldError]]:
    malformed = False
    errors = []
    for error in exc.errors():
        loc = tuple(error.get("loc", ()))
        if error.get("type") == "json_invalid":
            malformed = True
            errors.append(
                FieldError(
                    field="body",
                    message="the body is not valid JSON: " + str(error.get("ctx", {}).get("error", "syntax error")),
                    type="json_invalid",
                )
            )
            continue
        if error.get("type") in ("union_tag_invalid", "union_tag_not_found"):
            # A tagged union (e.g. an order event's "type"): name the tag field itself.
            loc = (*loc, str(error.get("ctx", {}).get("discriminator", "type")).strip("'"))
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, CrossFieldError):
            loc = (*loc, *cause.field.split("."))
        message = str(error.get("msg", "invalid"))
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        errors.append(FieldError(field=_field_name(loc), message=message, type=error.get("type")))
    return malformed, errors


def install_error_handlers(app: FastAPI) -> None:
    """Domain errors, request validation, Starlette's HTTP errors and anything unexpected, as problem+json."""

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return error_response(exc, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        malformed, errors = _validation_errors(exc)
        problem = MalformedRequest if malformed else InvalidRequest
        detail = "; ".join(f"{e.field}: {e.message}" for e in errors[:5])
        return problem_response(
            problem.status,
            problem.code,
            problem.title,
            detail=detail,
            errors=errors,
            instance=request.url.path,
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        # The traceback goes to the server log; the caller learns nothing about the internals.
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return problem_response(500, "internal_error", "Internal error", instance=request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, f"http_{exc.status_code}")
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            headers = {**(headers or {}), "Allow": allowed_methods(request)}
        return problem_response(exc.status_code, code, str(exc.detail), instance=request.url.path, headers=headers)


def allowed_methods(request: Request) -> str:
    """Every method some route of this path takes (Starlette's own 405 names only the first route's): each
    method is tried against the routes, the way routing itself matches them."""
    allowed = [
        method
        for method in _METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in request.app.routes)
    ]
    return ", ".join(allowed)


_METHODS = ("DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT")


def install_database_errors(app: FastAPI) -> None:
    """A database that is down or saturated answers 503 fast, never a bare 500."""

    @app.exception_handler(DBAPIError)
    async def _database(request: Request, exc: DBAPIError) -> JSONResponse:
        if not exc.connection_invalidated and not isinstance(exc, DatabaseTimeout) and not _is_unavailable(exc):
            raise exc
        # The driver's own message: it names the cause (refused, locked, terminated), never a row's values.
        logger.warning("database unavailable: %s: %s", type(exc.orig).__name__, str(exc.orig)[:200])
        return _unavailable(request)

    @app.exception_handler(PoolTimeout)
    async def _pool(request: Request, exc: PoolTimeout) -> JSONResponse:
        logger.warning("no database connection free within the pool timeout")
        return _unavailable(request)

    @app.exception_handler(ConnectionError)
    async def _refused(request: Request, exc: ConnectionError) -> JSONResponse:
        # A new connection to a database that is down fails in the driver, before SQLAlchemy can wrap it.
        return _unavailable(request)


def _is_unavailable(exc: DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return any(word in text for word in ("database is locked", "connection", "could not connect", "terminating"))


def _unavailable(request: Request) -> JSONResponse:
    unavailable = ServiceUnavailable("the database is not reachable; retry shortly", headers={"Retry-After": "1"})
    return error_response(unavailable, request.url.path)
