"""Input at the edges of its type: a 4xx naming the field, never a 500, and nothing stored."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import ALL_KEY, auth, order_body, table_counts
from tests.erp import put_customer, put_invoice

PAYMENTS = "/v1/customers/C-42/invoices/INV-1/payments"


async def refused(
    engine: AsyncEngine, send: Any, field: str, *, status: int = 422, message: str | None = None
) -> dict[str, Any]:
    """Send the request; it must be refused naming `field`, and every table must hold what it held before."""
    before = await table_counts(engine)
    response = await send()
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    fields = [error["field"] for error in problem.get("errors", [])]
    assert field in fields, problem
    if message is not None:
        assert any(message in error["message"] for error in problem["errors"]), problem
    assert await table_counts(engine) == before
    return problem


def invoice(amount: str, currency: str = "EUR", open_amount: str | None = None) -> dict[str, str]:
    return {
        "currency": currency,
        "amount": amount,
        "open_amount": open_amount or amount,
        "issue_date": "2026-11-01",
        "due_date": "2026-12-01",
    }


class TestPaymentAmounts:
    @pytest.mark.parametrize(
        "amount",
        ["-5.00", "abc", "0.00", "1.00\n", " 1.00", "1e2", "１.00", "1000000000000.00", "NaN", 5],
        ids=["negative", "text", "zero", "newline", "space", "exponent", "fullwidth", "too-large", "nan", "number"],
    )
    async def test_a_bad_amount_is_refused_and_the_open_amount_kept(
        self, client: httpx.AsyncClient, engine: AsyncEngine, amount: Any
    ) -> None:
        await put_customer(client)
        await put_invoice(client, "INV-1", "100.00")
        body = {"id": "PAY-1", "amount": amount, "paid_on": "2026-11-20"}
        await refused(engine, lambda: client.post(PAYMENTS, json=body, headers=auth()), "amount")
        stored = (await client.get("/v1/customers/C-42/credit-file", headers=auth())).json()
        assert stored["exposure"]["open_receivables"] == "100.00"


class TestMoneyStrings:
    async def test_a_trailing_newline_is_refused(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        body = order_body("100.00\n")
        await refused(engine, lambda: client.post("/v1/decisions", json=body, headers=auth()), "order.amount")

    async def test_leading_zeros_are_refused(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        body = order_body("0100.00")
        await refused(engine, lambda: client.post("/v1/decisions", json=body, headers=auth()), "order.amount")


# 13 digits before the point: valid decimals, but 10^16 minor units of a 4-decimal currency and more.
TOO_LARGE = "1000000000000.0000"
LARGEST = "999999999999.9999"


class TestAmountsFit64Bits:
    async def test_an_order(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        body = order_body("99999999999999.9999", currency="CLF")
        await refused(engine, lambda: client.post("/v1/decisions", json=body, headers=auth()), "order.amount")

    @pytest.mark.parametrize("field", ["amount", "open_amount"])
    async def test_an_invoice(self, client: httpx.AsyncClient, engine: AsyncEngine, field: str) -> None:
        await put_customer(client)
        body = invoice(LARGEST, "CLF")
        body[field] = TOO_LARGE if field == "amount" else "9" * 16
        path = "/v1/customers/C-42/invoices/INV-9"
        await refused(engine, lambda: client.put(path, json=body, headers=auth()), field)

    async def test_a_manual_and_a_group_limit(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        base = {"country": "NL", "limit_currency": "CLF"}
        manual = {**base, "manual_limit": {"amount": TOO_LARGE, "reason": "agreed"}}
        group = {**base, "group_limit": TOO_LARGE}
        for body, field in ((manual, "manual_limit.amount"), (group, "group_limit")):
            await refused(engine, lambda body=body: client.put("/v1/customers/C-1", json=body, headers=auth()), field)

    async def test_an_amended_order(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        body = {"type": "amended", "amount": TOO_LARGE}
        send = lambda: client.post("/v1/orders/SO-1/events", json=body, headers=auth())  # noqa: E731
        await refused(engine, send, "amended.amount")

    async def test_an_insurer_limit(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        csv = (
            "country,registration_number,buyer_name,limit_amount,currency,valid_from,insurer_reference\n"
            f"NL,12345670,Bakkerij,{TOO_LARGE},CLF,2026-01-01,REF-1\n"
        )
        headers = {**auth(), "Content-Type": "text/csv"}
        send = lambda: client.post("/v1/providers/insurer-limits", content=csv, headers=headers)  # noqa: E731
        await refused(engine, send, "line 2.limit_amount")

    async def test_the_largest_amounts_still_sum(self, client: httpx.AsyncClient) -> None:
        """A thousand of the largest invoices sum past 2^63 minor units: the portfolio and the credit file still
        answer, with the exact total (SQLite's SUM alone overflows)."""
        await put_customer(client)
        rates = await client.put("/v1/rates", json={"base": "EUR", "rates": {"CLF": "1"}}, headers=auth())
        assert rates.status_code == 200, rates.text
        rows = [{"customer_id": "C-42", "invoice_id": f"INV-{n}", **invoice(LARGEST, "CLF")} for n in range(1000)]
        response = await client.post("/v1/receivables/batch", json={"invoices": rows}, headers=auth())
        assert response.status_code == 200, response.text
        portfolio = await client.get("/v1/portfolio", headers=auth())
        assert portfolio.status_code == 200, portfolio.text
        credit_file = await client.get("/v1/customers/C-42/credit-file?", headers=auth())
        assert credit_file.status_code == 200, credit_file.text
        # 1000 × 999,999,999,999.9999 CLF at 1 CLF per EUR, in EUR's two decimals
        assert portfolio.json()["open_receivables"] == "999999999999999.90"
        assert credit_file.json()["exposure"]["open_receivables"] == "999999999999999.90"


class TestExchangeRates:
    @pytest.mark.parametrize(
        "rate",
        ["999999999999999", "1000000", "0.0000001", "0.000000000001", "0", "1.0850\n", "1." + "1" * 13],
        ids=["huge", "a-million", "too-small", "tiniest", "zero", "newline", "13-decimals"],
    )
    async def test_a_rate_out_of_bounds_is_refused(
        self, client: httpx.AsyncClient, engine: AsyncEngine, rate: str
    ) -> None:
        body = {"base": "EUR", "rates": {"USD": rate}}
        problem = await refused(engine, lambda: client.put("/v1/rates", json=body, headers=auth()), "rates")
        assert "USD" in problem["errors"][0]["message"]

    async def test_decisions_take_the_bounds(self, client: httpx.AsyncClient) -> None:
        for rate in ("999999.999999999999", "0.000001"):
            response = await client.put("/v1/rates", json={"base": "EUR", "rates": {"USD": rate}}, headers=auth())
            assert response.status_code == 200, response.text
            decided = await client.post(
                "/v1/decisions", json=order_body("100.00", currency="USD", order_id=f"SO-{rate}"), headers=auth()
            )
            assert decided.status_code == 201, decided.text


class TestTimes:
    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("decided_from", "0001-01-01T00:00:00+01:00"),
            ("decided_to", "9999-12-31T23:59:59-01:00"),
            ("decided_from", "2026-11-01T00:00:00"),
        ],
        ids=["year-1-east-of-utc", "year-9999-west-of-utc", "naive"],
    )
    async def test_history_filters(self, client: httpx.AsyncClient, name: str, value: str) -> None:
        response = await client.get("/v1/decisions", params={name: value}, headers=auth())
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == f"query.{name}"

    async def test_the_calendars_edges_in_utc_are_fine(self, client: httpx.AsyncClient) -> None:
        params = {"decided_from": "0001-01-01T00:00:00Z", "decided_to": "9999-12-31T23:59:59Z"}
        assert (await client.get("/v1/decisions", params=params, headers=auth())).status_code == 200

    async def test_simulation_filters(self, client: httpx.AsyncClient) -> None:
        body = {"decided_to": "9999-12-31T23:59:59-01:00"}
        response = await client.post("/v1/policies/default-2026.11/simulate", json=body, headers=auth())
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "decided_to"

    async def test_a_manual_limits_expiry(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        body = {
            "country": "NL",
            "limit_currency": "EUR",
            "manual_limit": {"amount": "10.00", "reason": "agreed", "expires_at": "0001-01-01T00:00:00+01:00"},
        }
        send = lambda: client.put("/v1/customers/C-1", json=body, headers=auth())  # noqa: E731
        await refused(engine, send, "manual_limit.expires_at")

    @pytest.mark.parametrize(
        "params", [{"day_to": "0001-01-01"}, {"day_from": "9999-12-31", "day_to": "9999-12-31"}], ids=["first", "last"]
    )
    async def test_provider_usage_days(self, client: httpx.AsyncClient, params: dict[str, str]) -> None:
        response = await client.get("/v1/providers/usage", params=params, headers=auth())
        assert response.status_code in (200, 422), response.text


def cursor(*position: Any) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(list(position)).encode()).decode().rstrip("=")


FORGED_CURSORS = [
    pytest.param(cursor("2026-11-01T00:00:00", "00000000-0000-4000-8000-000000000000"), id="naive"),
    pytest.param(cursor("0001-01-01T00:00:00+01:00", "00000000-0000-4000-8000-000000000000"), id="year-1"),
    pytest.param(cursor("2026-11-01T00:00:00+00:00", "a\x00b"), id="nul-in-id"),
    pytest.param(cursor("2026-11-01T00:00:00+00:00", 7), id="number-id"),
    pytest.param(cursor(["2026"], "x"), id="list-time"),
    pytest.param("////", id="garbage-base64"),
    pytest.param("AAAA", id="zero-bytes"),
]


class TestForgedCursors:
    @pytest.mark.parametrize("token", FORGED_CURSORS)
    async def test_history(self, client: httpx.AsyncClient, token: str) -> None:
        response = await client.get("/v1/decisions", params={"cursor": token}, headers=auth())
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "query.cursor"

    @pytest.mark.parametrize("token", FORGED_CURSORS)
    async def test_review_queue(self, client: httpx.AsyncClient, token: str) -> None:
        response = await client.get("/v1/reviews", params={"cursor": token}, headers=auth())
        assert response.status_code == 422, response.text

    @pytest.mark.parametrize("token", FORGED_CURSORS)
    async def test_simulation(self, client: httpx.AsyncClient, token: str) -> None:
        response = await client.post("/v1/policies/default-2026.11/simulate", json={"cursor": token}, headers=auth())
        assert response.status_code == 422, response.text
        assert response.json()["errors"][0]["field"] == "cursor"


class TestFreeText:
    @pytest.mark.parametrize(
        "name", ["Bakkerij\u202eBV", "Bakkerij\u2066Jansen", "Bakkerij\x07", "Bakkerij\nJansen", "\x1b[31mred"]
    )
    async def test_a_name_with_control_characters(
        self, client: httpx.AsyncClient, engine: AsyncEngine, name: str
    ) -> None:
        body = order_body()
        body["customer"]["name"] = name
        await refused(engine, lambda: client.post("/v1/decisions", json=body, headers=auth()), "customer.name")
        master = {"name": name, "country": "NL"}
        await refused(engine, lambda: client.put("/v1/customers/C-1", json=master, headers=auth()), "name")

    async def test_a_name_in_any_script_is_fine(self, client: httpx.AsyncClient) -> None:
        for name in ("Müller & Söhne GmbH", "株式会社テスト", "شركة الاختبار"):
            response = await client.put("/v1/customers/C-1", json={"name": name, "country": "NL"}, headers=auth())
            assert response.status_code in (200, 201), response.text

    async def test_a_reason_may_span_lines_but_hold_no_bidi_control(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        good = {"country": "NL", "credit_block": {"reason": "dunning level 3\nsee ticket 17"}}
        assert (await client.put("/v1/customers/C-1", json=good, headers=auth())).status_code == 201
        bad = {"country": "NL", "credit_block": {"reason": "paid\u202e"}}
        await refused(engine, lambda: client.put("/v1/customers/C-1", json=bad, headers=auth()), "credit_block.reason")


class TestDuplicateKeys:
    @pytest.mark.parametrize(
        ("body", "field"),
        [
            (
                b'{"order": {"id": "SO-1", "amount": "1.00", "amount": "900.00", "currency": "EUR"},'
                b' "customer": {"id": "C-42", "country": "NL"}}',
                "order.amount",
            ),
            (
                b'{"order": {"id": "SO-1", "amount": "1.00", "currency": "EUR"},'
                b' "customer": {"id": "C-42", "country": "NL"}, "customer": {"id": "C-43", "country": "NL"}}',
                "customer",
            ),
        ],
        ids=["nested", "top-level"],
    )
    async def test_a_decision(self, client: httpx.AsyncClient, engine: AsyncEngine, body: bytes, field: str) -> None:
        headers = {**auth(), "Content-Type": "application/json"}
        await refused(engine, lambda: client.post("/v1/decisions", content=body, headers=headers), field)

    async def test_a_batch_row(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        row = b'{"customer_id": "C-42", "invoice_id": "I-1", "currency": "EUR", "amount": "1.00", "open_amount": '
        row += b'"1.00", "issue_date": "2026-11-01", "due_date": "2026-12-01", "due_date": "2027-12-01"}'
        body = b'{"invoices": [' + row + b", " + row.replace(b"I-1", b"I-2") + b"]}"
        headers = {**auth(), "Content-Type": "application/json"}
        send = lambda: client.post("/v1/receivables/batch", content=body, headers=headers)  # noqa: E731
        await refused(engine, send, "invoices[0].due_date")

    async def test_a_policy_document(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        document = (await client.get("/v1/policies/active", headers=auth())).json()["document"]
        raw = httpx.Response(200, json={**document, "version": "dup-1"}).content
        raw = raw[:-1] + b', "version": "dup-2"}'
        headers = {**auth(), "Content-Type": "application/json"}
        await refused(engine, lambda: client.post("/v1/policies", content=raw, headers=headers), "version")


class TestAuthorizationHeaders:
    async def test_two_headers_are_refused_even_when_one_is_valid(self, client: httpx.AsyncClient) -> None:
        for pair in ((ALL_KEY, "nonsense-key-0000000000"), ("nonsense-key-0000000000", ALL_KEY), (ALL_KEY, ALL_KEY)):
            headers = [("Authorization", f"Bearer {key}") for key in pair]
            response = await client.get("/v1/decisions", headers=headers)
            assert response.status_code == 401, response.text
            assert response.json()["errors"][0]["field"] == "header.authorization"

    async def test_two_headers_on_a_decision(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        headers = [("Authorization", f"Bearer {ALL_KEY}"), ("Authorization", f"Bearer {ALL_KEY}")]
        send = lambda: client.post("/v1/decisions", json=order_body(), headers=headers)  # noqa: E731
        await refused(engine, send, "header.authorization", status=401)


class TestFiguresBeyond64Bits:
    async def test_an_exposure_too_large_for_the_orders_currency(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        """The largest invoice in EUR at the largest rate is 10^20 minor units of IDR: a 422, not a failed insert."""
        await put_customer(client)
        await put_invoice(client, "INV-1", "999999999999.99")
        rates = await client.put("/v1/rates", json={"base": "EUR", "rates": {"IDR": "999999"}}, headers=auth())
        assert rates.status_code == 200, rates.text
        body = order_body("1000.00", currency="IDR")
        await refused(engine, lambda: client.post("/v1/decisions", json=body, headers=auth()), "order.currency")
