"""The console shows insured and uninsured exposure: on the credit file with its cover, and on the portfolio."""

from __future__ import annotations

import httpx

from tests.console.console import sign_in
from tests.erp import put_customer, put_invoice
from tests.insurance.helpers import put_cover


async def test_the_credit_file_and_the_portfolio_show_the_insured_part(client: httpx.AsyncClient) -> None:
    await put_customer(client, "C-42")
    await put_cover(client, amount="1000.00", coverage_percentage="90")
    await put_invoice(client, "I-1", "1500.00")
    await sign_in(client)
    file = await client.get("/console/customers/C-42")
    portfolio = await client.get("/console/portfolio")
    assert file.status_code == 200
    assert "Insured by Atradius" in file.text
    assert "900.00" in file.text  # min(1,000.00, 1,500.00) × 90%
    assert "Own risk (uninsured)" in file.text
    assert "600.00" in file.text
    assert "Insured by covers" in portfolio.text
    assert "Own risk (uninsured)" in portfolio.text
