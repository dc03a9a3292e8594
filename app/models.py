"""Every table, imported in one place so Alembic sees the whole schema."""

from app.audit.models import AuditChainHead, AuditEvent
from app.console.models import EndedConsoleSession
from app.customers.models import CreditLimitChange, Customer, FxRate, Invoice, Payment
from app.db import Base
from app.decisions.models import Decision, DecisionReason, OpenCase, Review
from app.idempotency.models import IdempotencyRecord
from app.limits.models import LimitRequest, LimitRequestReview
from app.monitoring.models import CustomerCreditState, MonitorLease
from app.notes.models import Note
from app.orders.models import Reservation
from app.policy_versions.models import PolicyActivation, PolicyVersion
from app.providers.models import CreditReportRecord, InsurerLimit, ProviderCacheHits, ProviderCall, ReportLease
from app.ratelimit.models import RateLimitWindow
from app.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription

metadata = Base.metadata

__all__ = [
    "AuditChainHead",
    "AuditEvent",
    "CreditLimitChange",
    "CreditReportRecord",
    "Customer",
    "CustomerCreditState",
    "Decision",
    "DecisionReason",
    "EndedConsoleSession",
    "FxRate",
    "IdempotencyRecord",
    "InsurerLimit",
    "Invoice",
    "LimitRequest",
    "LimitRequestReview",
    "MonitorLease",
    "Note",
    "OpenCase",
    "Payment",
    "PolicyActivation",
    "PolicyVersion",
    "ProviderCacheHits",
    "ProviderCall",
    "RateLimitWindow",
    "ReportLease",
    "Reservation",
    "Review",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
    "metadata",
]
