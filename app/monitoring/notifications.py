"""Provider push: monitoring notifications (shaped like Creditsafe's notificationEvents) fed to change detection.

A rating change that carries the new rating is applied at once, without buying a report: the rating is
what the limit grid reads. Any other event (a limit change, a legal filing, an address) cannot be judged
from its text, so it flags the customer and the next monitor pass re-pulls the report first, within its
budget.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.active_policy import ActivePolicy
from app.db import Database, utcnow
from app.fields import utc_text
from app.monitoring import repository
from app.monitoring.service import MonitorService
from app.providers import repository as reports_repository
from app.providers.base import registration_key
from app.schema_types import JsonInt, ProviderDateTime

RATINGS = {"A", "B", "C", "D", "E"}


class NotifiedCompany(BaseModel):
    # Providers add fields over time: what creditgate does not read is ignored, not refused.
    model_config = ConfigDict(extra="ignore")

    id: str | None = None
    safeNumber: str | None = None
    name: str | None = None
    countryCode: str = Field(pattern=r"^[A-Z]{2}$")
    registrationNumber: str | None = Field(default=None, max_length=32)


class NotificationEvent(BaseModel):
    model_config = ConfigDict(extra="ignore")

    company: NotifiedCompany
    eventId: JsonInt | None = None
    notificationEventId: JsonInt | None = None
    eventDate: ProviderDateTime | None = None
    ruleCode: JsonInt | None = None
    ruleName: str = Field(max_length=200)
    oldValue: str | None = None
    newValue: str | None = None


class NotificationBatch(BaseModel):
    model_config = ConfigDict(extra="ignore")

    provider: str = Field(default="creditsafe", max_length=64)
    data: list[NotificationEvent] = Field(min_length=1, max_length=1000)


class NotificationResult(BaseModel):
    received: int
    applied: int = Field(description="Rating changes applied at once, without buying a report.")
    refresh_requested: int = Field(description="Customers the next monitor pass re-pulls first.")
    unmatched: int = Field(description="Events about companies that are not customers.")


class NotificationService:
    def __init__(self, database: Database, monitor: MonitorService, active_policy: ActivePolicy) -> None:
        self.database = database
        self.monitor = monitor
        self.active_policy = active_policy

    async def receive(self, batch: NotificationBatch) -> NotificationResult:
        policy = await self.active_policy()
        result = NotificationResult(received=len(batch.data), applied=0, refresh_requested=0, unmatched=0)
        names = [provider.name for provider in self.monitor.reports.providers]
        for event in batch.data:
            number = event.company.registrationNumber or event.company.safeNumber
            if not number:
                result.unmatched += 1
                continue
            key = registration_key(number)
            async with self.database.read() as session:
                matched = await repository.customers_by_registration(session, event.company.countryCode, [key])
                stored = await reports_repository.latest_snapshots(session, names, event.company.countryCode, key)
            if not matched:
                result.unmatched += 1
                continue
            rating = _rating(event)
            snapshot = max(stored.values(), key=lambda s: s["fetched_at"]) if stored else None
            for customer in matched:
                if rating is not None and snapshot is not None:
                    pushed = {
                        **snapshot,
                        "risk_class": rating,
                        "score": None,
                        "status": "insolvent" if rating == "insolvent" else snapshot.get("status"),
                        # When creditgate learnt it: a later bought report (newer) supersedes it.
                        "pushed_at": utc_text(utcnow()),
                    }
                    await self.monitor.check(customer.id, pushed, policy, actor=f"provider:{batch.provider}")
                    result.applied += 1
                else:
                    async with self.database.transaction() as session:
                        await repository.request_refresh(session, customer.id, utcnow())
                    result.refresh_requested += 1
        return result


def _rating(event: NotificationEvent) -> str | None:
    """The new rating, when the event is a rating change that carries one (A–E, or insolvency)."""
    name = event.ruleName.lower()
    value = (event.newValue or "").strip()
    if "insolven" in name or "bankrupt" in name:
        return "insolvent"
    if "rating" in name and value.upper() in RATINGS:
        return value.upper()
    return None
