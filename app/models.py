"""Every table, imported in one place so Alembic sees the whole schema."""

from app.customers.models import Customer, FxRate, Invoice, Payment
from app.db import Base
from app.decisions.models import Decision
from app.idempotency.models import IdempotencyRecord
from app.orders.models import Reservation
from app.policies.models import PolicyActivation, PolicyVersion
from app.providers.models import CreditReportRecord, InsurerLimit, ProviderCacheHits, ProviderCall, ReportLease

metadata = Base.metadata

__all__ = [
    "CreditReportRecord",
    "Customer",
    "Decision",
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
    "metadata",
]
