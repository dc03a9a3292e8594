"""Decision history as CSV, streamed in keyset-paged chunks so memory stays flat however many rows match."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import Row

from app.db import Database
from app.decisions import repository
from app.decisions.repository import Cursor, DecisionFilters
from app.money import format_minor

HEADER = (
    "id",
    "decided_at",
    "order_id",
    "customer_id",
    "outcome",
    "currency",
    "amount",
    "credit_limit",
    "exposure",
    "available_credit",
    "approved_credit_amount",
    "prepayment_amount",
    "payment_terms_days",
    "risk_class",
    "segment",
    "policy_version",
    "report_provider",
    "report_source",
    "reason_codes",
    "api_key_id",
)
_MONEY = (
    "amount_minor",
    "credit_limit_minor",
    "exposure_minor",
    "available_credit_minor",
    "approved_credit_minor",
    "prepayment_minor",
)


async def decisions_csv(db: Database, filters: DecisionFilters, chunk_size: int = 1000) -> AsyncIterator[bytes]:
    """Newest first, like the history. Each chunk is its own short read, so no transaction spans the download."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADER)
    cursor: Cursor | None = None
    while True:
        async with db.read() as session:
            rows = await repository.export_page(session, filters, chunk_size, cursor)
        writer.writerows(_line(row) for row in rows)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
        if len(rows) < chunk_size:
            return
        cursor = Cursor(rows[-1].decided_at, rows[-1].id)


def _line(row: Row[Any]) -> list[Any]:
    currency = row.currency
    return [
        row.id,
        row.decided_at.isoformat().replace("+00:00", "Z"),
        row.order_id,
        row.customer_id,
        row.outcome,
        currency,
        *(format_minor(getattr(row, name), currency) for name in _MONEY),
        row.payment_terms_days,
        row.risk_class,
        row.segment,
        row.policy_version,
        row.report_provider or "",
        row.report_source,
        " ".join(reason["code"] for reason in row.reasons),
        row.api_key_id,
    ]
