"""Providers: spend per provider and day, and the credit insurer's limits list."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from app.api.deps import Read, ReportServiceDep, require_scope
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.auth import Principal
from app.db import utcnow
from app.errors import FieldError, Forbidden, InvalidRequest, MalformedRequest, Unauthenticated, UnsupportedMediaType
from app.fields import days_before
from app.providers.usage import UsagePage
from app.schema_types import IsoDate

router = APIRouter(prefix="/v1/providers", tags=["providers"])
Admin = Annotated[Principal, Depends(require_scope("admin"))]
MAX_DAYS = 366


class InsurerLimitsImported(BaseModel):
    imported: int = Field(description="Rows in the file.")
    removed: int = Field(description="Limits removed from the deprecated provider's table (replace).")
    covers_written: int = Field(description="Customers' covers created or changed by the rows.")
    covers_withdrawn: int = Field(description="Covers the CSV wrote before, withdrawn as absent (replace).")
    unmatched: int = Field(description="Buyers in the file that are no known customer: no cover written.")


@router.get(
    "/usage",
    responses=problem_responses(Unauthenticated, Forbidden, InvalidRequest),
    summary="Provider calls, cost, cache hits and errors per provider and day",
)
async def usage(
    _principal: Read,
    reports: ReportServiceDep,
    day_from: Annotated[
        IsoDate | None, Query(description="First UTC day, inclusive; default 30 days before day_to.")
    ] = None,
    day_to: Annotated[
        IsoDate | None,
        Query(description=f"Last UTC day, inclusive, at most {MAX_DAYS} days after day_from; default today (or less)."),
    ] = None,
    provider: Annotated[str | None, Query(max_length=64)] = None,
) -> UsagePage:
    last = day_to or _default_last_day(day_from, utcnow().date())
    first = day_from or days_before(last, 30)
    if first > last or (last - first).days >= MAX_DAYS:
        message = f"day_from must not be after day_to, and the range at most {MAX_DAYS} days"
        raise InvalidRequest(message, errors=[FieldError(field="query.day_from", message=message)])
    return await reports.usage(first, last, provider)


def _default_last_day(first: date | None, today: date) -> date:
    """Today, or the last day of the longest range from day_from that can be asked for, if that is earlier."""
    if first is None or first >= today:
        return today if first is None else first
    return min(today, first + timedelta(days=MAX_DAYS - 1))


@router.post(
    "/insurer-limits",
    responses=problem_responses(*JSON_WRITE_PROBLEMS),
    summary="Import the credit insurer's buyer limits from CSV as the customers' covers",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": "Header: country, registration_number, buyer_name, limit_amount, currency, "
            "valid_from, insurer_reference; optional valid_to, risk_class, insurer, policy_number, "
            "coverage_percentage (default 100), excludes_vat (true/false), conditions. Comma or semicolon "
            "separated, UTF-8; "
            "at least one row, each buyer and insurer reference once, every field valid (`format: "
            "insurer-limits-csv`: each problem is named by line and column).",
            "content": {"text/csv": {"schema": {"type": "string", "format": "insurer-limits-csv"}}},
        }
    },
)
async def import_limits(
    request: Request,
    principal: Admin,
    reports: ReportServiceDep,
    replace: Annotated[
        bool, Query(description="Remove the limits that are not in this file, and withdraw their CSV covers.")
    ] = False,
) -> InsurerLimitsImported:
    """All or nothing: a file with any invalid row imports nothing and names each problem by line and column.
    Each row becomes the cover of the customers with its country and registration number (docs/insurance.md)."""
    media_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if media_type != "text/csv":
        raise UnsupportedMediaType(f"send the limits as text/csv, not {media_type or 'no content type'}")
    try:
        text = (await request.body()).decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the CSV is not UTF-8") from None
    result = await reports.import_insurer_limits(text, replace=replace, actor=principal.key_id)
    return InsurerLimitsImported(
        imported=result.imported,
        removed=result.removed,
        covers_written=result.covers_written,
        covers_withdrawn=result.covers_withdrawn,
        unmatched=result.unmatched,
    )
