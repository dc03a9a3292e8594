"""Writing a cover: a new version when anything changed, its history row, the audit event and the webhook.

One function for every writer (the API, the CSV import, an insurer's answer), inside the writer's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from app.audit.service import EventType, NewEvent
from app.db import WriteSession
from app.insurance import repository
from app.insurance.models import Cover, CoverRecord
from app.insurance.schemas import CoverOut, percentage_text
from app.money import format_minor
from app.webhooks.service import enqueue_event

# What a cover says; the rest (version, source, who and when) is about the writing of it.
TERMS = (
    "insurer",
    "policy_number",
    "buyer_reference",
    "amount_minor",
    "currency",
    "coverage_basis_points",
    "excludes_vat",
    "valid_from",
    "valid_to",
    "conditions",
    "status",
)


@dataclass(frozen=True, slots=True)
class Written:
    cover: Cover
    changed: bool
    event: NewEvent | None  # the audit event to append last, before the commit


async def write_cover(
    session: WriteSession, customer_id: str, terms: dict[str, Any], *, source: str, actor: str, now: datetime
) -> Written:
    """The customer's cover with these terms; unchanged terms write nothing (a list imported twice is no change).

    The caller holds the customer's row lock, so versions of one customer's cover never race."""
    before = await repository.get_cover(session, customer_id)
    previous = {name: getattr(before, name) for name in TERMS} if before is not None else None
    if previous == terms and before is not None:
        return Written(before, False, None)
    version = before.version + 1 if before is not None else 1
    values = {
        "customer_id": customer_id,
        **terms,
        "source": source,
        "version": version,
        "updated_at": now,
        "updated_by": actor,
    }
    await repository.save_cover(session, values, exists=before is not None)
    after = cover_terms_json(terms)
    await repository.insert_version(
        session,
        {
            "customer_id": customer_id,
            "version": version,
            "cover": after,
            "source": source,
            "recorded_at": now,
            "recorded_by": actor,
        },
    )
    cover = await repository.get_cover(session, customer_id)
    assert cover is not None
    data = {"customer_id": customer_id, "version": version, "source": source, "cover": after}
    await enqueue_event(session, "customer.cover_changed", data)
    payload = {**data, "before": cover_terms_json(previous) if previous is not None else None}
    return Written(cover, True, NewEvent(EventType.COVER_CHANGED, customer_id, payload, actor))


def cover_terms_json(terms: dict[str, Any]) -> dict[str, Any]:
    """A cover's terms as the API writes them: money with its minor units, dates as ISO days."""
    return {
        "insurer": terms["insurer"],
        "policy_number": terms["policy_number"],
        "buyer_reference": terms["buyer_reference"],
        "amount": format_minor(terms["amount_minor"], terms["currency"]),
        "currency": terms["currency"],
        "coverage_percentage": percentage_text(terms["coverage_basis_points"]),
        "excludes_vat": terms["excludes_vat"],
        "valid_from": terms["valid_from"].isoformat(),
        "valid_to": None if terms["valid_to"] is None else terms["valid_to"].isoformat(),
        "conditions": terms["conditions"],
        "status": terms["status"],
    }


def is_in_force(cover: CoverRecord, today: date) -> bool:
    return (
        cover.status == "active" and cover.valid_from <= today and (cover.valid_to is None or cover.valid_to >= today)
    )


def cover_out(cover: Cover, today: date) -> CoverOut:
    terms = cover_terms_json({name: getattr(cover, name) for name in TERMS})
    return CoverOut(
        customer_id=cover.customer_id,
        **terms,
        source=cover.source,
        in_force=is_in_force(cover, today),
        version=cover.version,
        updated_at=cover.updated_at,
        updated_by=cover.updated_by,
    )


def coverage(cover: CoverRecord) -> Decimal:
    """The insured share of a loss, 0 to 1."""
    return Decimal(cover.coverage_basis_points) / Decimal(10000)
