"""In headless Chromium: the portfolio page, each credit action, notes and the CSV export; phones at 375 px."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.console.e2e import ALL_KEY, ARTIFACTS, LAPTOP, Served, serve
from tests.console.test_console_e2e import shoot, sign_in

pytestmark = pytest.mark.e2e
NARROW = {"width": 375, "height": 812}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("console-actions-e2e"))


def fits_375(page: Page, name: str) -> None:
    """At 375 px the page scrolls only downwards; the screenshot is kept."""
    page.set_viewport_size(NARROW)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}-375.png"), full_page=True)
    widths = page.evaluate("() => [document.scrollingElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{name} scrolls sideways at 375 px: {widths}"
    page.set_viewport_size(LAPTOP)


def credit_file(page: Page, served: Served) -> None:
    sign_in(page, served, ALL_KEY, f"/console/customers/{served.customer_id}")
    expect(page.get_by_role("heading", name=f"Credit file: {served.customer_id}")).to_be_visible()


class TestPortfolio:
    def test_the_portfolio_page_draws_each_figure(self, browser: BrowserContext, served: Served) -> None:
        page = browser.new_page()
        sign_in(page, served, ALL_KEY)
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Portfolio").click()
        expect(page.get_by_role("heading", name="Portfolio", level=1)).to_be_visible()
        for name in (
            "Exposure and available credit",
            "DSO trend",
            "The 10 largest exposures",
            "Exposure by risk class",
        ):
            expect(page.get_by_role("img", name=name)).to_be_visible()
        expect(page.locator("svg.chart")).to_have_count(8)
        expect(page.get_by_role("region", name="Concentration: the largest exposures as a table")).to_contain_text(
            served.customer_id
        )
        shoot(page, "20-portfolio")
        fits_375(page, "20-portfolio")


class TestCreditActions:
    def test_sets_and_clears_a_manual_limit(self, browser: BrowserContext, served: Served) -> None:
        page = browser.new_page()
        credit_file(page, served)
        page.get_by_label("Limit amount").fill("15,000")
        page.get_by_label("Reason for the limit").fill("bank guarantee until March")
        page.get_by_role("button", name="Set manual limit").click()
        expect(page.locator("#limit-amount-error")).to_be_visible()  # named, and nothing stored
        page.get_by_label("Limit amount").fill("15000.00")
        page.get_by_label("Reason for the limit").fill("bank guarantee until March")
        page.get_by_role("button", name="Set manual limit").click()
        expect(page.get_by_role("status").first).to_contain_text("The manual limit is set.")
        expect(page.get_by_text("set by hand: bank guarantee until March")).to_be_visible()
        expect(page.locator("dl.pairs").first).to_contain_text("15,000.00")
        shoot(page, "21-manual-limit")
        fits_375(page, "21-manual-limit")

        page.get_by_label("Reason for clearing").fill("guarantee returned")
        page.get_by_role("button", name="Clear manual limit").click()
        expect(page.get_by_role("status").first).to_contain_text("The manual limit is cleared.")
        expect(page.get_by_role("button", name="Clear manual limit")).to_have_count(0)

    def test_blocks_and_unblocks(self, browser: BrowserContext, served: Served) -> None:
        page = browser.new_page()
        credit_file(page, served)
        page.get_by_label("Reason for the block").fill("disputed invoices")
        page.get_by_role("button", name="Block customer").click()
        expect(page.get_by_text("Blocked for credit: disputed invoices.")).to_be_visible()
        shoot(page, "22-blocked")
        page.get_by_label("Reason for unblocking").fill("dispute settled")
        page.get_by_role("button", name="Unblock").click()
        expect(page.get_by_role("status").first).to_contain_text("The credit block is lifted.")
        expect(page.get_by_text("Blocked for credit")).to_have_count(0)

    def test_notes_on_the_customer_and_on_a_review_case(self, browser: BrowserContext, served: Served) -> None:
        page = browser.new_page()
        credit_file(page, served)
        page.get_by_label("New note").fill("Called the buyer.\nPays on Friday.")
        page.get_by_role("button", name="Add note").click()
        expect(page.locator("ol.notes")).to_contain_text("Pays on Friday.")
        fits_375(page, "23-notes")

        with httpx.Client(base_url=served.base_url, headers={"Authorization": f"Bearer {ALL_KEY}"}) as api:
            case = api.get("/v1/decisions", params={"outcome": "review", "limit": 1}).json()["items"][0]
        page.goto(f"{served.base_url}/console/decisions/{case['id']}")
        expect(page.get_by_role("heading", name="Notes on this case")).to_be_visible()
        page.get_by_label("New note").fill("Asked for the latest accounts.")
        page.get_by_role("button", name="Add note").click()
        expect(page).to_have_url(re.compile(f"/console/decisions/{case['id']}"))
        expect(page.locator("ol.notes")).to_contain_text("Asked for the latest accounts.")
        shoot(page, "24-case-note")

    def test_exports_the_filtered_history(self, browser: BrowserContext, served: Served) -> None:
        page = browser.new_page()
        sign_in(page, served, ALL_KEY)
        page.get_by_label("Customer id").fill(served.customer_id)
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile("customer_id="))
        with page.expect_download() as download:
            page.get_by_role("link", name="Export CSV").click()
        lines = Path(download.value.path()).read_text().strip().splitlines()
        assert lines[0].startswith("id,decided_at,")
        assert len(lines) == 13  # the header and the customer's 12 decisions
        assert all(f",{served.customer_id}," in line for line in lines[1:])
        fits_375(page, "25-history")
