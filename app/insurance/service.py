"""Covers through the API: record, read, and the history of every version."""

from __future__ import annotations

from decimal import Decimal

from app.audit.service import append_many
from app.customers import repository as customers
from app.db import Database, utcnow
from app.errors import NotFound
from app.idempotency.service import Recorder, StoredResponse
from app.insurance import repository
from app.insurance.covers import cover_out, write_cover
from app.insurance.schemas import CoverHistory, CoverIn, CoverOut, CoverVersionOut, basis_points, parse_percentage
from app.money import to_minor


class CoverService:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def put_cover(self, customer_id: str, body: CoverIn, recorder: Recorder, *, actor: str) -> StoredResponse:
        """Replace the customer's cover; 201 for its first cover, 200 after (unchanged terms: no new version)."""
        now = utcnow()
        terms = {
            "insurer": body.insurer,
            "policy_number": body.policy_number,
            "buyer_reference": body.buyer_reference,
            "amount_minor": to_minor(Decimal(body.amount), body.currency),
            "currency": body.currency,
            "coverage_basis_points": basis_points(parse_percentage(body.coverage_percentage)),
            "excludes_vat": body.excludes_vat,
            "valid_from": body.valid_from,
            "valid_to": body.valid_to,
            "conditions": body.conditions,
            "status": body.status,
        }
        async with self.database.transaction() as session:
            if not await customers.lock_customers(session, [customer_id]):
                raise NotFound(f"no customer {customer_id}: push its master data first")
            existed = await repository.get_cover(session, customer_id) is not None
            written = await write_cover(session, customer_id, terms, source=body.source, actor=actor, now=now)
            stored = await recorder.respond(session, 200 if existed else 201, cover_out(written.cover, now.date()))
            await append_many(session, [written.event] if written.event is not None else [])
            return stored

    async def get_cover(self, customer_id: str) -> CoverOut:
        async with self.database.read() as session:
            cover = await repository.get_cover(session, customer_id)
        if cover is None:
            raise NotFound(f"no cover recorded for customer {customer_id}")
        return cover_out(cover, utcnow().date())

    async def history(self, customer_id: str, limit: int) -> CoverHistory:
        async with self.database.read() as session:
            if await customers.get_customer(session, customer_id) is None:
                raise NotFound(f"no customer {customer_id}")
            rows = await repository.versions(session, customer_id, limit)
        return CoverHistory(
            customer_id=customer_id,
            items=[
                CoverVersionOut(
                    version=row.version,
                    recorded_at=row.recorded_at,
                    recorded_by=row.recorded_by,
                    source=row.source,
                    cover=row.cover,
                )
                for row in rows
            ],
        )
