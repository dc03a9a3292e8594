"""Buyer limits granted by a credit insurer (Atradius, Coface, Allianz Trade send them as lists), imported from
CSV. Each row is written as the cover of the customers with that registration number (`app.insurance`), which
is what the policy's insurance rules read. The rows are also kept as before and served by the deprecated
`insurer_limits` provider (a limit in force is the report's recommended limit; no limit is "not found"), so a
chain that names it keeps working until it is taken out (docs/insurance.md: migrating)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from app.audit.service import append_many
from app.db import Database, utcnow
from app.errors import FieldError, InvalidRequest
from app.insurance.imports import covers_from_limits
from app.insurance.schemas import basis_points, parse_percentage
from app.money import MAX_AMOUNT, from_minor, is_country, minor_units, to_minor
from app.providers import repository
from app.providers.base import CompanyNotFound, CompanyQuery, CreditReport, payload_hash, registration_key

PROVIDER = "insurer_limits"
REQUIRED_COLUMNS = (
    "country",
    "registration_number",
    "buyer_name",
    "limit_amount",
    "currency",
    "valid_from",
    "insurer_reference",
)
OPTIONAL_COLUMNS = (
    "valid_to",
    "risk_class",
    "insurer",
    "policy_number",
    "coverage_percentage",
    "excludes_vat",
    "conditions",
)
# What the insurer_limits table keeps of a row; the rest is the cover's only.
TABLE_COLUMNS = (
    "id",
    "country",
    "registration_number",
    "buyer_name",
    "limit_minor",
    "currency",
    "valid_from",
    "valid_to",
    "insurer_reference",
    "risk_class",
    "imported_at",
)
CSV_ACTOR = "csv-import"
REGISTRATION_NUMBER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ./-]{0,31}$")


class InsurerLimitsProvider:
    """The insurer's limit in force today, from the imported table: local, free, never cached."""

    name = PROVIDER
    cacheable = False

    def __init__(self, database: Database, default_risk_class: str) -> None:
        self.database = database
        self.default_risk_class = default_risk_class

    async def fetch_report(self, company: CompanyQuery) -> CreditReport:
        async with self.database.read() as session:
            limit = await repository.current_insurer_limit(
                session, company.country, company.number_key, utcnow().date()
            )
        if limit is None:
            raise CompanyNotFound(f"no insurer limit in force for {company.country}/{company.registration_number}")
        amount = from_minor(limit.limit_minor, limit.currency)
        raw = {
            "insurer_reference": limit.insurer_reference,
            "buyer_name": limit.buyer_name,
            "limit_amount": str(amount),
            "currency": limit.currency,
            "valid_from": limit.valid_from.isoformat(),
            "valid_to": None if limit.valid_to is None else limit.valid_to.isoformat(),
            "risk_class": limit.risk_class,
            "imported_at": limit.imported_at.isoformat(),
        }
        return CreditReport(
            provider=PROVIDER,
            reference=limit.insurer_reference,
            country=company.country,
            registration_number=company.registration_number,
            company_name=limit.buyer_name,
            status="active",
            # An insurer grants limits to buyers it judges sound; the CSV may name a class, else the setting.
            risk_class=limit.risk_class or self.default_risk_class,
            score=None,
            recommended_limit=amount,
            limit_currency=limit.currency,
            days_beyond_terms=None,
            negative_events=(),
            fetched_at=limit.imported_at,
            cost=Decimal(0),
            cost_currency=limit.currency,
            raw_hash=payload_hash(raw),
            raw=raw,
        )


@dataclass(frozen=True, slots=True)
class ImportResult:
    imported: int
    removed: int
    covers_written: int = 0
    covers_withdrawn: int = 0
    unmatched: int = 0


async def import_insurer_limits(
    database: Database, text: str, *, replace: bool = False, actor: str = CSV_ACTOR
) -> ImportResult:
    """Validate the whole file, then store it and its covers in one transaction; with `replace`, limits absent
    from it go and the covers the CSV wrote on customers it no longer names are withdrawn."""
    rows = parse_insurer_csv(text)
    async with database.transaction() as session:
        await repository.upsert_insurer_limits(session, [{name: row[name] for name in TABLE_COLUMNS} for row in rows])
        removed = 0
        if replace:
            keep = {(row["country"], row["registration_number"], row["insurer_reference"]) for row in rows}
            removed = await repository.delete_insurer_limits_except(session, keep)
        covers = await covers_from_limits(
            session, rows, registration_key=registration_key, replace=replace, actor=actor, now=utcnow()
        )
        await append_many(session, covers.events)
    return ImportResult(
        imported=len(rows),
        removed=removed,
        covers_written=covers.written,
        covers_withdrawn=covers.withdrawn,
        unmatched=covers.unmatched,
    )


def parse_insurer_csv(text: str) -> list[dict[str, Any]]:
    """The file's rows as table rows; InvalidRequest naming line and column for every problem."""
    text = text.removeprefix("\ufeff")
    if "\x00" in text:  # PostgreSQL cannot store a NUL in text; no insurer sends one on purpose
        line = text.count("\n", 0, text.index("\x00")) + 1
        message = "contains a NUL character"
        raise InvalidRequest(f"line {line} {message}", errors=[FieldError(field=f"line {line}", message=message)])
    header_line = text.split("\n", 1)[0]
    delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    columns = [_column(name) for name in reader.fieldnames or []]
    missing = [name for name in REQUIRED_COLUMNS if name not in columns]
    if missing:
        message = f"the header lacks {', '.join(missing)}"
        raise InvalidRequest(message, errors=[FieldError(field="line 1", message=message)])
    reader.fieldnames = columns
    errors: list[FieldError] = []
    rows: list[dict[str, Any]] = []
    seen: set[tuple[str, str, str]] = set()
    imported_at = utcnow()
    for line, record in _records(reader):
        row = _row(record, line, errors)
        if row is None:
            continue
        key = (row["country"], row["registration_number"], row["insurer_reference"])
        if key in seen:
            errors.append(FieldError(field=f"line {line}", message="the same buyer and insurer reference twice"))
            continue
        seen.add(key)
        rows.append(row | {"id": str(uuid.uuid4()), "imported_at": imported_at})
    if errors:
        raise InvalidRequest(f"{len(errors)} problem(s) in the file; nothing was imported", errors=errors[:100])
    if not rows:
        raise InvalidRequest("the file has no limits", errors=[FieldError(field="line 2", message="no rows")])
    return rows


def _records(reader: csv.DictReader[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """Each record with its (last) line; a line the csv module cannot read is a 422 naming it."""
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:  # e.g. a field over csv.field_size_limit()
            line = reader.line_num + 1  # the failing line was not counted
            message = f"cannot be read as CSV: {exc}"
            error = FieldError(field=f"line {line}", message=message)
            raise InvalidRequest(f"line {line} {message}", errors=[error]) from None
        yield reader.line_num, record


def _row(record: dict[str, Any], line: int, errors: list[FieldError]) -> dict[str, Any] | None:
    values = {name: (record.get(name) or "").strip() for name in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS)}
    problems: list[tuple[str, str]] = []
    for name in REQUIRED_COLUMNS:
        if not values[name]:
            problems.append((name, "is empty"))
    country, currency = values["country"].upper(), values["currency"].upper()
    if values["country"] and not is_country(country):
        problems.append(("country", "is not an ISO 3166-1 alpha-2 code"))
    if values["registration_number"] and not REGISTRATION_NUMBER.match(values["registration_number"]):
        problems.append(("registration_number", "is not a registration number (letters, digits, ' ./-', 32 at most)"))
    for name, longest in (("buyer_name", 200), ("insurer_reference", 64), ("insurer", 64), ("policy_number", 64)):
        if len(values[name]) > longest:
            problems.append((name, f"has {longest} characters at most"))
    limit_minor = _limit_minor(values["limit_amount"], currency, problems) if values["limit_amount"] else None
    valid_from = _date(values["valid_from"], "valid_from", problems)
    valid_to = _date(values["valid_to"], "valid_to", problems)
    if valid_from and valid_to and valid_to < valid_from:
        problems.append(("valid_to", "is before valid_from"))
    risk_class = values["risk_class"].upper() or None
    if risk_class is not None and risk_class not in ("A", "B", "C", "D", "E"):
        problems.append(("risk_class", "must be one of A, B, C, D, E or empty"))
    if len(values["conditions"]) > 2000:
        problems.append(("conditions", "has 2000 characters at most"))
    coverage = 10000
    if values["coverage_percentage"]:
        try:
            coverage = basis_points(parse_percentage(values["coverage_percentage"]))
        except ValueError as exc:
            problems.append(("coverage_percentage", str(exc)))
    excludes_vat = values["excludes_vat"].lower()
    if excludes_vat not in ("", "true", "false", "yes", "no", "1", "0"):
        problems.append(("excludes_vat", "must be true or false (or empty: false)"))
    errors.extend(FieldError(field=f"line {line}.{name}", message=message) for name, message in problems)
    if problems or limit_minor is None or valid_from is None:
        return None
    return {
        "insurer": values["insurer"] or None,
        "policy_number": values["policy_number"] or None,
        "coverage_basis_points": coverage,
        "excludes_vat": excludes_vat in ("true", "yes", "1"),
        "conditions": values["conditions"] or None,
        "country": country,
        "registration_number": registration_key(values["registration_number"]),
        "buyer_name": values["buyer_name"],
        "limit_minor": limit_minor,
        "currency": currency,
        "valid_from": valid_from,
        "valid_to": valid_to,
        "insurer_reference": values["insurer_reference"],
        "risk_class": risk_class,
    }


def _limit_minor(text: str, currency: str, problems: list[tuple[str, str]]) -> int | None:
    try:
        minor_units(currency)
    except ValueError as exc:
        problems.append(("currency", str(exc)))
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        problems.append(("limit_amount", "is not a decimal amount such as 50000.00"))
        return None
    if not amount.is_finite() or amount < 0 or amount >= MAX_AMOUNT:
        problems.append(("limit_amount", f"must be zero or a positive amount less than {MAX_AMOUNT:,.0f}"))
        return None
    try:
        return to_minor(amount, currency)
    except ValueError as exc:
        problems.append(("limit_amount", str(exc)))
        return None


def _date(text: str, name: str, problems: list[tuple[str, str]]) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        problems.append((name, "is not a date such as 2026-11-23"))
        return None


def _column(name: str) -> str:
    return re.sub(r"[\s-]+", "_", name.strip().lower())
