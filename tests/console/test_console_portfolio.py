"""The console's portfolio page: the API's portfolio figures, each as an inline SVG chart with its table."""

from __future__ import annotations

import httpx

from tests.conftest import auth, key_for
from tests.console.console import sign_in
from tests.erp import put_customer, put_invoice


async def test_shows_each_figure_as_a_chart_and_a_table(client: httpx.AsyncClient) -> None:
    await put_customer(client, "C-1", limit_currency="EUR", manual_limit={"amount": "1000.00", "reason": "test"})
    await put_invoice(client, "I-1", "1500.00", customer_id="C-1", due_in_days=-40)
    await put_customer(client, "C-2", credit_block={"reason": "disputes"})
    await put_invoice(client, "I-2", "250.00", customer_id="C-2")
    api = (await client.get("/v1/portfolio", headers=auth())).json()
    await sign_in(client)
    page = await client.get("/console/portfolio")
    assert page.status_code == 200
    for title in (
        "Exposure and available credit",
        "Overdue receivables by days past due",
        "DSO trend",
        "Customers by share of their limit used",
        "The 10 largest exposures",
        "Exposure by risk class",
        "Customers over their limit, by the amount above it",
        "Customers with overdue invoices",
    ):
        assert f">{title}</title>" in page.text, title
    assert page.text.count('<svg class="chart"') == 8
    assert "1,750.00" in page.text  # the API's total exposure, the same figure
    assert api["total_exposure"] == "1750.00"
    assert "Blocked customers (1)" in page.text
    assert "Customers over their limit (1)" in page.text
    assert 'href="/console/portfolio"' in page.text  # in the navigation


async def test_an_empty_portfolio_draws_empty_charts(client: httpx.AsyncClient) -> None:
    await sign_in(client)
    page = await client.get("/console/portfolio")
    assert page.status_code == 200
    assert "No customer is over its limit." in page.text


async def test_needs_the_read_scope(client: httpx.AsyncClient) -> None:
    await sign_in(client, key_for("review"))
    assert (await client.get("/console/portfolio")).status_code == 403
