"""GET /metrics: Prometheus text format. No key unless CREDITGATE_METRICS_SCOPE names a scope."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request, Response
from sqlalchemy.exc import SQLAlchemyError

from app.api.deps import ServicesDep
from app.observability import metrics

router = APIRouter(tags=["operations"])
logger = logging.getLogger("creditgate.metrics")


@router.get("/metrics", include_in_schema=False)
async def scrape(request: Request, services: ServicesDep) -> Response:
    if services.settings.metrics_scope:
        services.keys.authenticate(request.headers.getlist("authorization")).require(services.settings.metrics_scope)
    open_reviews: int | None = None
    try:
        # A slow database must not hang the scrape: the gauge then keeps its last value.
        async with asyncio.timeout(1):
            now = datetime.now(UTC)
            gauges = await services.gauges.read(now)
        open_reviews = gauges.open_reviews
        oldest_due = gauges.oldest_due
        metrics.set_webhook_backlog(gauges.webhooks_pending, (now - oldest_due).total_seconds() if oldest_due else 0.0)
    except (TimeoutError, SQLAlchemyError, OSError):
        logger.warning("open reviews or the webhook backlog not counted: the database did not answer in time")
    states = {
        "closed": metrics.BreakerState.CLOSED,
        "half_open": metrics.BreakerState.HALF_OPEN,
        "open": metrics.BreakerState.OPEN,
    }
    for provider, state in services.reports.breaker_states().items():
        metrics.set_breaker_state(provider, states[state])
    return Response(metrics.render(open_reviews), media_type=metrics.CONTENT_TYPE)
