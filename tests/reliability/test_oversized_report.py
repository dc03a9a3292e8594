"""A provider answer far larger than any real report is refused (fallback outcome), not parsed and stored."""

from __future__ import annotations

import httpx
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.providers.creditsafe import MAX_RESPONSE_BYTES
from app.settings import Settings
from tests.conftest import auth, count_rows, order_body
from tests.providers.fake_creditsafe import BASE_URL, PASSWORD, USERNAME, FakeCreditsafe


class TestOversizedReport:
    async def test_an_oversized_valid_json_report_is_the_fallback(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        fake = FakeCreditsafe()

        async def handle(request: httpx.Request) -> httpx.Response:
            if request.url.path.startswith("/v1/companies/"):
                padding = b"x" * (MAX_RESPONSE_BYTES + 1)
                return httpx.Response(200, content=b'{"report": {"padding": "' + padding + b'"}}')
            return await fake.handle(request)

        creditsafe = settings.model_copy(
            update={
                "provider": "creditsafe",
                "creditsafe_base_url": BASE_URL,
                "creditsafe_username": USERNAME,
                "creditsafe_password": SecretStr(PASSWORD),
                "decision_budget_ms": 5000,
            }
        )
        app = create_app(creditsafe, transport=httpx.MockTransport(handle))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as client,
        ):
            response = await client.post("/v1/decisions", json=order_body(), headers=auth())
        assert response.status_code == 201, response.text
        assert response.json()["report"]["source"] == "unavailable"
        assert await count_rows(engine, "credit_reports") == 0
