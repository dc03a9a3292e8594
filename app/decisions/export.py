"""Decision history as CSV, streamed in keyset-paged chunks so memory stays flat however many rows match."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncGenerator
from typing import Any

from sqlalchemy import Row

from app.db import Database
from app.decisions import repository
from app.decisions.query import Cursor, DecisionFilters
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
    # Added after the first release: at the end, so readers of the older columns keep working.
    "final_outcome",
    "settled_by",
    "settled_at",
)
_MONEY = (
    "amount_minor",
    "credit_limit_minor",
    "exposure_minor",
    "available_credit_minor",
    "approved_credit_minor",
    "prepayment_minor",
)


CHUNK_SIZE = 200  # rows per chunk: one slice of the event loop, a few milliseconds


async def open_decisions_csv(
    database: Database, filters: DecisionFilters, chunk_size: int = CHUNK_SIZE
) -> StartedExport:
    """The export, started: its heavy-read turn taken and its first chunk read before anything is sent.

    So a refusal (503 when too many run) or a failing query is answered as a problem, never as a 200 whose
    stream breaks after the first byte. Its turn is given back when the stream ends or is closed.
    """
    chunks = decisions_csv(database, filters, chunk_size)
    first = await anext(chunks)
    return StartedExport(first, chunks)


class StartedExport:
    """An export's chunks, the first already read; `aclose()` ends it early (the client went away)."""

    def __init__(self, first: bytes, rest: AsyncGenerator[bytes]) -> None:
        self._first: bytes | None = first
        self._rest = rest

    def __aiter__(self) -> StartedExport:
        return self

    async def __anext__(self) -> bytes:
        if self._first is not None:
            first, self._first = self._first, None
            return first
        return await anext(self._rest)

    async def aclose(self) -> None:
        await self._rest.aclose()


async def decisions_csv(
    database: Database, filters: DecisionFilters, chunk_size: int = CHUNK_SIZE
) -> AsyncGenerator[bytes]:
    """Newest first, like the history. Each chunk is its own short read on the heavy reads' pool, so no
    transaction spans the download, and the decision path's connections are never among those it waits for."""
    async with database.heavy_reads.turn():
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(HEADER)
        cursor: Cursor | None = None
        while True:
            async with database.heavy_reads.paced():
                async with database.heavy_reads.read() as session:
                    rows = await repository.export_page(session, filters, chunk_size, cursor)
                writer.writerows(_line(row) for row in rows)
                chunk = buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
            yield chunk
            if len(rows) < chunk_size:
                return
            cursor = Cursor(rows[-1].decided_at, rows[-1].id)


def _line(row: Row[Any]) -> list[Any]:
    currency = row.currency
    return [
        row.id,
        _utc(row.decided_at),
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
        row.settled_outcome or row.outcome,
        row.settled_by or "",
        _utc(row.settled_at) if row.settled_at is not None else "",
    ]


def _utc(at: Any) -> str:
    return str(at.isoformat().replace("+00:00", "Z"))
