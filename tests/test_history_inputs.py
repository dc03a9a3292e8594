"""The history's filters refuse what can match nothing by mistake, and say so in one wording."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from app.policy.facts import REASON_CODES
from tests.conftest import auth

ROOT = Path(__file__).resolve().parents[1]


def test_the_known_reason_codes_are_the_evaluators() -> None:
    source = (ROOT / "app" / "policy" / "evaluator.py").read_text()
    assert set(re.findall(r'Reason\(\s*"([A-Z][A-Z_]+)"', source)) == REASON_CODES


class TestHistoryInputs:
    @pytest.mark.parametrize("path", ["/v1/decisions", "/v1/decisions/export"])
    async def test_an_unknown_reason_code_is_422_not_an_empty_page(self, client: httpx.AsyncClient, path: str) -> None:
        response = await client.get(path, params={"reason_code": "WITHIN_LIMITS"}, headers=auth())
        assert response.status_code == 422, response.text
        (error,) = response.json()["errors"]
        assert error["field"] == "query.reason_code"
        assert "WITHIN_LIMIT" in error["message"]  # the known codes are named
        assert (await client.get(path, params={"reason_code": "WITHIN_LIMIT"}, headers=auth())).status_code == 200

    @pytest.mark.parametrize("value", ["2026-11-01", "2026-11-01T00:00:00", "2026-13-01T00:00:00Z", "yesterday"])
    async def test_every_bad_time_gets_the_same_message(self, client: httpx.AsyncClient, value: str) -> None:
        response = await client.get("/v1/decisions", params={"decided_from": value}, headers=auth())
        assert response.status_code == 422
        (error,) = response.json()["errors"]
        assert error["field"] == "query.decided_from"
        assert error["message"] == "must be an RFC 3339 date-time with a UTC offset, e.g. 2026-11-23T10:00:00Z"

    @pytest.mark.parametrize(
        ("value", "words"),
        [("-5", "must not be negative"), ("10000000000000", "at most 12 digits"), ("1e5", "plain decimal")],
    )
    async def test_an_amount_bound_says_what_is_wrong(self, client: httpx.AsyncClient, value: str, words: str) -> None:
        response = await client.get("/v1/decisions", params={"amount_min": value, "currency": "EUR"}, headers=auth())
        assert response.status_code == 422
        (error,) = response.json()["errors"]
        assert error["field"] == "query.amount_min"
        assert words in error["message"]

    async def test_a_text_plain_body_is_415(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/v1/decisions", content=b'{"order": {}}', headers={**auth(), "content-type": "text/plain"}
        )
        assert response.status_code == 415
        assert response.headers["content-type"] == "application/problem+json"
