"""GET /v1/portfolio's per-customer figures: available credit, utilisation, overdue, concentration, risk, DSO."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import httpx

from tests.conftest import auth
from tests.erp import put_customer, put_invoice


async def portfolio(client: httpx.AsyncClient) -> dict:  # type: ignore[type-arg]
    response = await client.get("/v1/portfolio", headers=auth())
    assert response.status_code == 200, response.text
    return response.json()


def manual(amount: str) -> dict[str, object]:
    return {"limit_currency": "EUR", "manual_limit": {"amount": amount, "reason": "set for the test"}}


class TestPortfolioFigures:
    async def test_available_credit_utilisation_and_overdue(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-1", **manual("1000.00"))
        await put_invoice(client, "I-1", "400.00", customer_id="C-1")  # 40% used, not due
        await put_customer(client, "C-2", **manual("1000.00"))
        await put_invoice(client, "I-2", "1200.00", customer_id="C-2", due_in_days=-10)  # over the limit, overdue
        await put_customer(client, "C-3")
        await put_invoice(client, "I-3", "300.00", customer_id="C-3")  # no limit
        await put_customer(client, "C-4", credit_block={"reason": "disputes"}, **manual("5000.00"))
        await put_invoice(client, "I-4", "100.00", customer_id="C-4")  # blocked: no credit available

        found = await portfolio(client)
        assert found["available_credit"] == "600.00"  # C-1 only: C-2 is over, C-3 has no limit, C-4 is blocked
        bands = {band["band"]: (band["customers"], band["exposure"]) for band in found["utilisation"]}
        assert bands == {
            "up to 50%": (2, "500.00"),
            "50-80%": (0, "0.00"),
            "80-100%": (0, "0.00"),
            "over 100%": (1, "1200.00"),
            "no limit": (1, "300.00"),
        }
        assert [(c["customer_id"], c["overdue"]) for c in found["customers_with_overdue"]] == [("C-2", "1200.00")]
        assert found["customers_with_overdue"][0]["oldest_overdue_days"] == 10

    async def test_concentration_and_risk_classes(self, client: httpx.AsyncClient) -> None:
        for number in range(12):
            await put_customer(client, f"C-{number:02}")
            await put_invoice(client, f"I-{number}", f"{100 * (number + 1)}.00", customer_id=f"C-{number:02}")
        found = await portfolio(client)
        top = found["top_exposures"]
        assert [t["customer_id"] for t in top] == [f"C-{number:02}" for number in range(11, 1, -1)]
        total = Decimal(found["total_exposure"])
        assert total == Decimal("7800.00")
        assert Decimal(found["top_exposures_share"]) == (Decimal(7500) / total).quantize(Decimal("0.0001"))
        assert found["exposure_by_risk_class"] == {"unrated": "7800.00"}  # no decision rated any of them

    async def test_the_dso_trend_ends_today_with_the_current_dso(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        await put_invoice(client, "I-1", "900.00", due_in_days=20)
        found = await portfolio(client)
        trend = found["dso_trend"]
        assert len(trend) == 6
        assert trend[-1] == {"as_of": str(date.today()), "dso_days": found["dso_days"]}
        assert [point["as_of"] for point in trend] == sorted(point["as_of"] for point in trend)
        assert date.fromisoformat(trend[-2]["as_of"]) < date.today().replace(day=1)
        assert date.fromisoformat(trend[-2]["as_of"]) >= date.today().replace(day=1) - timedelta(days=1)
