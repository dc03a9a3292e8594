"""Domain errors and their one mapping to RFC 9457 problem details."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

logger = logging.getLogger("creditgate")

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://creditgate.dev/problems/"


class FieldError(BaseModel):
    field: str
    message: str
    type: str | None = None


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response carries them."""

    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(Exception):
    """An error the API answers with a problem document."""

    status = 500
    code = "internal_error"
    title = "Internal error"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers
        self.extra = extra


class InvalidRequest(ProblemError):
    status, code, title = 422, "validation_error", "The request is not valid"


class MalformedRequest(ProblemError):
    status, code, title = 400, "malformed_request", "The request body is not valid JSON"


class Unauthenticated(ProblemError):
    status, code, title = 401, "unauthenticated", "A valid API key is required"


class Forbidden(ProblemError):
    status, code, title = 403, "forbidden", "The API key lacks the scope this operation needs"


class NotFound(ProblemError):
    status, code, title = 404, "not_found", "No such resource"


class Conflict(ProblemError):
    status, code, title = 409, "conflict", "The request conflicts with the resource's state"


class PayloadTooLarge(ProblemError):
    status, code, title = 413, "payload_too_large", "The request body is too large"


class UnsupportedMediaType(ProblemError):
    status, code, title = 415, "unsupported_media_type", "The request body must be application/json"


class TooManyRequests(ProblemError):
    status, code, title = 429, "rate_limited", "Too many requests for this API key"


class ServiceUnavailable(ProblemError):
    status, code, title = 503, "service_unavailable", "The service cannot answer right now"


def problem_response(
    status: int,
    code: str,
    title: str,
    *,
    detail: str | None = None,
    errors: list[FieldError] | None = None,
    headers: dict[str, str] | None = None,
    instance: str | None = None,
    **extra: Any,
) -> JSONResponse:
    body = Problem(
        type=PROBLEM_BASE + code,
        title=title,
        status=status,
        code=code,
        detail=detail,
        instance=instance,
        errors=errors,
        **extra,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True, mode="json"),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


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
        message = str(error.get("msg", "invalid"))
        if message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        errors.append(FieldError(field=_field_name(loc), message=message, type=error.get("type")))
    return malformed, errors


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        return problem_response(
            exc.status,
            exc.code,
            exc.title,
            detail=exc.detail,
            errors=exc.errors,
            headers=exc.headers,
            instance=request.url.path,
            **exc.extra,
        )

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


# What any route taking a JSON body can answer before its own logic runs.
JSON_WRITE_PROBLEMS: tuple[type[ProblemError], ...] = (
    MalformedRequest,
    Unauthenticated,
    Forbidden,
    PayloadTooLarge,
    UnsupportedMediaType,
    InvalidRequest,
)


def problem_responses(*errors: type[ProblemError]) -> dict[int | str, dict[str, Any]]:
    """The `responses=` entry a route declares for the problems it can answer."""
    responses: dict[int | str, dict[str, Any]] = {}
    for error in errors:
        responses[error.status] = {
            "model": Problem,
            "description": error.title,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
    return responses
