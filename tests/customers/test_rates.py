"""Exchange rates: the ERP's push, and the conversions derived from it."""

from __future__ import annotations

from decimal import Decimal

import httpx

from app.customers.rates import RateTable, convert_sums
from tests.conftest import auth, key_for


class TestRateTable:
    def test_derives_inverse_and_cross_rates(self) -> None:
        table = RateTable.of([("EUR", "USD", "1.25"), ("EUR", "CHF", "0.5")])
        assert table.rate("USD", "EUR") == Decimal("1.25")
        assert table.rate("EUR", "USD") == Decimal("0.8")
        assert table.rate("CHF", "USD") == Decimal("0.4")  # 1 USD = 0.8 EUR = 0.4 CHF
        assert table.rate("GBP", "EUR") is None

    def test_converts_sums_and_reports_currencies_without_a_rate(self) -> None:
        table = RateTable.of([("EUR", "USD", "1.25")])
        converted = convert_sums({"EUR": 10000, "USD": 12500, "GBP": 100}, "EUR", table)
        assert converted.amount == Decimal("200.00")
        assert converted.unpriced == frozenset({"GBP"})
        assert converted.used == {"USD": Decimal("0.8")}


class TestRatesApi:
    async def test_put_stores_and_get_lists(self, client: httpx.AsyncClient) -> None:
        body = {"base": "EUR", "rates": {"USD": "1.0850", "CHF": "0.9400"}, "as_of": "2026-11-23"}
        response = await client.put("/v1/rates", json=body, headers=auth(key_for("receivables")))
        assert response.status_code == 200, response.text
        listed = (await client.get("/v1/rates", headers=auth(key_for("read")))).json()["rates"]
        assert [(rate["base"], rate["quote"], rate["rate"]) for rate in listed] == [
            ("EUR", "CHF", "0.9400"),
            ("EUR", "USD", "1.0850"),
        ]

    async def test_names_a_bad_rate(self, client: httpx.AsyncClient) -> None:
        body = {"base": "EUR", "rates": {"USD": "-1"}}
        response = await client.put("/v1/rates", json=body, headers=auth())
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == "rates"
        assert "USD" in response.json()["errors"][0]["message"]
