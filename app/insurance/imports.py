"""An insurer's limits list (CSV) as covers: each row is the cover on the customers with that registration."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from app.audit.service import NewEvent
from app.db import WriteSession
from app.insurance import repository
from app.insurance.covers import TERMS, write_cover

CSV_SOURCE = "csv"


@dataclass(slots=True)
class CoverImport:
    written: int = 0  # covers created or changed
    unmatched: int = 0  # rows whose buyer is no known customer
    withdrawn: int = 0  # CSV covers absent from a full list (replace)
    events: list[NewEvent] = field(default_factory=list)


async def covers_from_limits(
    session: WriteSession,
    rows: Sequence[dict[str, Any]],
    *,
    registration_key: Callable[[str], str],
    replace: bool,
    actor: str,
    now: datetime,
) -> CoverImport:
    """Write the rows' covers in the caller's transaction; the caller appends `events` last.

    A buyer listed twice (two insurer references) is covered by the row valid latest. With `replace`, a cover
    the CSV wrote before on a customer no row names now is withdrawn (kept in its history). `registration_key`
    turns a customer's registration number into the rows' form."""
    result = CoverImport()
    by_buyer: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        key = (row["country"], row["registration_number"])
        best = by_buyer.get(key)
        if best is None or (row["valid_from"], row["limit_minor"]) > (best["valid_from"], best["limit_minor"]):
            by_buyer[key] = row
    customers: dict[tuple[str, str], list[str]] = {}
    for customer_id, country, number in await repository.customers_by_registration(
        session, [country for country, _ in by_buyer]
    ):
        customers.setdefault((country, registration_key(number)), []).append(customer_id)
    covered: set[str] = set()
    for key, row in sorted(by_buyer.items()):
        matched = customers.get(key, [])
        if not matched:
            result.unmatched += 1
        for customer_id in sorted(matched):
            covered.add(customer_id)
            await _write(session, customer_id, _terms(row), result, actor, now)
    if replace:
        for cover in await repository.csv_covers_except(session, covered):
            terms = {name: getattr(cover, name) for name in TERMS} | {"status": "withdrawn"}
            await _write(session, cover.customer_id, terms, result, actor, now)
            result.withdrawn += 1
    return result


async def _write(
    session: WriteSession, customer_id: str, terms: dict[str, Any], result: CoverImport, actor: str, now: datetime
) -> None:
    written = await write_cover(session, customer_id, terms, source=CSV_SOURCE, actor=actor, now=now)
    if written.event is not None:
        result.written += 1
        result.events.append(written.event)


def _terms(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "insurer": row.get("insurer"),
        "policy_number": row.get("policy_number"),
        "buyer_reference": row["insurer_reference"],
        "amount_minor": row["limit_minor"],
        "currency": row["currency"],
        "coverage_basis_points": row.get("coverage_basis_points", 10000),
        "excludes_vat": row.get("excludes_vat", False),
        "valid_from": row["valid_from"],
        "valid_to": row["valid_to"],
        "conditions": row.get("conditions"),
        "status": "active",
    }
