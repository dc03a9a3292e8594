"""API keys configured as digests: CREDITGATE_API_KEYS may hold `sha256:<hex>` instead of the key itself."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr, ValidationError
from sqlalchemy.ext.asyncio import AsyncEngine

from app.main import create_app
from app.settings import Settings, key_digest, key_id
from tests.conftest import order_body

KEY = "a-key-kept-only-as-its-digest-01"
DIGEST = "sha256:" + hashlib.sha256(KEY.encode()).hexdigest()


@pytest.fixture
async def digest_client(database_url: str, engine: AsyncEngine) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=database_url, api_keys=SecretStr(json.dumps({DIGEST: ["decide", "read"]})), decision_rate_limit=0
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://creditgate.test") as http:
            yield http


class TestKeyDigests:
    async def test_the_key_of_a_configured_digest_is_admitted(self, digest_client: httpx.AsyncClient) -> None:
        response = await digest_client.post(
            "/v1/decisions", json=order_body(), headers={"Authorization": f"Bearer {KEY}"}
        )
        assert response.status_code == 201, response.text
        listed = await digest_client.get("/v1/decisions", headers={"Authorization": f"Bearer {KEY}"})
        assert listed.status_code == 200
        assert len(listed.json()["items"]) == 1

    async def test_the_digest_itself_is_no_key(self, digest_client: httpx.AsyncClient) -> None:
        response = await digest_client.get("/v1/decisions", headers={"Authorization": f"Bearer {DIGEST}"})
        assert response.status_code == 401

    def test_a_key_and_its_digest_have_the_same_id(self) -> None:
        assert key_digest(KEY) == DIGEST
        assert key_id(DIGEST) == key_id(KEY)

    @pytest.mark.parametrize(
        "entry", ["sha256:abc", "sha256:" + "G" * 64, DIGEST.upper().replace("SHA256", "sha256"), DIGEST + "0"]
    )
    def test_a_malformed_digest_is_refused_at_start(self, entry: str) -> None:
        with pytest.raises(ValidationError, match="sha256: and 64 lowercase hex digits"):
            Settings(api_keys=SecretStr(json.dumps({entry: ["read"]})))
