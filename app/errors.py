"""Domain errors: what went wrong, as data, free of the web framework.

Each error carries everything a problem document needs (status, code, title, detail, the fields it names);
the one mapping to RFC 9457 problem+json is in `app/api/exception_handlers.py`, so services, repositories
and the CLI raise these without importing FastAPI or Starlette."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class FieldError(BaseModel):
    field: str
    message: str
    type: str | None = None


class CrossFieldError(ValueError):
    """A body validator's refusal of one field given the others (a period's end before its start): the problem
    names that field, not the whole body."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class ProblemError(Exception):
    """An error the API answers with a problem document: the class names status, code and title; the instance
    the detail, the fields at fault (`errors`), headers such as Retry-After and any extra members."""

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


class InvalidCursor(InvalidRequest):
    """A page cursor this API never handed out. It names the input that carried the cursor as the domain knows
    it (`cursor`); the API layer says where that input sat in the request (`query.cursor`)."""

    def __init__(self, field: str = "cursor") -> None:
        super().__init__(
            "the cursor is not one this API returned",
            errors=[FieldError(field=field, message="not a valid cursor", type="cursor_invalid")],
        )
