"""Every table, imported in one place so Alembic sees the whole schema."""

from app.arrangements.models import ArrangementInstalment, ArrangementInvoice, PaymentArrangement
from app.audit.models import AuditChainHead, AuditEvent
from app.console.models import EndedConsoleSession
from app.customers.models import CreditLimitChange, Customer, FxRate, Invoice, Payment
from app.db import Base
from app.decisions.models import Decision, DecisionReason, OpenCase, Review
from app.idempotency.models import IdempotencyRecord
from app.insurance.models import Cover, CoverVersion, InsurerRequest, OverdueReport
from app.limits.models import LimitRequest, LimitRequestReview
from app.monitoring.models import CustomerCreditState, MonitorLease
from app.notes.models import Note
from app.orders.models import Reservation
from app.policy_versions.models import PolicyActivation, PolicyVersion
from app.providers.models import CreditReportRecord, InsurerLimit, ProviderCacheHits, ProviderCall, ReportLease
from app.ratelimit.models import RateLimitWindow
from app.signals.models import WarningSignal
from app.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription

metadata = Base.metadata

__all__ = [
    "ArrangementInstalment",
    "ArrangementInvoice",
    "AuditChainHead",
    "AuditEvent",
    "Cover",
    "CoverVersion",
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
    "InsurerRequest",
    "Invoice",
    "LimitRequest",
    "LimitRequestReview",
    "MonitorLease",
    "Note",
    "OpenCase",
    "OverdueReport",
    "Payment",
    "PaymentArrangement",
    "PolicyActivation",
    "PolicyVersion",
    "ProviderCacheHits",
    "ProviderCall",
    "RateLimitWindow",
    "ReportLease",
    "Reservation",
    "Review",
    "WarningSignal",
    "WebhookDelivery",
    "WebhookEvent",
    "WebhookSubscription",
    "metadata",
]
