"""Subscriptions, the outbox writer `enqueue_event`, the delivery log and redelivery."""

from __future__ import annotations

import uuid
from typing import Any

from app.db import Database, WriteSession, utcnow
from app.errors import FieldError, InvalidRequest, NotFound
from app.webhooks import repository
from app.webhooks.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from app.webhooks.schemas import (
    EVENT_TYPES,
    DeliveryList,
    DeliveryOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)
from app.webhooks.signing import new_secret
from app.webhooks.targets import TargetRefused, check_url


async def enqueue_event(session: WriteSession, event_type: str, data: dict[str, Any]) -> str:
    """Write an event to the outbox in the caller's transaction, with a delivery for each subscriber.

    It commits or rolls back with the change it reports; the dispatcher sends it afterwards. The body
    follows the Standard Webhooks shape: {"type", "timestamp", "data"}.
    """
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}")
    now = utcnow()
    event_id = "msg_" + uuid.uuid4().hex
    payload = {"type": event_type, "timestamp": now.isoformat().replace("+00:00", "Z"), "data": data}
    await repository.insert_event(
        session, {"id": event_id, "event_type": event_type, "payload": payload, "created_at": now}
    )
    subscribers = [s for s in await repository.list_subscriptions(session) if event_type in s.event_types]
    await repository.insert_deliveries(session, [_delivery(s.id, event_id, now) for s in subscribers])
    return event_id


def _delivery(subscription_id: str, event_id: str, now: Any) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "subscription_id": subscription_id,
        "event_id": event_id,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }


class WebhookService:
    def __init__(self, database: Database, *, allow_private_targets: bool) -> None:
        self.database = database
        self.allow_private_targets = allow_private_targets

    async def create(self, body: SubscriptionIn) -> SubscriptionCreated:
        try:
            check_url(body.url, allow_private=self.allow_private_targets)
        except TargetRefused as exc:
            raise InvalidRequest(f"url {exc}", errors=[FieldError(field="url", message=str(exc))]) from None
        values = {
            "id": str(uuid.uuid4()),
            "url": body.url,
            "event_types": sorted(set(body.event_types)),
            "description": body.description,
            "secret": new_secret(),
            "active": True,
            "created_at": utcnow(),
        }
        async with self.database.transaction() as session:
            await repository.insert_subscription(session, values)
        return SubscriptionCreated(**{k: v for k, v in values.items() if k != "active"})

    async def list(self) -> SubscriptionList:
        async with self.database.read() as session:
            rows = await repository.list_subscriptions(session)
        return SubscriptionList(items=[subscription_out(row) for row in rows])

    async def get(self, subscription_id: str) -> SubscriptionOut:
        async with self.database.read() as session:
            row = await repository.get_subscription(session, subscription_id)
        if row is None:
            raise NotFound(f"no webhook subscription {subscription_id}")
        return subscription_out(row)

    async def delete(self, subscription_id: str) -> None:
        async with self.database.transaction() as session:
            if not await repository.delete_subscription(session, subscription_id):
                raise NotFound(f"no webhook subscription {subscription_id}")

    async def deliveries(self, subscription_id: str, limit: int) -> DeliveryList:
        async with self.database.read() as session:
            if await repository.get_subscription(session, subscription_id) is None:
                raise NotFound(f"no webhook subscription {subscription_id}")
            rows = await repository.deliveries(session, subscription_id, limit)
        return DeliveryList(items=[delivery_out(row[0], row[1]) for row in rows])

    async def redeliver(self, subscription_id: str, delivery_id: str) -> DeliveryOut:
        """A new delivery of the same event (same webhook-id, so receivers can tell it is a repeat)."""
        async with self.database.transaction() as session:
            if await repository.get_subscription(session, subscription_id) is None:
                raise NotFound(f"no webhook subscription {subscription_id}")
            original = await repository.get_delivery(session, subscription_id, delivery_id)
            if original is None:
                raise NotFound(f"no delivery {delivery_id} of webhook subscription {subscription_id}")
            row = _delivery(subscription_id, original.event_id, utcnow())
            await repository.insert_deliveries(session, [row])
            event = await session.get(WebhookEvent, original.event_id)
            assert event is not None
        return delivery_out(WebhookDelivery(**row), event.event_type)


def subscription_out(row: WebhookSubscription) -> SubscriptionOut:
    return SubscriptionOut(
        id=row.id, url=row.url, event_types=row.event_types, description=row.description, created_at=row.created_at
    )


def delivery_out(row: WebhookDelivery, event_type: str) -> DeliveryOut:
    return DeliveryOut(
        id=row.id,
        event_id=row.event_id,
        event_type=event_type,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == "pending" else None,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        last_attempt_at=row.last_attempt_at,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
    )
