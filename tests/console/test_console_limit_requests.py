"""Open limit requests decided from the console's limits page, as the API's review does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import ALL_KEY, auth, count_rows, key_for
from tests.console.console import csrf_token, sign_in
from tests.console.e2e import ALL_KEY as E2E_ALL_KEY
from tests.console.e2e import ARTIFACTS, Served, serve
from tests.console.e2e import SECOND_REVIEWER as E2E_SECOND_REVIEWER
from tests.erp import credit_file, manual_limit, put_customer
from tests.limits.helpers import REVIEWER, asked


async def open_request(client: httpx.AsyncClient, key: str = key_for("sales")) -> dict[str, Any]:
    """C-42 with a manual limit of 1,000.00 EUR asks for 5,000.00."""
    await put_customer(client, **manual_limit("1000.00"))
    return await asked(client, key)


async def post_review(client: httpx.AsyncClient, request_id: str, **fields: str) -> httpx.Response:
    page = await client.get("/console/limits")
    return await client.post(f"/console/limits/requests/{request_id}", data={"csrf_token": csrf_token(page), **fields})


async def status_of(client: httpx.AsyncClient, request_id: str) -> dict[str, Any]:
    return dict((await client.get(f"/v1/limit-requests/{request_id}", headers=auth(key_for("read")))).json())


class TestDecidingALimitRequestFromTheConsole:
    async def test_a_reviewer_approves_and_the_limit_is_applied(self, client: httpx.AsyncClient) -> None:
        request = await open_request(client)
        await sign_in(client, REVIEWER)
        page = await client.get("/console/limits")
        assert page.status_code == 200
        assert f'action="/console/limits/requests/{request["id"]}"' in page.text
        response = await post_review(client, request["id"], outcome="approve", reason="Pays within terms.")
        assert response.status_code == 303
        assert response.headers["location"] == f"/console/limits?reviewed={request['id']}"
        decided = await status_of(client, request["id"])
        assert decided["status"] == "approved"
        assert [(r["outcome"], r["reason"]) for r in decided["reviews"]] == [("approve", "Pays within terms.")]
        assert (await credit_file(client))["limit"]["amount"] == "5000.00"
        after = await client.get(f"/console/limits?reviewed={request['id']}")
        assert "is recorded" in after.text
        assert request["id"] not in after.text.split("is recorded", 1)[1]  # no longer among the open requests

    async def test_a_refusal_decides_at_once(self, client: httpx.AsyncClient) -> None:
        request = await open_request(client)
        await sign_in(client, REVIEWER)
        response = await post_review(client, request["id"], outcome="refuse", reason="Too many late payments.")
        assert response.status_code == 303
        assert (await status_of(client, request["id"]))["status"] == "refused"
        assert (await credit_file(client))["limit"]["amount"] == "1000.00"

    async def test_without_a_reason_nothing_is_recorded_and_the_field_is_named(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        request = await open_request(client)
        await sign_in(client, REVIEWER)
        response = await post_review(client, request["id"], outcome="approve", reason="   ")
        assert response.status_code == 422
        assert 'aria-invalid="true"' in response.text
        assert "Check the highlighted fields." in response.text
        assert (await status_of(client, request["id"]))["status"] == "pending"
        assert await count_rows(engine, "limit_request_reviews") == 0

    async def test_a_form_without_the_sessions_token_is_refused(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        request = await open_request(client)
        await sign_in(client, REVIEWER)
        response = await client.post(
            f"/console/limits/requests/{request['id']}", data={"outcome": "approve", "reason": "x", "csrf_token": "no"}
        )
        assert response.status_code == 403
        assert await count_rows(engine, "limit_request_reviews") == 0

    async def test_a_read_key_sees_the_requests_without_a_form_and_cannot_post_one(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        request = await open_request(client)
        await sign_in(client, key_for("read"))
        page = await client.get("/console/limits")
        assert request["customer_id"] in page.text
        assert "/console/limits/requests/" not in page.text
        response = await post_review(client, request["id"], outcome="approve", reason="Pays.")
        assert response.status_code == 403
        assert await count_rows(engine, "limit_request_reviews") == 0

    async def test_four_eyes_the_first_reviewer_waits_for_another(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, **manual_limit("1000.00"))
        request = await asked(client, amount="30000.00")  # above the four-eyes amount
        await sign_in(client, REVIEWER)
        assert (
            await post_review(client, request["id"], outcome="approve", reason="Known for years.")
        ).status_code == 303
        page = await client.get("/console/limits")
        assert "You took the first review" in page.text
        again = await post_review(client, request["id"], outcome="approve", reason="Once more.")
        assert again.status_code == 409
        assert "another reviewer has to take the second review" in again.text
        await sign_in(client, ALL_KEY)
        assert (await post_review(client, request["id"], outcome="approve", reason="Agreed.")).status_code == 303
        assert (await status_of(client, request["id"]))["status"] == "approved"
        customer = (await client.get("/v1/customers/C-42", headers=auth())).json()
        assert customer["manual_limit"]["amount"] == "30000.00"

    async def test_the_key_that_asked_gets_no_form_and_is_refused_in_words(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        request = await open_request(client, ALL_KEY)  # a credit manager asks with every scope
        await sign_in(client, ALL_KEY)
        page = await client.get("/console/limits")
        assert "This key asked for it" in page.text
        response = await post_review(client, request["id"], outcome="approve", reason="Mine.")
        assert response.status_code == 403
        assert "another reviewer has to decide it" in response.text
        assert await count_rows(engine, "limit_request_reviews") == 0


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("console-limit-requests-e2e"))


@pytest.mark.e2e
class TestDecidingInTheBrowser:
    def test_a_reviewer_approves_a_limit_request_on_the_limits_page(
        self, browser: BrowserContext, served: Served
    ) -> None:
        body = {"customer_id": served.customer_id, "amount": "7500.00", "reason": "Seasonal orders."}
        asked_for = httpx.post(served.base_url + "/v1/limit-requests", json=body, headers=auth(E2E_ALL_KEY), timeout=10)
        assert asked_for.status_code == 201, asked_for.text
        request_id = asked_for.json()["id"]
        page = browser.new_page()
        page.goto(served.base_url + "/console/limits")
        page.get_by_label("API key").fill(E2E_SECOND_REVIEWER)  # the all-scopes key asked: another decides
        page.get_by_role("button", name="Sign in").click()
        form = page.get_by_role("form", name=f"Decide the limit request of {served.customer_id}")
        expect(form).to_be_visible()
        form.get_by_label("approve").check()
        form.get_by_label("Reason (required)").fill("Pays within terms; the season is known.")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "20-limit-request-laptop.png"), full_page=True)
        form.get_by_role("button", name="Record").click()
        expect(page.get_by_role("status")).to_contain_text(f"limit request {request_id} is recorded")
        expect(page.get_by_role("form", name=f"Decide the limit request of {served.customer_id}")).to_have_count(0)
        decided = httpx.get(f"{served.base_url}/v1/limit-requests/{request_id}", headers=auth(E2E_ALL_KEY), timeout=10)
        assert decided.json()["status"] == "approved"
