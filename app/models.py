"""Every table, imported in one place so Alembic sees the whole schema."""

from app.audit.models import AuditChainHead, AuditEvent
from app.customers.models import Customer, FxRate, Invoice, Payment
from app.db import Base
from app.decisions.models import Decision, DecisionReason
from app.idempotency.models import IdempotencyRecord
from app.orders.models import Reservation
from app.policies.models import PolicyActivation, PolicyVersion
from app.providers.models import CreditReportRecord, InsurerLimit, ProviderCacheHits, ProviderCall, ReportLease
from app.reviews.models import Review

metadata = Base.metadata

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "CreditReportRecord",
    "Customer",
    "Decision",
    "DecisionReason",
    "FxRate",
    "IdempotencyRecord",
    "InsurerLimit",
    "Invoice",
    "Payment",
    "PolicyActivation",
    "PolicyVersion",
    "ProviderCacheHits",
    "ProviderCall",
    "ReportLease",
    "Reservation",
    "Review",
    "metadata",
]
