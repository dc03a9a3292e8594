"""What a browser does in the in-process console tests: sign in, read a page's CSRF token, send forms."""

from __future__ import annotations

import re

import httpx

from tests.conftest import ALL_KEY

TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_token(page: httpx.Response) -> str:
    found = TOKEN.search(page.text)
    assert found is not None, "the page has no CSRF token"
    return found.group(1)


async def sign_in(client: httpx.AsyncClient, key: str = ALL_KEY) -> httpx.Response:
    form = await client.get("/console/sign-in")
    response = await client.post("/console/sign-in", data={"api_key": key, "csrf_token": csrf_token(form)})
    assert response.status_code == 303, response.text
    return response


async def decide(client: httpx.AsyncClient, count: int = 3, **fields: str) -> list[dict[str, object]]:
    from tests.conftest import auth, order_body

    made = []
    # An order id is one customer's: another customer's orders get ids of their own.
    prefix = f"SO-{fields['customer_id']}-" if "customer_id" in fields else "SO-"
    for number in range(count):
        body = order_body(amount=f"{1000 + number}.00", order_id=f"{prefix}{number}", **fields)
        response = await client.post("/v1/decisions", json=body, headers=auth())
        assert response.status_code == 201, response.text
        made.append(response.json())
    return made
