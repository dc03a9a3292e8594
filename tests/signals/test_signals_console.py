"""Warnings in the console: the list by exposure at risk, the credit file's section, acknowledging with a note."""

from __future__ import annotations

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.arrangements.helpers import agreed_days_ago, create, plan
from tests.conftest import auth
from tests.console.console import csrf_token, sign_in
from tests.erp import put_customer, put_invoice
from tests.signals.test_signals_api import activate, open_signals


async def broken_promise(client: httpx.AsyncClient, engine: AsyncEngine, customer_id: str, amount: str) -> None:
    await put_customer(client, customer_id)
    await put_invoice(client, "INV-1", amount, customer_id=customer_id, due_in_days=-60)
    body = plan((1, amount), kind="promise")
    arrangement = (await create(client, body, customer_id=customer_id)).json()
    await agreed_days_ago(engine, arrangement["id"], 10)
    await put_invoice(client, "INV-2", "10.00", customer_id=customer_id, due_in_days=5)


class TestWarningsPage:
    async def test_lists_open_signals_most_exposed_first(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await activate(client, behaviour=False)
        await broken_promise(client, engine, "C-SMALL", "500.00")
        await broken_promise(client, engine, "C-LARGE", "9000.00")
        api = await open_signals(client)
        assert [s["customer_id"] for s in api] == ["C-LARGE", "C-SMALL"]
        await sign_in(client)
        page = await client.get("/console/signals")
        assert page.status_code == 200
        assert page.text.index("C-LARGE") < page.text.index("C-SMALL")
        assert "Broken arrangement" in page.text

    async def test_acknowledged_from_the_credit_file_with_a_note(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await activate(client, behaviour=False)
        await broken_promise(client, engine, "C-42", "2000.00")
        (signal,) = await open_signals(client)
        await sign_in(client)
        page = await client.get("/console/customers/C-42")
        assert "Warnings and arrangements" in page.text
        assert "promise to pay" in page.text
        path = f"/console/customers/C-42/signals/{signal['id']}/acknowledge"
        blank = await client.post(path, data={"csrf_token": csrf_token(page), "note": "  "})
        assert blank.status_code == 422
        assert await open_signals(client) != []
        done = await client.post(path, data={"csrf_token": csrf_token(page), "note": "Called: new plan next week."})
        assert done.status_code == 303
        assert await open_signals(client) == []
        notes = (await client.get("/v1/customers/C-42/notes", headers=auth())).json()["notes"]
        assert [n["text"] for n in notes] == ["Called: new plan next week."]
