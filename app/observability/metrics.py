"""Every metric creditgate exposes on /metrics, with stable names; other modules only call the helpers here.

The metrics live in one process's memory: with several uvicorn workers each worker answers for itself, so
scrape each replica with one worker (the production shape), or aggregate per process.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Literal

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

REGISTRY = CollectorRegistry(auto_describe=True)
CONTENT_TYPE = CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

DECISIONS = Counter("creditgate_decisions", "Decisions taken, by outcome.", ["outcome"], registry=REGISTRY)
DECISION_SECONDS = Histogram(
    "creditgate_decision_duration_seconds",
    "Time to take one decision, report included, as the API saw it.",
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
PROVIDER_CALLS = Counter(
    "creditgate_provider_calls",
    "Report requests sent to a provider, by result (ok, not_found, unavailable, bad_response, timeout).",
    ["provider", "result"],
    registry=REGISTRY,
)
PROVIDER_ERRORS = Counter(
    "creditgate_provider_errors",
    "Provider calls that failed (unavailable, bad_response, timeout).",
    ["provider", "kind"],
    registry=REGISTRY,
)
PROVIDER_COST = Counter(
    "creditgate_provider_cost",
    "Money spent on reports, in units of the cost currency.",
    ["provider", "currency"],
    registry=REGISTRY,
)
PROVIDER_SECONDS = Histogram(
    "creditgate_provider_call_duration_seconds",
    "Time a provider took to answer a report request.",
    ["provider"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
REPORT_CACHE = Counter(
    "creditgate_report_cache_lookups",
    "Report cache lookups, by result (hit, miss, stale).",
    ["result"],
    registry=REGISTRY,
)
BREAKER_STATE = Gauge(
    "creditgate_provider_breaker_state",
    "The provider circuit breaker: 0 closed, 1 half-open, 2 open.",
    ["provider"],
    registry=REGISTRY,
)
OPEN_REVIEWS = Gauge(
    "creditgate_reviews_open", "Decisions waiting for a person, counted at scrape time.", registry=REGISTRY
)
WEBHOOKS_PENDING = Gauge(
    "creditgate_webhook_deliveries_pending",
    "Webhook deliveries not yet delivered nor failed, counted at scrape time.",
    registry=REGISTRY,
)
WEBHOOKS_OLDEST_DUE = Gauge(
    "creditgate_webhook_oldest_due_seconds",
    "How long the longest-waiting due webhook delivery is past its attempt time (0: none is due).",
    registry=REGISTRY,
)
AUDIT_INTACT = Gauge(
    "creditgate_audit_chain_intact",
    "1 when this process's last audit-chain verification found the chain intact, 0 when it found a break.",
    registry=REGISTRY,
)
AUDIT_VERIFIED_AT = Gauge(
    "creditgate_audit_last_verification_timestamp_seconds",
    "Unix time of this process's last audit-chain verification (GET /v1/audit/verify).",
    registry=REGISTRY,
)
HTTP_REQUESTS = Counter(
    "creditgate_http_requests",
    "HTTP requests answered, by method, route template and status.",
    ["method", "route", "status"],
    registry=REGISTRY,
)
HTTP_SECONDS = Histogram(
    "creditgate_http_request_duration_seconds",
    "Time to answer an HTTP request, by method and route template.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
    registry=REGISTRY,
)
SHARED_TRANSACTION_ITEMS = Histogram(
    "creditgate_shared_transaction_items",
    "Items applied together in one shared transaction (app/group_commit.py), by queue.",
    ["queue"],
    buckets=(1, 2, 4, 8, 16, 32, 64),
    registry=REGISTRY,
)
SHARED_TRANSACTION_RERUNS = Counter(
    "creditgate_shared_transaction_reruns",
    "Shared transactions rolled back whose items then ran again, each alone, by queue.",
    ["queue"],
    registry=REGISTRY,
)

ProviderResult = Literal["ok", "not_found", "unavailable", "bad_response", "timeout"]
CacheResult = Literal["hit", "miss", "stale"]


class BreakerState(IntEnum):
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


def record_decision(outcome: str, seconds: float) -> None:
    DECISIONS.labels(outcome).inc()
    DECISION_SECONDS.observe(seconds)


def record_provider_call(
    provider: str, result: ProviderResult, seconds: float, cost: float = 0.0, currency: str | None = None
) -> None:
    PROVIDER_CALLS.labels(provider, result).inc()
    PROVIDER_SECONDS.labels(provider).observe(seconds)
    if result in ("unavailable", "bad_response", "timeout"):
        PROVIDER_ERRORS.labels(provider, result).inc()
    if cost and currency:
        PROVIDER_COST.labels(provider, currency).inc(cost)


def record_cache_lookup(result: CacheResult) -> None:
    REPORT_CACHE.labels(result).inc()


def set_breaker_state(provider: str, state: BreakerState) -> None:
    BREAKER_STATE.labels(provider).set(int(state))


def set_webhook_backlog(pending: int, oldest_due_seconds: float) -> None:
    WEBHOOKS_PENDING.set(pending)
    WEBHOOKS_OLDEST_DUE.set(max(oldest_due_seconds, 0.0))


def record_audit_verification(intact: bool) -> None:
    AUDIT_INTACT.set(1 if intact else 0)
    AUDIT_VERIFIED_AT.set_to_current_time()


def record_http_request(method: str, route: str, status: int, seconds: float) -> None:
    HTTP_REQUESTS.labels(method, route, str(status)).inc()
    HTTP_SECONDS.labels(method, route).observe(seconds)


SQLITE_WAL_PAGES = Gauge(
    "creditgate_sqlite_wal_pages",
    "SQLite: pages of the write-ahead log that the last background checkpoint could not yet copy back.",
    registry=REGISTRY,
)
SQLITE_CHECKPOINT_FAILURES = Counter(
    "creditgate_sqlite_checkpoint_failures",
    "SQLite: background checkpoints that failed (commits then checkpoint, past their fallback threshold).",
    registry=REGISTRY,
)


def record_checkpoint(log_pages: int, copied_pages: int) -> None:
    SQLITE_WAL_PAGES.set(max(0, log_pages - copied_pages))


def record_checkpoint_failure() -> None:
    SQLITE_CHECKPOINT_FAILURES.inc()


def record_shared_transaction(queue: str, items: int) -> None:
    SHARED_TRANSACTION_ITEMS.labels(queue).observe(items)


def record_shared_transaction_rerun(queue: str) -> None:
    SHARED_TRANSACTION_RERUNS.labels(queue).inc()


def render(open_reviews: int | None) -> bytes:
    """The exposition text; `open_reviews` is None when it could not be counted (the gauge keeps its value)."""
    if open_reviews is not None:
        OPEN_REVIEWS.set(open_reviews)
    return generate_latest(REGISTRY)
