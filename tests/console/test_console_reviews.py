"""The review pages: the queue, the forms (reason required, four eyes), in process and in headless Chromium."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.conftest import ALL_KEY, auth, key_for, order_body
from tests.console.console import csrf_token, sign_in
from tests.console.e2e import ARTIFACTS, LAPTOP, PHONE, Served, serve
from tests.console.e2e import SECOND_REVIEWER as E2E_SECOND_REVIEWER

# Class E (registration number ending in 8) above the segment's review threshold: the policy sends it to review.
REVIEW_ORDER = {"amount": "9000.00", "registration_number": "12345678"}
# Large enough that the policy asks for a second reviewer (four eyes): adjust to the policy's threshold.
FOUR_EYES_ORDER = {"amount": "120000.00", "registration_number": "12345678"}


async def under_review(
    client: httpx.AsyncClient, order_id: str = "SO-R1", key: str = key_for("decide"), **order: str
) -> str:
    """A case asked for by the checkout's key (`key`): the console's reviewers are other keys."""
    body = order_body(order_id=order_id, **(order or REVIEW_ORDER))
    response = await client.post("/v1/decisions", json=body, headers=auth(key))
    assert response.status_code == 201, response.text
    assert response.json()["outcome"] == "review", response.json()
    return str(response.json()["id"])


async def post_review(client: httpx.AsyncClient, decision_id: str, **fields: str) -> httpx.Response:
    page = await client.get("/console/reviews")
    return await client.post(f"/console/reviews/{decision_id}", data={"csrf_token": csrf_token(page), **fields})


class TestReviewQueuePage:
    async def test_shows_an_open_case_with_its_form(self, client: httpx.AsyncClient) -> None:
        decision_id = await under_review(client)
        await sign_in(client, key_for("review"))
        page = await client.get("/console/reviews")
        assert page.status_code == 200
        assert f'action="/console/reviews/{decision_id}"' in page.text
        assert "awaiting the first review" in page.text

    async def test_a_read_key_has_no_review_queue(self, client: httpx.AsyncClient) -> None:
        await under_review(client)
        await sign_in(client, key_for("read"))
        assert (await client.get("/console/reviews")).status_code == 403
        page = await client.get("/console/decisions")
        assert 'href="/console/reviews"' not in page.text


class TestReviewForm:
    async def test_a_review_without_a_reason_is_refused_and_nothing_is_recorded(
        self, client: httpx.AsyncClient
    ) -> None:
        decision_id = await under_review(client)
        await sign_in(client)
        response = await post_review(client, decision_id, outcome="accept", reason="  ")
        assert response.status_code == 422
        assert "A reason is required." in response.text
        assert "awaiting the first review" in (await client.get("/console/reviews")).text

    async def test_a_bad_csrf_token_is_refused(self, client: httpx.AsyncClient) -> None:
        decision_id = await under_review(client)
        await sign_in(client)
        response = await client.post(
            f"/console/reviews/{decision_id}", data={"csrf_token": "forged", "outcome": "accept", "reason": "ok"}
        )
        assert response.status_code == 403
        assert f'action="/console/reviews/{decision_id}"' in (await client.get("/console/reviews")).text

    async def test_a_recorded_review_closes_the_case(self, client: httpx.AsyncClient) -> None:
        decision_id = await under_review(client)
        await sign_in(client)
        response = await post_review(client, decision_id, outcome="reject", reason="Insolvency risk too high")
        assert response.status_code == 303
        page = await client.get(response.headers["location"])
        assert "is recorded" in page.text
        assert f'action="/console/reviews/{decision_id}"' not in page.text

    async def test_a_prepayment_review_names_the_part_on_credit(self, client: httpx.AsyncClient) -> None:
        decision_id = await under_review(client)
        await sign_in(client)
        response = await post_review(
            client, decision_id, outcome="prepayment", approved_credit_amount="2000.00", reason="Half up front"
        )
        assert response.status_code == 303

    async def test_four_eyes_needs_another_reviewer(self, client: httpx.AsyncClient) -> None:
        decision_id = await under_review(client, "SO-R4", **FOUR_EYES_ORDER)
        await sign_in(client, ALL_KEY)
        first = await post_review(client, decision_id, outcome="accept", reason="Long-standing customer")
        assert first.status_code == 303
        page = await client.get("/console/reviews")
        assert "awaiting the second review" in page.text
        assert "another reviewer takes the second" in page.text  # no form for the first reviewer
        again = await post_review(client, decision_id, outcome="accept", reason="Me again")
        assert again.status_code == 409
        assert "Four eyes" in html.unescape(again.text)
        await sign_in(client, key_for("review"))
        second = await post_review(client, decision_id, outcome="accept", reason="Agreed")
        assert second.status_code == 303

    async def test_the_key_that_asked_for_a_decision_gets_no_form_and_is_refused_in_words(
        self, client: httpx.AsyncClient
    ) -> None:
        decision_id = await under_review(client, "SO-R6", key=ALL_KEY)
        await sign_in(client, ALL_KEY)
        page = await client.get("/console/reviews")
        assert f'action="/console/reviews/{decision_id}"' not in page.text
        assert "This key asked for the decision" in page.text
        refused = await post_review(client, decision_id, outcome="accept", reason="My own order")
        assert refused.status_code == 403
        assert "another reviewer has to review it" in refused.text
        await sign_in(client, key_for("review"))
        assert (await post_review(client, decision_id, outcome="accept", reason="Checked")).status_code == 303

    async def test_a_settled_case_is_refused_in_words(self, client: httpx.AsyncClient) -> None:
        decision_id = await under_review(client, "SO-R5")
        await sign_in(client)
        assert (await post_review(client, decision_id, outcome="reject", reason="Too risky")).status_code == 303
        refused = await post_review(client, decision_id, outcome="accept", reason="Looks fine")
        assert refused.status_code == 409
        assert "no longer waiting for a review" in refused.text


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("console-review-e2e"))


@pytest.mark.e2e
class TestReviewInTheBrowser:
    def test_review_flow_a_credit_manager_reviews_a_case(self, browser: BrowserContext, served: Served) -> None:
        page = browser.new_page()
        page.goto(served.base_url + "/console/reviews")
        # The cases were asked for with the all-scopes key: another key reviews them.
        page.get_by_label("API key").fill(E2E_SECOND_REVIEWER)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "09-review-queue-laptop.png"), full_page=True)
        page.set_viewport_size(PHONE)
        page.screenshot(path=str(ARTIFACTS / "09-review-queue-phone.png"), full_page=True)
        page.set_viewport_size(LAPTOP)

        case = page.locator("li.case").first
        order = case.get_by_role("heading").inner_text()
        # The reason is required: the browser keeps the form until one is given.
        case.get_by_label("Rejected").check()
        case.get_by_role("button", name="Record review").click()
        expect(page).to_have_url(re.compile(r"/console/reviews$"))
        case.get_by_label("Reason (required)").fill("High risk class and a large first order")
        case.get_by_role("button", name="Record review").click()
        expect(page.get_by_role("status")).to_contain_text("is recorded")
        expect(page.locator("li.case h2", has_text=order)).to_have_count(0)
        page.screenshot(path=str(ARTIFACTS / "10-review-recorded-laptop.png"), full_page=True)
