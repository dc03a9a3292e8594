"""Every route × every scope × no key / wrong key, read from the app's own routes so a new one is covered."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from app.main import create_app
from app.settings import ALL_SCOPES
from tests.conftest import auth, key_for
from tests.erp import decide, put_customer, put_invoice

NO_SCOPES_KEY = "test-key-no-scopes-000000000"
# Open to all, or (for /metrics) checked inside the route against the configurable CREDITGATE_METRICS_SCOPE;
# /console pages authenticate by session cookie and scope (tests/console/test_console_session.py covers them);
# /docs and /redoc are the API's documentation pages, open like /openapi.json.
PUBLIC_PREFIXES = ("/health/", "/version", "/metrics", "/console", "/docs", "/redoc")


def _required_scopes(dependant: Dependant) -> set[str] | None:
    """The scopes a route's scope check accepts (any one of them, its `.scopes`), or None when it has none."""
    for sub in dependant.dependencies:
        scopes = getattr(sub.call, "scopes", None)
        if scopes is not None:
            return set(scopes)
        found = _required_scopes(sub)
        if found is not None:
            return found
    return None


def _api_routes() -> list[tuple[str, APIRoute]]:
    """(full path, route) for every API route, also those of included routers."""
    found = []
    for route in create_app().routes:
        contexts = getattr(route, "effective_route_contexts", None)  # an included router keeps its own routes
        for context in contexts() if contexts else []:
            if isinstance(context.original_route, APIRoute):
                found.append((context.path, context.original_route))
        if isinstance(route, APIRoute):
            found.append((route.path, route))
    return found


def _routes() -> list[tuple[str, str, set[str] | None]]:
    routes = []
    for path, route in _api_routes():
        for method in sorted(route.methods):
            routes.append((method, path, _required_scopes(route.dependant)))
    return routes


ROUTES = _routes()
PROTECTED = [(method, path, scopes) for method, path, scopes in ROUTES if scopes is not None]
ROUTE_IDS = [f"{method} {path}" for method, path, _ in PROTECTED]


async def _existing_ids(client: httpx.AsyncClient) -> dict[str, str]:
    """Path parameters that name resources which exist."""
    await put_customer(client, "C-42")
    await put_invoice(client, "INV-1", "100.00", customer_id="C-42")
    decision = await decide(client, "100.00", "SO-1001")
    active = (await client.get("/v1/policies/active", headers=auth())).json()
    subscription = await client.post(
        "/v1/webhooks",
        json={"url": "https://erp.example.com/hooks", "event_types": ["customer.blocked"]},
        headers=auth(),
    )
    assert subscription.status_code == 201, subscription.text
    request = await client.post(
        "/v1/limit-requests",
        json={"customer_id": "C-42", "amount": "5000.00", "reason": "growing"},
        headers=auth(key_for("sales")),
    )
    assert request.status_code == 201, request.text
    promise = await client.post(
        "/v1/customers/C-42/arrangements",
        json={
            "kind": "promise",
            "invoice_ids": ["INV-1"],
            "instalments": [
                {"due_date": (datetime.now(UTC).date() + timedelta(days=7)).isoformat(), "amount": "100.00"}
            ],
        },
        headers=auth(key_for("receivables")),
    )
    assert promise.status_code == 201, promise.text
    return {
        "arrangement_id": promise.json()["id"],
        "signal_id": "no-signal-yet",
        "request_id": request.json()["id"],
        "subscription_id": subscription.json()["id"],
        "delivery_id": "no-delivery-yet",
        "customer_id": "C-42",
        "invoice_id": "INV-1",
        "decision_id": decision["id"],
        "order_id": "SO-1001",
        "version": active["version"],
    }


def _fill(path: str, ids: dict[str, str], missing: bool) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: f"missing-{m.group(1)}" if missing else ids[m.group(1)], path)


async def _call(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    body: Any = {} if method in ("POST", "PUT", "PATCH") else None
    return await client.request(method, path, json=body, headers=headers)


class TestEveryRouteIsCovered:
    def test_every_route_outside_health_needs_a_scope(self) -> None:
        unguarded = [(method, path) for method, path, scopes in ROUTES if scopes is None]
        assert all(path.startswith(PUBLIC_PREFIXES) for _, path in unguarded), unguarded
        assert len(PROTECTED) >= 20

    def test_scopes_named_by_routes_exist(self) -> None:
        for _, _, scopes in PROTECTED:
            assert scopes is not None
            assert scopes <= set(ALL_SCOPES)


class TestAuthorisationMatrix:
    @pytest.mark.parametrize(("method", "path", "scopes"), PROTECTED, ids=ROUTE_IDS)
    async def test_no_key_and_wrong_key_get_401(
        self, client: httpx.AsyncClient, method: str, path: str, scopes: set[str]
    ) -> None:
        target = _fill(path, {}, missing=True)
        for headers in ({}, auth("wrong-key-000000000000000000"), {"Authorization": "Basic dGVzdDp0ZXN0"}):
            response = await _call(client, method, target, headers)
            assert response.status_code == 401, (headers, response.text)
            assert response.headers["content-type"] == "application/problem+json"

    @pytest.mark.parametrize(("method", "path", "scopes"), PROTECTED, ids=ROUTE_IDS)
    async def test_a_key_without_the_scope_gets_403_and_learns_nothing(
        self, client: httpx.AsyncClient, method: str, path: str, scopes: set[str]
    ) -> None:
        ids = await _existing_ids(client)
        keys = [key_for(scope) for scope in ALL_SCOPES if scope not in scopes] + [NO_SCOPES_KEY]
        for key in keys:
            existing = await _call(client, method, _fill(path, ids, missing=False), auth(key))
            missing = await _call(client, method, _fill(path, ids, missing=True), auth(key))
            assert existing.status_code == missing.status_code == 403, (key, existing.text, missing.text)
            first, second = existing.json(), missing.json()
            first.pop("instance"), second.pop("instance")
            assert first == second
            assert existing.headers.keys() == missing.headers.keys()

    @pytest.mark.parametrize(("method", "path", "scopes"), PROTECTED, ids=ROUTE_IDS)
    async def test_a_key_with_the_scope_passes_the_auth_layer(
        self, client: httpx.AsyncClient, method: str, path: str, scopes: set[str]
    ) -> None:
        ids = await _existing_ids(client)
        for scope in scopes:
            response = await _call(client, method, _fill(path, ids, missing=False), auth(key_for(scope)))
            assert response.status_code not in (401, 403), (scope, response.text)
