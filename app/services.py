"""The one container of what the app runs on: every service and shared resource, built once per lifespan.

`create_app`'s lifespan builds it with `build_services` and puts it on the app with `provide`; nothing else
touches `app.state`. Routers take a service through a typed dependency (`app.api.deps.provided`), the console
and tests through `services_of(app)`, so a misspelt service is a type error, not an AttributeError at request
time. A new service is one field here and one line in `build_services`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

import httpx

from app.arrangements.service import ArrangementService
from app.audit.verify import AuditService
from app.auth import KeyRing
from app.cookies import SessionSigner
from app.customers import repository as customer_rows
from app.customers.service import CustomerService
from app.db import Database
from app.decisions.schemas import decision_out
from app.decisions.service import DecisionService
from app.idempotency.service import IdempotencyService
from app.insurance.insurer_requests import InsurerRequestService
from app.insurance.insurers import build_insurer
from app.insurance.reporting import OverdueReportService
from app.insurance.service import CoverService
from app.limits.lost_sales import LostSalesService
from app.limits.opportunities import OpportunitiesService
from app.limits.review_dates import LimitReviewService
from app.limits.service import LimitRequestService
from app.monitoring.notifications import NotificationService
from app.monitoring.service import MonitorService
from app.notes.service import NoteService
from app.orders.service import OrderService
from app.policy_versions.service import PolicyService
from app.providers.registry import build_report_service
from app.providers.reports import ReportService
from app.ratelimit.service import RateLimiter
from app.readiness import Readiness
from app.readside.credit_file import CreditFileService
from app.readside.customer_list import CustomerListService
from app.readside.gauges import GaugeService
from app.readside.open_items import OpenItemsService
from app.reviews.service import ReviewService
from app.settings import Settings
from app.signals.service import SignalService
from app.webhooks.dispatcher import Dispatcher, retry_rules
from app.webhooks.service import WebhookService


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    keys: KeyRing
    database: Database
    http: httpx.AsyncClient  # the shared outgoing client: providers and webhook deliveries
    console_signer: SessionSigner
    readiness: Readiness
    gauges: GaugeService
    audit: AuditService
    reports: ReportService
    policies: PolicyService
    decisions: DecisionService
    decision_rate: RateLimiter
    customers: CustomerService
    credit_files: CreditFileService
    customer_list: CustomerListService
    open_items: OpenItemsService
    orders: OrderService
    reviews: ReviewService
    idempotency: IdempotencyService
    webhooks: WebhookService
    dispatcher: Dispatcher
    monitor: MonitorService
    notifications: NotificationService
    notes: NoteService
    arrangements: ArrangementService
    signals: SignalService
    covers: CoverService
    overdue_reports: OverdueReportService
    insurer_requests: InsurerRequestService
    limit_requests: LimitRequestService
    limit_reviews: LimitReviewService
    opportunities: OpportunitiesService
    lost_sales: LostSalesService


def build_services(
    settings: Settings,
    *,
    keys: KeyRing,
    database: Database,
    policies: PolicyService,
    http: httpx.AsyncClient,
    console_signer: SessionSigner,
) -> Services:
    """Every service on the given resources; nothing here does I/O (the lifespan closes what needs closing)."""
    reports = build_report_service(settings, http, database)
    active_policy = policies.active_policy
    arrangements = ArrangementService(database, active_policy)
    signals = SignalService(database, active_policy, arrangements)
    arrangements.on_change(signals.recompute)
    monitor = MonitorService(
        database, reports, active_policy, settings.monitor_recent_days, ledger_pass=signals.ledger_changed
    )
    limit_requests = LimitRequestService(database, active_policy)
    return Services(
        settings=settings,
        keys=keys,
        database=database,
        http=http,
        console_signer=console_signer,
        readiness=Readiness(database),
        gauges=GaugeService(database),
        audit=AuditService(database),
        reports=reports,
        policies=policies,
        decisions=DecisionService(
            database, reports, policies.active_policy_and_rates, reservation_days=settings.reservation_expiry_days
        ),
        decision_rate=RateLimiter(
            database, "decisions", settings.decision_rate_limit, settings.decision_rate_window_seconds
        ),
        customers=CustomerService(
            database, active_policy, settings.max_batch_invoices, ledger_changed=signals.ledger_changed
        ),
        credit_files=CreditFileService(database, active_policy, decision_out, reports),
        customer_list=CustomerListService(database, active_policy, reports),
        open_items=OpenItemsService(database, active_policy),
        orders=OrderService(database, customer_rows),
        reviews=ReviewService(database, policies, settings.reservation_expiry_days),
        idempotency=IdempotencyService(
            database,
            retention=timedelta(hours=settings.idempotency_retention_hours),
            lease=timedelta(seconds=settings.idempotency_lease_seconds),
        ),
        webhooks=WebhookService(database, allow_private_targets=settings.webhooks_allow_private_targets),
        dispatcher=Dispatcher(database, http, retry_rules(settings)),
        monitor=monitor,
        notifications=NotificationService(database, monitor, active_policy),
        notes=NoteService(database),
        arrangements=arrangements,
        signals=signals,
        covers=CoverService(database),
        overdue_reports=OverdueReportService(database, active_policy),
        insurer_requests=InsurerRequestService(database, build_insurer(settings, http)),
        limit_requests=limit_requests,
        limit_reviews=LimitReviewService(database, active_policy),
        opportunities=OpportunitiesService(database, active_policy, limit_requests),
        lost_sales=LostSalesService(database, policies),
    )


class App(Protocol):
    """The ASGI application (FastAPI's), as far as the container needs it: the domain stays free of the web
    framework, so it is not imported here."""

    @property
    def state(self) -> Any: ...


def provide(app: App, services: Services) -> None:
    """Put the container on the app: the one place `app.state` is written."""
    app.state.services = services


def services_of(app: App) -> Services:
    """The running app's services (only while its lifespan runs)."""
    services: Services = app.state.services
    return services
