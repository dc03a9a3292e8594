"""Every table, imported in one place so Alembic sees the whole schema."""

from app.customers.models import Customer, FxRate, Invoice, Payment
from app.db import Base
from app.decisions.models import Decision
from app.idempotency.models import IdempotencyRecord
from app.monitoring.models import CreditLimitChange, CustomerCreditState, MonitoringAuditEvent, MonitorLease
from app.orders.models import Reservation
from app.policies.models import PolicyActivation, PolicyVersion
from app.providers.models import CreditReportRecord, InsurerLimit, ProviderCacheHits, ProviderCall, ReportLease
from app.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription

metadata = Base.metadata

__all__ = [
    "CreditLimitChange",
    "CreditReportRecord",
    "Customer",
    "CustomerCreditState",
    "Decision",
    "FxRate",
    "IdempotencyRecord",
    "InsurerLimit",
    "Invoice",
    "MonitorLease",
    "MonitoringAuditEvent",
    "Payment",
    "PolicyActivation",
    "PolicyVersion",
    "ProviderCacheHits",
    "ProviderCall",
    "ReportLease",
    "Reservation",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
    "metadata",
]
