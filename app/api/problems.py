"""RFC 9457 problem details as the API sends and documents them: the `Problem` model, its JSON response and the
`responses=` entries routes declare. The domain errors themselves live in `app/errors.py`."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from app.errors import (
    FieldError,
    Forbidden,
    InvalidRequest,
    MalformedRequest,
    PayloadTooLarge,
    ProblemError,
    Unauthenticated,
    UnsupportedMediaType,
)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://creditgate.dev/problems/"


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


def error_response(exc: ProblemError, instance: str | None = None) -> JSONResponse:
    """A domain error as its problem document: the one place its data becomes a response."""
    return problem_response(
        exc.status,
        exc.code,
        exc.title,
        detail=exc.detail,
        errors=exc.errors,
        headers=exc.headers,
        instance=instance,
        **exc.extra,
    )


@contextmanager
def query_parameters(*names: str) -> Iterator[None]:
    """Inside, a domain error naming one of these inputs names it as the query parameter it came in as."""
    try:
        yield
    except InvalidRequest as exc:
        for error in exc.errors or ():
            if error.field in names:
                error.field = f"query.{error.field}"
        raise


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
