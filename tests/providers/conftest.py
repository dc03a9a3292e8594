"""The app wired to a fake Creditsafe Connect through the shared client's transport."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings
from tests.conftest import auth
from tests.providers.fake_creditsafe import BASE_URL, PASSWORD, USERNAME, FakeCreditsafe

AppClient = Callable[..., AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def fake() -> FakeCreditsafe:
    return FakeCreditsafe()


@pytest.fixture
def creditsafe_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "provider": "creditsafe",
            "creditsafe_base_url": BASE_URL,
            "creditsafe_username": USERNAME,
            "creditsafe_password": SecretStr(PASSWORD),
            # Generous: these tests count calls and outcomes on a shared machine; timing tests set their own.
            "decision_budget_ms": 5000,
            "provider_timeout_ms": 2000,
            "provider_retries": 1,
            "provider_breaker_failures": 3,
            "provider_breaker_reset_seconds": 30.0,
        }
    )


@pytest.fixture
def app_client(engine: AsyncEngine, creditsafe_settings: Settings, fake: FakeCreditsafe) -> AppClient:
    """`async with app_client(**setting_overrides) as client`: a fresh app talking to `fake`."""

    @asynccontextmanager
    async def open_client(**overrides: Any) -> AsyncIterator[httpx.AsyncClient]:
        app = create_app(creditsafe_settings.model_copy(update=overrides), transport=httpx.MockTransport(fake.handle))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as client:
                yield client

    return open_client


async def decide(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/decisions", json=body, headers=auth())
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def usage(client: httpx.AsyncClient, provider: str = "creditsafe") -> dict[str, Any]:
    response = await client.get("/v1/providers/usage", params={"provider": provider}, headers=auth())
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert len(items) <= 1
    empty = {"calls": 0, "reports_bought": 0, "not_found": 0, "errors": 0, "cache_hits": 0, "stale_hits": 0, "cost": []}
    return items[0] if items else empty


def codes(decision: dict[str, Any]) -> list[str]:
    return [reason["code"] for reason in decision["reasons"]]
