"""The console in headless Chromium: finding a customer by name or registration number, and a decision a review
settled, shown with its final outcome and review history."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import BrowserContext, expect

from tests.console.e2e import ALL_KEY, READ_KEY, SECOND_REVIEWER, Served, serve
from tests.console.test_console_e2e import shoot, sign_in

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("console-e2e-truth"))


def _settled(served: Served) -> str:
    """A decision sent to review (the provider knows no such company) that a reviewer settled with a reject."""
    customer_id = f"C-CASE-{uuid.uuid4().hex[:6]}"
    order = {
        "order": {"id": f"SO-{customer_id}", "amount": "1000.00", "currency": "EUR"},
        "customer": {
            "id": customer_id,
            "name": "Viskraam Noordzee",
            "country": "NL",
            "registration_number": "00000000",
        },
    }
    with httpx.Client(base_url=served.base_url, timeout=10) as client:
        decided = client.post("/v1/decisions", json=order, headers={"Authorization": f"Bearer {ALL_KEY}"})
        assert decided.status_code == 201, decided.text
        decision = decided.json()
        assert decision["outcome"] == "review"
        # Another key than the one that asked for the decision reviews it.
        reviewed = client.post(
            f"/v1/decisions/{decision['id']}/review",
            json={"outcome": "reject", "reason": "No trade references could be had."},
            headers={"Authorization": f"Bearer {SECOND_REVIEWER}"},
        )
        assert reviewed.status_code == 201, reviewed.text
    return str(decision["id"])


class TestFindingACustomer:
    def test_searches_by_name_and_by_registration_number(self, browser: BrowserContext, served: Served) -> None:
        page = browser.new_page()
        sign_in(page, served, READ_KEY, "/console/customers")
        expect(page.get_by_role("heading", name="Credit files")).to_be_visible()
        page.get_by_label("Name, customer id or registration number").fill("jansen")
        page.get_by_role("button", name="Search").click()
        expect(page).to_have_url(re.compile(r"q=jansen"))
        found = page.get_by_role("region", name=re.compile("Customers found"))
        expect(found.get_by_role("link", name="Bakkerij Jansen B.V.").first).to_be_visible()
        shoot(page, "11-customer-search")
        page.get_by_label("Name, customer id or registration number").fill("1234 5670")
        page.get_by_role("button", name="Search").click()
        expect(found.get_by_role("link", name="Bakkerij Jansen B.V.").first).to_be_visible()
        found.get_by_role("link", name="Bakkerij Jansen B.V.").first.click()
        expect(page.get_by_role("heading", name=re.compile(r"^Credit file: "))).to_be_visible()
        expect(page.get_by_role("list", name="Why these figures")).to_be_visible()


class TestASettledReview:
    def test_shows_the_final_outcome_and_the_review_history(self, browser: BrowserContext, served: Served) -> None:
        decision_id = _settled(served)
        page = browser.new_page()
        sign_in(page, served, ALL_KEY, f"/console/decisions/{decision_id}")
        expect(page.get_by_text("Final outcome:")).to_be_visible()
        expect(page.locator("p.settled")).to_contain_text("Rejected")
        expect(page.get_by_role("heading", name="Review history")).to_be_visible()
        expect(page.locator("ol.reviews li")).to_have_count(1)
        expect(page.get_by_role("link", name="Review in the queue")).to_have_count(0)
        shoot(page, "12-settled-review")
