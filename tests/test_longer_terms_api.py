"""Orders asking for longer payment terms, through the API: validation, the policy, idempotency, replay and
the behaviour figure that counts them."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from tests.conftest import auth, count_rows, key_for, order_body
from tests.customers.test_behaviour_api import activate_behaviour_policy, behaviour, codes
from tests.erp import put_customer


def asking(days: Any, order_id: str = "SO-1", customer_id: str = "C-42", amount: str = "1000.00") -> dict[str, Any]:
    body = order_body(amount, "12345670", order_id=order_id, customer_id=customer_id)
    body["order"]["payment_terms_days"] = days
    return body


async def post(client: httpx.AsyncClient, body: dict[str, Any], key: str | None = None) -> httpx.Response:
    headers = auth() if key is None else {**auth(), "Idempotency-Key": key}
    return await client.post("/v1/decisions", json=body, headers=headers)


async def decided(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    response = await post(client, body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def activate(client: httpx.AsyncClient, version: str, **changes: Any) -> None:
    document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
    document["version"] = version
    document.update(changes)
    response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
    assert response.status_code == 201, response.text
    response = await client.post(f"/v1/policies/{version}/activate", headers=auth(key_for("admin")))
    assert response.status_code == 200, response.text


class TestValidation:
    @pytest.mark.parametrize("days", [-1, 366, "30", True, 30.5, None])
    async def test_bad_terms_are_a_422_naming_the_field_and_nothing_is_stored(
        self, client: httpx.AsyncClient, engine: Any, days: Any
    ) -> None:
        response = await post(client, asking(days))
        if days is None:  # null is as good as absent
            assert response.status_code == 201
            assert response.json()["payment_terms_days"] == 30
            return
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [e["field"] for e in response.json()["errors"]] == ["order.payment_terms_days"]
        assert await count_rows(engine, "decisions") == 0


class TestPolicy:
    async def test_the_default_policy_grants_the_segments_terms_and_says_why(self, client: httpx.AsyncClient) -> None:
        result = await decided(client, asking(60))
        assert (result["outcome"], result["payment_terms_days"]) == ("accept", 30)
        reason = next(r for r in result["reasons"] if r["code"] == "LONGER_TERMS_REQUESTED")
        assert reason["facts"] == {
            "requested_days": 60,
            "segment_terms_days": 30,
            "max_extra_days": 0,
            "action": "capped",
        }
        detail = (await client.get(f"/v1/decisions/{result['id']}", headers=auth())).json()
        assert detail["request"]["order"]["payment_terms_days"] == 60

    async def test_shorter_terms_are_granted_and_no_request_stores_no_key(self, client: httpx.AsyncClient) -> None:
        shorter = await decided(client, asking(10))
        assert shorter["payment_terms_days"] == 10
        assert "LONGER_TERMS_REQUESTED" not in codes(shorter)
        plain = await decided(client, order_body("1000.00", order_id="SO-2"))
        detail = (await client.get(f"/v1/decisions/{plain['id']}", headers=auth())).json()
        assert "payment_terms_days" not in detail["request"]["order"]

    async def test_a_policy_granting_extra_days_and_reviewing_beyond(self, client: httpx.AsyncClient) -> None:
        await activate(client, "terms-1", longer_terms={"max_extra_days": 15, "beyond": "review"})
        granted = await decided(client, asking(45, "SO-1"))
        assert (granted["outcome"], granted["payment_terms_days"]) == ("accept", 45)
        referred = await decided(client, asking(90, "SO-2"))
        assert (referred["outcome"], referred["payment_terms_days"]) == ("review", 90)
        queue = (await client.get("/v1/reviews", headers=auth(key_for("review")))).json()
        assert [case["decision"]["order_id"] for case in queue["items"]] == ["SO-2"]

    async def test_a_bad_section_is_refused_naming_the_field(self, client: httpx.AsyncClient) -> None:
        document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
        document["version"] = "terms-bad"
        document["longer_terms"] = {"max_extra_days": 400}
        response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
        assert response.status_code == 422
        assert [e["field"] for e in response.json()["errors"]] == ["longer_terms.max_extra_days"]


class TestIdempotency:
    async def test_a_replay_carries_the_terms_and_another_terms_is_another_body(
        self, client: httpx.AsyncClient
    ) -> None:
        first = await post(client, asking(60), key="k-terms")
        again = await post(client, asking(60), key="k-terms")
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.content == first.content
        other = await post(client, asking(45), key="k-terms")
        assert other.status_code == 422
        without = await post(client, order_body("1000.00", order_id="SO-1"), key="k-terms")
        assert without.status_code == 422


class TestReplay:
    async def test_replay_reads_the_asked_terms_from_the_stored_request(self, client: httpx.AsyncClient) -> None:
        await decided(client, asking(60, "SO-1"))
        await decided(client, order_body("1000.00", order_id="SO-2"))
        document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
        document["version"] = "terms-review"
        document["longer_terms"] = {"beyond": "review"}
        response = await client.post("/v1/policies", json=document, headers=auth(key_for("admin")))
        assert response.status_code == 201, response.text
        result = (await client.post("/v1/policies/terms-review/simulate", json={}, headers=auth())).json()
        assert [(t["old_outcome"], t["new_outcome"], t["count"]) for t in result["transitions"]] == [
            ("accept", "accept", 1),
            ("accept", "review", 1),
        ]
        [changed] = result["changed_decisions"]["items"]
        assert (changed["order_id"], changed["new"]["payment_terms_days"]) == ("SO-1", 60)


class TestBehaviourFigure:
    async def test_each_order_asking_counts_once_in_the_figure(self, client: httpx.AsyncClient) -> None:
        await activate_behaviour_policy(client)
        await put_customer(client)
        await decided(client, asking(60, "SO-1"))
        await decided(client, asking(75, "SO-1"))  # decided again: the same order
        await decided(client, asking(10, "SO-2"))  # shorter: no request for longer terms
        figure = (await behaviour(client))["figures"]["longer_terms_requests"]
        assert figure == {"value": "1", "window_days": 90, "invoices": 0, "payments": 0, "decisions": 2}
        third = await decided(client, asking(45, "SO-3"))
        detail = (await client.get(f"/v1/decisions/{third['id']}", headers=auth())).json()
        assert detail["inputs"]["behaviour"]["figures"]["longer_terms_requests"]["value"] == "1"
        assert (await behaviour(client))["figures"]["longer_terms_requests"]["value"] == "2"

    async def test_decisions_queued_together_count_each_others_requests(self, client: httpx.AsyncClient) -> None:
        """Several orders of one customer sent at once share a transaction, in rounds: each sees the ones before."""
        await activate_behaviour_policy(client)
        await put_customer(client)
        results = await asyncio.gather(*(decided(client, asking(60, f"SO-{n}")) for n in range(5)))
        seen = []
        for result in results:
            detail = (await client.get(f"/v1/decisions/{result['id']}", headers=auth())).json()
            seen.append(int(detail["inputs"]["behaviour"]["figures"]["longer_terms_requests"]["value"]))
        assert sorted(seen) == [0, 1, 2, 3, 4]
        assert all(result["payment_terms_days"] == 30 for result in results)
