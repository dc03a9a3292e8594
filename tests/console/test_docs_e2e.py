"""/docs renders in headless Chromium with every request to another origin cut off."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Route, expect, sync_playwright

from tests.console.e2e import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, LAPTOP, Served, serve

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    yield from serve(tmp_path_factory.mktemp("docs-e2e"))


@pytest.fixture
def offline(tmp_path: Path) -> Iterator[tuple[BrowserContext, list[str]]]:
    """A browser whose every request off 127.0.0.1 is aborted; the aborted addresses are collected."""
    refused: list[str] = []

    def route(route: Route) -> None:
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            refused.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, viewport=LAPTOP
        )
        context.route("**/*", route)
        try:
            yield context, refused
        finally:
            context.close()


def test_swagger_ui_renders_the_api_without_internet(offline: tuple[BrowserContext, list[str]], served: Served) -> None:
    context, refused = offline
    page = context.new_page()
    page.goto(served.base_url + "/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("creditgate")
    expect(page.locator(".opblock-summary-path", has_text="/v1/decisions").first).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "docs-offline.png"))
    assert refused == []


def test_redoc_renders_the_api_without_internet(offline: tuple[BrowserContext, list[str]], served: Served) -> None:
    context, refused = offline
    page = context.new_page()
    page.goto(served.base_url + "/redoc")
    expect(page.get_by_role("heading", name="creditgate", exact=False).first).to_be_visible()
    expect(page.locator("redoc h2").first).to_be_visible()
    # ReDoc's bundle links its "powered by" logo from its vendor's site: an image that stays blank offline.
    assert [url for url in refused if not url.endswith("/redoc/logo-mini.svg")] == []
