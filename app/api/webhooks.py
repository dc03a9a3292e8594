"""Webhook subscriptions, their delivery log, and redelivery (admin)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response

from app.api.deps import JsonBody, WebhookServiceDep, require_scope
from app.api.problems import JSON_WRITE_PROBLEMS, problem_responses
from app.auth import Principal
from app.errors import Forbidden, NotFound, Unauthenticated
from app.webhooks.schemas import (
    DeliveryList,
    DeliveryOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])
Admin = Annotated[Principal, Depends(require_scope("admin"))]
Id = Annotated[str, Path(min_length=1, max_length=64)]


Service = WebhookServiceDep


@router.post(
    "",
    status_code=201,
    dependencies=[JsonBody],
    responses=problem_responses(*JSON_WRITE_PROBLEMS),
    summary="Subscribe a URL to event types; the response carries the signing secret, once",
)
async def create(body: SubscriptionIn, _principal: Admin, service: Service) -> SubscriptionCreated:
    return await service.create(body)


@router.get("", responses=problem_responses(Unauthenticated, Forbidden), summary="The subscriptions")
async def list_subscriptions(_principal: Admin, service: Service) -> SubscriptionList:
    return await service.list()


@router.get(
    "/{subscription_id}", responses=problem_responses(Unauthenticated, Forbidden, NotFound), summary="A subscription"
)
async def get(subscription_id: Id, _principal: Admin, service: Service) -> SubscriptionOut:
    return await service.get(subscription_id)


@router.delete(
    "/{subscription_id}",
    status_code=204,
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="Unsubscribe: nothing more is sent; the delivery log stays readable",
)
async def delete(subscription_id: Id, _principal: Admin, service: Service) -> Response:
    await service.delete(subscription_id)
    return Response(status_code=204)


@router.get(
    "/{subscription_id}/deliveries",
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="The delivery log, newest first",
)
async def deliveries(
    subscription_id: Id, _principal: Admin, service: Service, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> DeliveryList:
    return await service.deliveries(subscription_id, limit)


@router.post(
    "/{subscription_id}/deliveries/{delivery_id}/redeliver",
    status_code=202,
    responses=problem_responses(Unauthenticated, Forbidden, NotFound),
    summary="Send a delivery's event again (same webhook-id), now",
)
async def redeliver(subscription_id: Id, delivery_id: Id, _principal: Admin, service: Service) -> DeliveryOut:
    return await service.redeliver(subscription_id, delivery_id)
