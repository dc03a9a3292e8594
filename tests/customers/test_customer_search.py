"""GET /v1/customers: search by name, id or registration number, filters, sorts and a cursor, with the credit
file's figures and each customer's name."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import auth, key_for
from tests.erp import credit_file, decide, manual_limit, put_customer, put_invoice


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/v1/customers", params=params, headers=auth(key_for("read")))
    assert response.status_code == 200, response.text
    return dict(response.json())


def ids(page: dict[str, Any]) -> list[str]:
    return [item["id"] for item in page["items"]]


@pytest.fixture
async def book(client: httpx.AsyncClient) -> None:
    """Four customers: exposure 4000 of 5000, 1500 of 2000 with something overdue, 300 of 10000 (capped for a
    first order) in C-1's group, and a blocked one."""
    await put_customer(
        client,
        "C-1",
        name="Bakkerij Jansen B.V.",
        registration_number="12345670",
        segment="key_account",
        **manual_limit("5000.00"),
    )
    await put_customer(
        client,
        "C-2",
        name="Slagerij de Vries",
        registration_number="NL 8765.4321",
        segment="regular",
        **manual_limit("2000.00"),
    )
    await put_customer(
        client,
        "C-3",
        name="Groente Jansen",
        registration_number="11112222",
        parent_id="C-1",
        **manual_limit("10000.00"),
    )
    await put_customer(
        client,
        "C-4",
        name="Visboer",
        registration_number="33334444",
        credit_block={"reason": "legal dispute"},
        **manual_limit("1000.00"),
    )
    await put_invoice(client, "I-1", "4000.00", customer_id="C-1")
    await put_invoice(client, "I-2", "1500.00", customer_id="C-2", due_in_days=-10)
    await put_invoice(client, "I-3", "300.00", customer_id="C-3")
    await put_invoice(client, "I-4", "50.00", customer_id="C-4")


class TestSearch:
    async def test_lists_names_and_the_credit_files_figures_by_exposure(
        self, client: httpx.AsyncClient, book: None
    ) -> None:
        page = await search(client)
        assert ids(page) == ["C-1", "C-2", "C-3", "C-4"]
        first = page["items"][0]
        assert first["name"] == "Bakkerij Jansen B.V."
        file = await credit_file(client, "C-1")
        assert (first["limit"], first["exposure"], first["available_credit"]) == (
            file["limit"]["amount"],
            file["exposure"]["total"],
            file["available_credit"],
        )
        assert first["utilisation"] == "0.8000"
        blocked = page["items"][3]
        assert (blocked["blocked"], blocked["limit"], blocked["available_credit"]) == (True, "0.00", "0.00")

    async def test_searches_name_id_and_registration_number(self, client: httpx.AsyncClient, book: None) -> None:
        assert ids(await search(client, q="jansen")) == ["C-1", "C-3"]
        assert ids(await search(client, q="C-4")) == ["C-4"]
        assert ids(await search(client, q="1111")) == ["C-3"]
        assert ids(await search(client, q="87654321")) == ["C-2"]  # stored as "NL 8765.4321"
        assert ids(await search(client, q="nobody")) == []
        assert ids(await search(client, q="100%")) == []

    async def test_filters(self, client: httpx.AsyncClient, book: None) -> None:
        assert ids(await search(client, blocked="true")) == ["C-4"]
        assert ids(await search(client, blocked="false")) == ["C-1", "C-2", "C-3"]
        assert ids(await search(client, with_overdue="true")) == ["C-2"]
        assert ids(await search(client, over_limit="true")) == ["C-4"]  # blocked: its limit is 0.00
        assert ids(await search(client, segment="regular")) == ["C-2"]
        assert ids(await search(client, group="C-1")) == ["C-1", "C-3"]

    async def test_sorts_by_utilisation(self, client: httpx.AsyncClient, book: None) -> None:
        page = await search(client, sort="utilisation")
        # C-3 has had no credit yet: the first-order cap (5000.00) is its limit, as in a decision. C-4 is
        # blocked (limit 0.00): no utilisation, last.
        assert ids(page) == ["C-1", "C-2", "C-3", "C-4"]
        assert [item["utilisation"] for item in page["items"]] == ["0.8000", "0.7500", "0.0600", None]

    async def test_pages_with_a_cursor(self, client: httpx.AsyncClient, book: None) -> None:
        seen: list[str] = []
        cursor = None
        for _ in range(4):
            page = await search(client, limit=1, sort="utilisation", **({"cursor": cursor} if cursor else {}))
            seen += ids(page)
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == ["C-1", "C-2", "C-3", "C-4"]
        assert cursor is None

    @pytest.mark.parametrize(
        ("name", "value"),
        [
            ("sort", "name"),
            ("limit", "0"),
            ("limit", "501"),
            ("blocked", "maybe"),
            ("over_limit", "2"),
            ("with_overdue", "x"),
            ("q", ""),
            ("q", "x" * 101),
            ("segment", ""),
            ("group", "g" * 65),
            ("cursor", "not-a-cursor"),
        ],
    )
    async def test_a_bad_parameter_is_422_naming_it(self, client: httpx.AsyncClient, name: str, value: str) -> None:
        response = await client.get("/v1/customers", params={name: value}, headers=auth())
        assert response.status_code == 422, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert [error["field"] for error in response.json()["errors"]] == [f"query.{name}"]

    async def test_needs_the_read_scope(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/v1/customers", headers=auth(key_for("decide")))).status_code == 403
        assert (await client.get("/v1/customers")).status_code == 401


class TestInvoicesAndOpenItems:
    async def test_lists_a_customers_invoices_by_due_date_with_a_cursor(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-1")
        await put_invoice(client, "I-B", "100.00", customer_id="C-1", due_in_days=5)
        await put_invoice(client, "I-A", "200.00", customer_id="C-1", due_in_days=-5)
        await put_invoice(client, "I-C", "300.00", customer_id="C-1", due_in_days=5, open_amount="0.00")
        path = "/v1/customers/C-1/invoices"
        first = (await client.get(path, params={"limit": 2}, headers=auth(key_for("read")))).json()
        assert [item["invoice_id"] for item in first["items"]] == ["I-A", "I-B"]
        rest = (await client.get(path, params={"cursor": first["next_cursor"]}, headers=auth())).json()
        assert ([item["invoice_id"] for item in rest["items"]], rest["next_cursor"]) == (["I-C"], None)
        opened = (await client.get(path, params={"status": "open"}, headers=auth())).json()
        assert [item["invoice_id"] for item in opened["items"]] == ["I-A", "I-B"]
        paid = (await client.get(path, params={"status": "paid"}, headers=auth())).json()
        assert [item["invoice_id"] for item in paid["items"]] == ["I-C"]
        for name, value in (("status", "unpaid"), ("limit", "0"), ("cursor", "nope")):
            response = await client.get(path, params={name: value}, headers=auth())
            assert response.status_code == 422
            assert [error["field"] for error in response.json()["errors"]] == [f"query.{name}"]
        assert (await client.get("/v1/customers/C-404/invoices", headers=auth())).status_code == 404

    async def test_open_items_add_up_to_the_credit_files_exposure(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        await put_invoice(client, "I-1", "700.00", due_in_days=-3)
        await put_invoice(client, "I-2", "300.00", open_amount="0.00")
        decision = await decide(client, "250.00", "SO-1")
        response = await client.get("/v1/customers/C-42/open-items", headers=auth(key_for("read")))
        assert response.status_code == 200, response.text
        items = response.json()
        assert [item["invoice_id"] for item in items["invoices"]] == ["I-1"]
        assert [item["order_id"] for item in items["reservations"]] == ["SO-1"]
        assert items["reservations"][0]["decision_id"] == decision["id"]
        file = await credit_file(client)
        assert (items["open_receivables"], items["reserved"], items["total"]) == (
            file["exposure"]["open_receivables"],
            file["exposure"]["reserved"],
            file["exposure"]["total"],
        )
        assert items["total"] == "950.00"
        assert (await client.get("/v1/customers/C-404/open-items", headers=auth())).status_code == 404
        assert (await client.get("/v1/customers/C-42/open-items", headers=auth(key_for("decide")))).status_code == 403
