"""The console in headless Chromium: history, a decision, the credit file, reviews; each page fits a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, expect

from tests.console.e2e import (
    ALL_KEY,
    ARTIFACTS,
    LAPTOP,
    PHONE,
    READ_KEY,
    Served,
    serve,
)

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("console-e2e"))


def shoot(page: Page, name: str) -> None:
    """A laptop-width and a phone-width screenshot of the page as it stands; the phone one must fit its width."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size(LAPTOP)
    page.screenshot(path=str(ARTIFACTS / f"{name}-laptop.png"), full_page=True)
    page.set_viewport_size(PHONE)
    page.screenshot(path=str(ARTIFACTS / f"{name}-phone.png"), full_page=True)
    assert_fits_the_phone(page, name)
    page.set_viewport_size(LAPTOP)


# The elements whose right edge passes the screen, outside any sideways scroller (a table in .table-wrap may
# scroll on its own): named in the failure so that the CSS to fix is findable.
WIDER_THAN_THE_SCREEN = """() => {
    const root = document.documentElement;
    const scrolls = (element) => getComputedStyle(element).overflowX !== "visible";
    const inScroller = (element) => {
        for (let up = element.parentElement; up && up !== document.body; up = up.parentElement) {
            if (scrolls(up)) return true;
        }
        return false;
    };
    const wide = [...document.body.querySelectorAll("*")]
        .filter((element) => element.getBoundingClientRect().right > root.clientWidth + 0.5 && !inScroller(element))
        .slice(0, 5)
        .map((element) => element.tagName.toLowerCase() + (element.className ? "." + element.className : ""));
    return {scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, innerWidth: window.innerWidth, wide};
}"""


def assert_fits_the_phone(page: Page, name: str) -> None:
    """At phone width the page scrolls only downwards: nothing makes the document wider than the screen."""
    found = page.evaluate(WIDER_THAN_THE_SCREEN)
    assert found["innerWidth"] == PHONE["width"]
    assert found["scrollWidth"] <= found["clientWidth"], f"{name} scrolls sideways on a phone: {found}"


def sign_in(page: Page, served: Served, key: str, start: str = "/console/decisions") -> None:
    page.goto(served.base_url + start)
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    page.get_by_label("API key").fill(key)
    page.get_by_role("button", name="Sign in").click()


class TestCreditManagerFlow:
    def test_signs_in_filters_history_opens_a_decision_and_sees_the_credit_file(
        self, browser: BrowserContext, served: Served
    ) -> None:
        page = browser.new_page()
        page.goto(served.base_url + "/console/decisions")
        shoot(page, "01-sign-in")
        sign_in(page, served, ALL_KEY)
        expect(page.get_by_role("heading", name="Decisions", level=1)).to_be_visible()
        shoot(page, "02-history")

        page.get_by_label("Customer id").fill(served.customer_id)
        page.get_by_label("Outcome", exact=True).select_option("accept")
        page.get_by_role("button", name="Filter").click()
        expect(page).to_have_url(re.compile(r"outcome=accept"))
        rows = page.locator("table.data tbody tr")
        expect(rows.first).to_be_visible()
        for row in rows.all():
            expect(row).to_contain_text("Accepted on credit")
            expect(row).to_contain_text(served.customer_id)
        shoot(page, "03-history-filtered")

        rows.first.get_by_role("link").first.click()
        expect(page.get_by_role("heading", name=re.compile(r"^Order SO-"))).to_be_visible()
        expect(page.get_by_role("heading", name="Why")).to_be_visible()
        expect(page.get_by_role("heading", name="Exposure at the time")).to_be_visible()
        shoot(page, "04-decision")

        page.get_by_role("main").get_by_role("link", name=served.customer_id, exact=True).first.click()
        expect(page.get_by_role("heading", name=f"Credit file: {served.customer_id}")).to_be_visible()
        expect(page.get_by_role("img", name="Exposure over time")).to_be_visible()
        expect(page.get_by_role("img", name="Ageing of open receivables")).to_be_visible()
        expect(page.locator("svg.chart rect.bar")).to_have_count(5)  # one bar per ageing bucket
        expect(page.locator("table.compact")).to_contain_text("4,200.00")  # the 31-60 days bucket
        shoot(page, "05-credit-file")

        # A credit manager with the review scope goes on to the cases waiting for a review.
        page.get_by_role("navigation", name="Main").get_by_role("link", name="Reviews").click()
        expect(page.get_by_role("heading", name="Review queue")).to_be_visible()
        expect(page.locator("li.case").first).to_be_visible()
        shoot(page, "05-review-queue")

    def test_the_keyboard_reaches_the_skip_link_and_the_navigation(
        self, browser: BrowserContext, served: Served
    ) -> None:
        page = browser.new_page()
        sign_in(page, served, READ_KEY)
        # A Tab pressed while the sign-in still redirects lands on the page being left: wait for the history.
        expect(page.get_by_role("heading", name="Decisions", level=1)).to_be_visible()
        page.keyboard.press("Tab")
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Tab")
        page.keyboard.press("Tab")
        expect(page.get_by_role("navigation", name="Main").get_by_role("link", name="Decisions")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page).to_have_url(re.compile(r"/console/decisions$"))


class TestPolicyAndSpendPages:
    def test_an_admin_replays_history_through_a_policy(self, browser: BrowserContext, served: Served) -> None:
        page = browser.new_page()
        sign_in(page, served, ALL_KEY, "/console/policies")
        expect(page.get_by_role("heading", name="Credit policy versions")).to_be_visible()
        shoot(page, "06-policies")
        page.locator("table.data tbody a").first.click()
        page.get_by_role("button", name="Replay").click()
        expect(page.get_by_role("heading", name="Replay result")).to_be_visible()
        expect(page.locator("table.matrix tbody tr")).to_have_count(4)
        shoot(page, "07-what-if")

    def test_a_read_key_sees_spend_but_no_what_if(self, browser: BrowserContext, served: Served) -> None:
        page = browser.new_page()
        sign_in(page, served, READ_KEY, "/console/spend")
        expect(page.get_by_role("heading", name="Provider spend by day")).to_be_visible()
        shoot(page, "08-spend")
        page.get_by_role("link", name="Policies").click()
        page.locator("table.data tbody a").first.click()
        expect(page.get_by_role("button", name="Replay")).to_have_count(0)
