"""/docs and /redoc load every asset from the app itself: the pages work without internet."""

from __future__ import annotations

import re

import httpx


async def _assets(client: httpx.AsyncClient, page: str) -> list[str]:
    response = await client.get(page)
    assert response.status_code == 200
    return re.findall(r"""(?:src|href)=["']([^"']+)["']""", response.text) + re.findall(
        r"""url:\s*['"]([^'"]+)['"]""", response.text
    )


async def test_swagger_ui_loads_nothing_from_another_origin(client: httpx.AsyncClient) -> None:
    assets = await _assets(client, "/docs")
    assert assets, "the page names its script and stylesheet"
    assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets), assets
    for asset in assets:
        served = await client.get(asset)
        assert served.status_code == 200, asset
        assert served.content, asset


async def test_redoc_loads_nothing_from_another_origin(client: httpx.AsyncClient) -> None:
    assets = await _assets(client, "/redoc")
    assert any(asset.endswith(".js") for asset in assets), assets
    assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets), assets
    for asset in assets:
        assert (await client.get(asset)).status_code == 200, asset
