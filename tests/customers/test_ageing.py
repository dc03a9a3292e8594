"""The portfolio's overdue ageing and the console's ageing chart put an invoice in the same bucket."""

from __future__ import annotations

import httpx

from tests.conftest import auth
from tests.console.console import sign_in
from tests.erp import put_customer, put_invoice

# Days past due at each bucket's edges, and an amount each that shows which invoices a bucket summed.
EDGES = {0: "1.00", 1: "2.00", 30: "4.00", 31: "8.00", 60: "16.00", 61: "32.00", 90: "64.00", 91: "128.00"}


async def invoices_at_the_edges(client: httpx.AsyncClient) -> None:
    await put_customer(client)
    for days, amount in EDGES.items():
        await put_invoice(client, f"INV-{days}", amount, due_in_days=-days)


class TestAgeingBuckets:
    async def test_the_portfolio_ages_overdue_invoices_by_days_past_due(self, client: httpx.AsyncClient) -> None:
        await invoices_at_the_edges(client)
        portfolio = (await client.get("/v1/portfolio", headers=auth())).json()
        assert portfolio["overdue_by_age"] == {"0-30": "6.00", "31-60": "24.00", "61-90": "96.00", "90+": "128.00"}

    async def test_the_console_uses_the_same_edges(self, client: httpx.AsyncClient) -> None:
        await invoices_at_the_edges(client)
        await sign_in(client)
        page = await client.get("/console/customers/C-42")
        assert page.status_code == 200
        for described in ("not due: 1.00", "1-30: 6.00", "31-60: 24.00", "61-90: 96.00", "90+: 128.00"):
            assert f"{described} EUR" in page.text
