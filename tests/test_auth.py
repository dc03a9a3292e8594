"""Bearer API keys: 401 without a valid key, 403 without the scope, health open to all."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, count_rows, key_for, order_body

PROTECTED = [
    ("POST", "/v1/decisions", "decide"),
    ("GET", "/v1/decisions", "read"),
    ("GET", "/v1/decisions/00000000-0000-0000-0000-000000000000", "read"),
    ("POST", "/v1/customers/C-404/notes", "review"),
    ("GET", "/v1/customers/C-404/notes", "read"),
    ("GET", "/v1/customers/C-1/behaviour", "read"),
]


async def call(client: httpx.AsyncClient, method: str, path: str, headers: dict[str, str]) -> httpx.Response:
    if method == "POST":
        body = {"text": "a note"} if path.endswith("/notes") else order_body()
        return await client.post(path, json=body, headers=headers)
    return await client.get(path, headers=headers)


class TestAuthentication:
    @pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
    async def test_refuses_a_request_without_a_key(
        self, client: httpx.AsyncClient, method: str, path: str, scope: str
    ) -> None:
        response = await call(client, method, path, {})
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
        assert response.headers["www-authenticate"].startswith("Bearer")

    @pytest.mark.parametrize(
        "authorization",
        ["Bearer wrong-key-000000000000000", "Basic dGVzdDp0ZXN0", "Bearer", "test-key-all-scopes-00000000"],
    )
    async def test_refuses_an_invalid_key(self, client: httpx.AsyncClient, authorization: str) -> None:
        response = await client.get("/v1/decisions", headers={"Authorization": authorization})
        assert response.status_code == 401
        assert response.json()["code"] == "unauthenticated"

    async def test_writes_nothing_without_a_key(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await client.post("/v1/decisions", json=order_body())
        assert await count_rows(engine, "decisions") == 0


class TestScopes:
    @pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
    async def test_refuses_a_key_without_the_scope(
        self, client: httpx.AsyncClient, method: str, path: str, scope: str
    ) -> None:
        for other in ("decide", "read", "review", "receivables", "sales", "admin", "no-scopes"):
            if other == scope:
                continue
            key = "test-key-no-scopes-000000000" if other == "no-scopes" else key_for(other)
            response = await call(client, method, path, auth(key))
            assert response.status_code == 403, (other, response.text)
            assert response.json()["code"] == "forbidden"

    @pytest.mark.parametrize(("method", "path", "scope"), PROTECTED)
    async def test_admits_a_key_with_the_scope(
        self, client: httpx.AsyncClient, method: str, path: str, scope: str
    ) -> None:
        response = await call(client, method, path, auth(key_for(scope)))
        assert response.status_code in (200, 201, 404)

    async def test_a_read_key_cannot_decide_and_writes_nothing(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        response = await client.post("/v1/decisions", json=order_body(), headers=auth(key_for("read")))
        assert response.status_code == 403
        assert await count_rows(engine, "decisions") == 0


class TestHealth:
    async def test_liveness_needs_no_key(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/live")
        assert response.status_code == 200
        assert response.json() == {"status": "live"}

    async def test_readiness_reports_a_reachable_database(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/health/ready")
        assert response.status_code == 200
        assert response.json() == {"status": "ready"}
