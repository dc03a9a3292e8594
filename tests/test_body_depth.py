"""JSON bodies nested too deep are refused with a 422 naming the body, before any parser recurses into them."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from app.middleware import MAX_JSON_DEPTH, json_depth_exceeds
from tests.conftest import auth, order_body, table_counts

JSON = {"Content-Type": "application/json"}


def nested(depth: int, inner: str = "[]") -> str:
    """`depth` levels in all: arrays around `inner` (one level itself)."""
    return "[" * (depth - 1) + inner + "]" * (depth - 1)


def depth_of(value: Any) -> int:
    if isinstance(value, list):
        return 1 + max((depth_of(item) for item in value), default=0)
    if isinstance(value, dict):
        return 1 + max((depth_of(item) for item in value.values()), default=0)
    return 0


# Strings full of what the scan must not count: brackets, quotes and backslashes.
tricky_text = st.text(alphabet=st.sampled_from('[]{}"\\ a\u00e9\n'), max_size=8)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | tricky_text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(tricky_text, children, max_size=3),
    max_leaves=40,
)


class TestDepthScan:
    @settings(max_examples=300, deadline=None)
    @given(value=values, limit=st.integers(min_value=1, max_value=6), ensure_ascii=st.booleans())
    def test_agrees_with_the_parsed_depth(self, value: Any, limit: int, ensure_ascii: bool) -> None:
        body = json.dumps(value, ensure_ascii=ensure_ascii).encode()
        assert json_depth_exceeds(body, limit) == (depth_of(value) > limit)

    def test_brackets_inside_strings_do_not_count(self) -> None:
        body = json.dumps({"name": "[" * 1000, "note": '\\"[[[[' * 50}).encode()
        assert not json_depth_exceeds(body, 2)

    def test_interleaved_levels_are_counted(self) -> None:
        assert json_depth_exceeds(("[[]" * 40 + "]" * 40).encode(), MAX_JSON_DEPTH)
        assert not json_depth_exceeds(nested(MAX_JSON_DEPTH).encode(), MAX_JSON_DEPTH)
        assert json_depth_exceeds(nested(MAX_JSON_DEPTH + 1).encode(), MAX_JSON_DEPTH)


class TestDeepBodies:
    @pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 300, 100_000])
    async def test_a_deep_body_is_a_422_naming_the_body_and_changes_nothing(
        self, client: httpx.AsyncClient, engine: AsyncEngine, depth: int
    ) -> None:
        before = await table_counts(engine)
        body = '{"order": ' + nested(depth - 1) + ', "customer": {"id": "C-1"}}'
        for extra in ({}, {"Idempotency-Key": f"deep-{depth}"}):
            response = await client.post("/v1/decisions", content=body, headers={**auth(), **JSON, **extra})
            assert response.status_code == 422, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["errors"] == [
                {"field": "body", "message": f"nested deeper than {MAX_JSON_DEPTH} levels", "type": "too_deep"}
            ]
        assert await table_counts(engine) == before

    async def test_every_json_route_is_guarded(self, client: httpx.AsyncClient) -> None:
        deep = nested(5_000)
        for method, path in [("POST", "/v1/policies"), ("POST", "/v1/webhooks"), ("PUT", "/v1/customers/C-1")]:
            response = await client.request(method, path, content=deep, headers={**auth(), **JSON})
            assert response.status_code == 422, (path, response.text)
            assert response.json()["errors"][0]["field"] == "body"

    async def test_an_ordinary_body_with_brackets_in_its_strings_is_decided(self, client: httpx.AsyncClient) -> None:
        body = order_body()
        body["customer"]["name"] = "[[[[ Bakkerij {Jansen} ]]]]"
        response = await client.post("/v1/decisions", json=body, headers=auth())
        assert response.status_code == 201, response.text
