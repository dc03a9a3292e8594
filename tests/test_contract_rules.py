"""What schemathesis found, one test per class: the document and the service agree (the slow suite runs it all)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema_rs

from tests.conftest import auth

OPENAPI = Path(__file__).resolve().parents[1] / "openapi" / "openapi.json"


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [pattern for value in node.values() for pattern in _patterns(value)]
    if isinstance(node, list):
        return [pattern for value in node for pattern in _patterns(value)]
    return []


class TestMethodNotAllowed:
    async def test_405_names_every_method_of_the_path(self, client: httpx.AsyncClient) -> None:
        for path, allow in (("/v1/decisions", "GET, POST"), ("/v1/webhooks/W-1", "DELETE, GET")):
            response = await client.request("OPTIONS", path, headers=auth())
            assert response.status_code == 405
            assert response.headers["allow"] == allow  # Starlette named only the first route's methods


class TestStrictTypes:
    async def test_a_date_or_time_is_a_string_not_a_unix_time(self, client: httpx.AsyncClient) -> None:
        for path in ("/v1/providers/usage?day_to=0", "/v1/decisions?decided_to=0.5"):
            response = await client.get(path, headers=auth())
            assert response.status_code == 422, path

    async def test_an_integer_is_not_a_boolean_or_a_string(self, client: httpx.AsyncClient) -> None:
        for value in (True, "30"):
            body = {"country": "NL", "payment_terms_days": value}
            response = await client.put("/v1/customers/C-1", json=body, headers=auth())
            assert response.status_code == 422, value
            assert response.json()["errors"][0]["field"] == "payment_terms_days"
        accepted = await client.put(
            "/v1/customers/C-1", json={"country": "NL", "payment_terms_days": 30.0}, headers=auth()
        )
        assert accepted.status_code == 201  # JSON Schema's integer: 30.0 is one

    async def test_a_notification_rule_code_is_not_a_boolean(self, client: httpx.AsyncClient) -> None:
        event = {"company": {"countryCode": "NL"}, "ruleName": "rating", "ruleCode": False}
        response = await client.post("/v1/providers/notifications", json={"data": [event]}, headers=auth())
        assert response.status_code == 422


class TestDefaults:
    async def test_usage_from_a_day_long_ago_reads_the_longest_range_after_it(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/v1/providers/usage?day_from=2000-01-01", headers=auth())
        assert response.status_code == 200
        assert (response.json()["day_from"], response.json()["day_to"]) == ("2000-01-01", "2000-12-31")


class TestTheDocument:
    def test_every_pattern_is_one_a_json_schema_validator_compiles(self) -> None:
        patterns = _patterns(json.loads(OPENAPI.read_text()))
        refused = []
        for pattern in patterns:
            try:
                jsonschema_rs.validator_for({"type": "string", "pattern": pattern})
            except jsonschema_rs.ValidationError:
                refused.append(pattern)
        assert refused == []

    def test_currencies_and_countries_are_listed(self) -> None:
        schemas = json.loads(OPENAPI.read_text())["components"]["schemas"]
        order = schemas["OrderIn"]["properties"]
        assert "EUR" in order["currency"]["enum"]
        assert "XXX" not in order["currency"]["enum"]
        assert "NL" in schemas["CustomerIn"]["properties"]["country"]["enum"]
        assert order["amount"]["pattern"].startswith("^")
