"""Policy versions over HTTP: startup bootstrap, storing, validation, activation and what every decision records."""

from __future__ import annotations

import asyncio
import copy
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.customers import repository as customer_repository
from app.db import Database
from app.main import create_app
from app.policy_versions import repository
from app.policy_versions.service import PolicyService
from app.settings import DEFAULT_POLICY_FILE, Settings
from tests.conftest import auth, count_rows, key_for, order_body

DEFAULT_VERSION = "default-2026.11"


async def active_document(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/v1/policies/active", headers=auth())
    assert response.status_code == 200, response.text
    document: dict[str, Any] = copy.deepcopy(response.json()["document"])
    return document


async def store(client: httpx.AsyncClient, document: dict[str, Any], expected: int = 201) -> dict[str, Any]:
    response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
    assert response.status_code == expected, response.text
    body: dict[str, Any] = response.json()
    return body


async def stricter(client: httpx.AsyncClient, version: str = "v2") -> dict[str, Any]:
    """The default policy with class A regular orders above 1000.00 sent to review."""
    document = await active_document(client)
    document["version"] = version
    document["grid"]["A"]["regular"]["review_above"] = "1000.00"
    for worse in ("B", "C", "D", "E"):
        document["grid"][worse]["regular"]["review_above"] = "1000.00"
    return document


async def decide(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await client.post("/v1/decisions", json=body, headers=auth())
    assert response.status_code == 201, response.text
    decision: dict[str, Any] = response.json()
    return decision


class TestStartup:
    async def test_an_empty_database_gets_the_configured_policy_as_the_active_version(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        response = await client.get("/v1/policies/active", headers=auth(key_for("read")))
        assert response.status_code == 200
        assert response.json()["version"] == DEFAULT_VERSION
        assert response.json()["active"] is True
        assert response.json()["created_by"] == "startup"
        assert await count_rows(engine, "policy_versions") == 1

    async def test_a_second_replica_starting_adds_no_version_nor_activation(
        self, client: httpx.AsyncClient, settings: Settings, engine: AsyncEngine
    ) -> None:
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            pass
        assert await count_rows(engine, "policy_versions") == 1
        assert await count_rows(engine, "policy_activations") == 1

    async def test_replicas_starting_together_store_the_policy_once(
        self, settings: Settings, engine: AsyncEngine
    ) -> None:
        databases = [Database(settings.database_url) for _ in range(4)]
        try:
            await asyncio.gather(*(PolicyService(db, DEFAULT_POLICY_FILE).bootstrap() for db in databases))
        finally:
            for db in databases:
                await db.dispose()
        assert await count_rows(engine, "policy_versions") == 1
        assert await count_rows(engine, "policy_activations") == 1


class TestStoringVersions:
    async def test_a_valid_document_is_stored_inactive(self, client: httpx.AsyncClient) -> None:
        stored = await store(client, await stricter(client))
        assert stored["version"] == "v2"
        assert stored["active"] is False
        assert stored["document"]["grid"]["A"]["regular"]["review_above"] == "1000.00"
        listed = (await client.get("/v1/policies", headers=auth())).json()
        assert listed["active_version"] == DEFAULT_VERSION
        assert [item["version"] for item in listed["items"]] == ["v2", DEFAULT_VERSION]
        fetched = (await client.get("/v1/policies/v2", headers=auth())).json()
        assert fetched["digest"] == stored["digest"]

    async def test_the_same_document_again_is_answered_with_the_stored_version(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        document = await stricter(client)
        first = await store(client, document)
        again = await store(client, document, expected=200)
        assert again["digest"] == first["digest"]
        assert await count_rows(engine, "policy_versions") == 2

    async def test_concurrent_posts_of_one_version_store_it_once(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        document = await stricter(client)
        responses = await asyncio.gather(
            *(client.post("/v1/policies", json=document, headers=auth(key_for("admin"))) for _ in range(3))
        )
        assert sorted(response.status_code for response in responses) == [200, 200, 201]
        assert await count_rows(engine, "policy_versions") == 2

    async def test_other_content_under_a_stored_version_id_is_a_conflict(self, client: httpx.AsyncClient) -> None:
        document = await stricter(client)
        original = await store(client, document)
        document["stop"]["overdue_days_tolerance"] = 10
        response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"] == "conflict"
        kept = (await client.get("/v1/policies/v2", headers=auth())).json()
        assert kept["digest"] == original["digest"]
        assert kept["document"]["stop"]["overdue_days_tolerance"] == 30

    async def test_the_active_version_cannot_be_overwritten_either(self, client: httpx.AsyncClient) -> None:
        document = await active_document(client)
        document["small_orders"]["threshold"] = "1.00"
        response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
        assert response.status_code == 409

    async def test_an_invalid_document_gets_a_422_naming_the_field_and_nothing_is_stored(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        document = await stricter(client)
        document["grid"]["D"]["new"]["cap"] = "999999.00"
        response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
        assert response.status_code == 422
        assert response.headers["content-type"] == "application/problem+json"
        assert [error["field"] for error in response.json()["errors"]] == ["grid.D.new.cap"]
        assert await count_rows(engine, "policy_versions") == 1

    async def test_a_yaml_document_is_accepted_and_its_errors_name_the_line(self, client: httpx.AsyncClient) -> None:
        text = DEFAULT_POLICY_FILE.read_text().replace("version: default-2026.11", "version: from-yaml")
        headers = {**auth(key_for("admin")), "Content-Type": "application/yaml"}
        response = await client.post("/v1/policies", content=text.encode(), headers=headers)
        assert response.status_code == 201, response.text
        assert response.json()["version"] == "from-yaml"
        broken = text.replace("max_age_days: 30", "max_age_days: many")
        response = await client.post("/v1/policies", content=broken.encode(), headers=headers)
        assert response.status_code == 422
        error = response.json()["errors"][0]
        assert error["field"] == "reports.max_age_days"
        line = next(n for n, content in enumerate(broken.splitlines(), 1) if "max_age_days: many" in content)
        assert error["message"].startswith(f"line {line}:")

    async def test_a_body_that_is_not_json_is_a_400(self, client: httpx.AsyncClient) -> None:
        headers = {**auth(key_for("admin")), "Content-Type": "application/json"}
        response = await client.post("/v1/policies", content=b"{not json", headers=headers)
        assert response.status_code == 400

    async def test_another_media_type_is_a_415(self, client: httpx.AsyncClient) -> None:
        headers = {**auth(key_for("admin")), "Content-Type": "text/plain"}
        response = await client.post("/v1/policies", content=b"version: x", headers=headers)
        assert response.status_code == 415

    @pytest.mark.parametrize("scope", ["read", "decide", "review"])
    async def test_storing_needs_the_admin_scope(self, client: httpx.AsyncClient, scope: str) -> None:
        response = await client.post("/v1/policies", json=await stricter(client), headers=auth(key_for(scope)))
        assert response.status_code == 403

    async def test_reading_needs_a_key(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/v1/policies")).status_code == 401
        assert (await client.get("/v1/policies", headers=auth(key_for("decide")))).status_code == 403

    async def test_an_unknown_version_is_a_404(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/policies/nope", headers=auth())
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"


class TestActivation:
    async def test_new_decisions_use_the_activated_version_and_old_ones_keep_theirs(
        self, client: httpx.AsyncClient
    ) -> None:
        before = await decide(client, order_body("1250.00", "12345670", order_id="SO-1"))
        await store(client, await stricter(client))
        response = await client.post("/v1/policies/v2/activate", headers=auth(key_for("admin")))
        assert response.status_code == 200
        assert response.json()["active"] is True
        after = await decide(client, order_body("1250.00", "12345670", order_id="SO-2"))
        assert before["policy_version"] == DEFAULT_VERSION
        assert after["policy_version"] == "v2"
        assert after["outcome"] == "review"
        stored = (await client.get(f"/v1/decisions/{before['id']}", headers=auth())).json()
        assert stored["policy_version"] == DEFAULT_VERSION
        assert stored["outcome"] == "accept"

    async def test_activation_is_seen_by_every_replica(self, client: httpx.AsyncClient, settings: Settings) -> None:
        other = create_app(settings)
        async with other.router.lifespan_context(other):
            transport = httpx.ASGITransport(app=other)
            async with httpx.AsyncClient(transport=transport, base_url="http://replica.test") as replica:
                first = await decide(replica, order_body("1250.00", "12345670", order_id="SO-1"))
                await store(client, await stricter(client))
                await client.post("/v1/policies/v2/activate", headers=auth(key_for("admin")))
                second = await decide(replica, order_body("1250.00", "12345670", order_id="SO-2"))
        assert first["policy_version"] == DEFAULT_VERSION
        assert second["policy_version"] == "v2"

    async def test_activating_an_older_version_again_brings_it_back(self, client: httpx.AsyncClient) -> None:
        await store(client, await stricter(client))
        await client.post("/v1/policies/v2/activate", headers=auth(key_for("admin")))
        response = await client.post(f"/v1/policies/{DEFAULT_VERSION}/activate", headers=auth(key_for("admin")))
        assert response.json()["active"] is True
        decision = await decide(client, order_body("1250.00", "12345670"))
        assert decision["policy_version"] == DEFAULT_VERSION

    async def test_activating_an_unknown_version_is_a_404_and_changes_nothing(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/v1/policies/nope/activate", headers=auth(key_for("admin")))
        assert response.status_code == 404
        assert (await client.get("/v1/policies/active", headers=auth())).json()["version"] == DEFAULT_VERSION

    async def test_activation_needs_the_admin_scope(self, client: httpx.AsyncClient) -> None:
        await store(client, await stricter(client))
        response = await client.post("/v1/policies/v2/activate", headers=auth(key_for("read")))
        assert response.status_code == 403


class TestTheDecisionPathsRead:
    """What a decision reads before its report: the active version and the rates, in one statement."""

    async def test_it_answers_what_the_two_reads_apart_answer(
        self, client: httpx.AsyncClient, settings: Settings, engine: AsyncEngine
    ) -> None:
        await store(client, await stricter(client))
        await client.post("/v1/policies/v2/activate", headers=auth(key_for("admin")))
        async with engine.begin() as connection:
            for base, rate in (("USD", "0.9"), ("CHF", "1.05"), ("GBP", "1.17")):
                await connection.execute(
                    text("INSERT INTO fx_rates (base, quote, rate, updated_at) VALUES (:base, 'EUR', :rate, :at)"),
                    {"base": base, "rate": rate, "at": datetime.now(UTC)},
                )
        database = Database(settings.database_url)
        try:
            async with database.read_connection(brief=True) as connection:
                version, rates = await repository.active_version_and_rates(connection)
                assert version == await repository.active_version(connection) == "v2"
                apart = await customer_repository.rate_table(connection)
            assert rates.rate("EUR", "USD") == apart.rate("EUR", "USD") == Decimal("0.9")
            assert rates.rate("CHF", "GBP") == apart.rate("CHF", "GBP")
            assert rates.rate("USD", "EUR") == apart.rate("USD", "EUR")
        finally:
            await database.dispose()

    async def test_without_an_activation_the_version_is_none_and_the_rates_still_come(
        self, client: httpx.AsyncClient, settings: Settings, engine: AsyncEngine
    ) -> None:
        async with engine.begin() as connection:
            await connection.execute(text("DELETE FROM policy_activations"))
            await connection.execute(
                text("INSERT INTO fx_rates (base, quote, rate, updated_at) VALUES ('USD', 'EUR', '0.9', :at)"),
                {"at": datetime.now(UTC)},
            )
        database = Database(settings.database_url)
        try:
            async with database.read_connection() as connection:
                version, rates = await repository.active_version_and_rates(connection)
            assert version is None
            assert rates.rate("EUR", "USD") == Decimal("0.9")
        finally:
            await database.dispose()
