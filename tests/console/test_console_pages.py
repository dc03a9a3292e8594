"""The console's read pages in process: what each shows, its filters and paging, charts, what-if."""

from __future__ import annotations

import html
import re
from decimal import Decimal

import httpx
import pytest

from app.db import HeavyReadsBusy
from app.decisions.export import StartedExport
from app.decisions.query import DecisionFilters
from app.decisions.service import DecisionService
from tests.conftest import auth, key_for, order_body
from tests.console.console import csrf_token, decide, sign_in
from tests.erp import put_customer, put_invoice
from tests.test_input_edges import cursor


def decision_links(page: httpx.Response) -> list[str]:
    return re.findall(r'href="/console/decisions/([0-9a-f-]{36})"', page.text)


def spend_rows(page: httpx.Response) -> dict[tuple[str, str], dict[str, str]]:
    """The spend table's rows by (day, provider), each cell's text by its column label."""
    body = page.text.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL):
        cells = {
            label: html.unescape(text).strip()
            for label, text in re.findall(r'<td data-label="([^"]+)"[^>]*>(.*?)</td>', row, re.DOTALL)
        }
        rows[(cells["Day"], cells["Provider"])] = cells
    return rows


def costs(cell: str) -> list[tuple[Decimal, str]]:
    """'1,234.50 EUR<br>19.00 USD' → [(1234.50, 'EUR'), (19.00, 'USD')]: the page's money back as numbers."""
    found = []
    for line in cell.split("<br>"):
        amount, currency = line.strip().split(" ")
        found.append((Decimal(amount.replace(",", "")), currency))
    return found


class TestHistoryPage:
    async def test_lists_decisions_newest_first_with_their_outcome_in_words(self, client: httpx.AsyncClient) -> None:
        made = await decide(client, 3)
        await sign_in(client)
        page = await client.get("/console/decisions")
        assert page.status_code == 200
        assert decision_links(page) == [d["id"] for d in reversed(made)]
        assert "Accepted on credit" in page.text
        assert page.headers["content-security-policy"].startswith("default-src 'self'")

    async def test_filters_by_customer_and_outcome(self, client: httpx.AsyncClient) -> None:
        await decide(client, 2)
        other = await decide(client, 1, customer_id="C-77")
        await sign_in(client)
        page = await client.get("/console/decisions", params={"customer_id": "C-77", "outcome": "accept"})
        assert decision_links(page) == [other[0]["id"]]
        page = await client.get("/console/decisions", params={"outcome": "reject"})
        assert decision_links(page) == []
        assert "No decisions match" in page.text

    async def test_pages_with_the_api_cursor(self, client: httpx.AsyncClient) -> None:
        made = await decide(client, 30)
        await sign_in(client)
        first = await client.get("/console/decisions", params={"limit": 25})
        older = re.search(r'href="/console/decisions\?([^"]+)" rel="next"', first.text)
        assert older is not None
        second = await client.get("/console/decisions?" + older.group(1).replace("&amp;", "&"))
        seen = decision_links(first) + decision_links(second)
        assert seen == [d["id"] for d in reversed(made)]
        assert 'rel="next"' not in second.text

    async def test_names_a_wrong_day_in_the_form(self, client: httpx.AsyncClient) -> None:
        await sign_in(client)
        page = await client.get("/console/decisions", params={"decided_from": "23.11.2026"})
        assert page.status_code == 200
        assert 'aria-invalid="true"' in page.text
        assert "YYYY-MM-DD" in page.text


class TestDecisionPage:
    async def test_explains_the_decision(self, client: httpx.AsyncClient) -> None:
        (made,) = await decide(client, 1)
        await sign_in(client)
        page = await client.get(f"/console/decisions/{made['id']}")
        assert page.status_code == 200
        for reason in made["reasons"]:
            assert reason["message"] in html.unescape(page.text)
        assert "Exposure at the time" in page.text
        assert f"/console/policies/{made['policy_version']}" in page.text
        assert made["report"]["reference"] in page.text

    async def test_an_unknown_decision_is_a_not_found_page(self, client: httpx.AsyncClient) -> None:
        await sign_in(client)
        page = await client.get("/console/decisions/00000000-0000-0000-0000-000000000000")
        assert page.status_code == 404
        assert page.headers["content-type"].startswith("text/html")


class TestErrorPages:
    async def test_a_busy_export_is_an_error_page_that_says_when_to_retry(
        self, client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        async def busy(_self: DecisionService, _filters: DecisionFilters) -> StartedExport:
            raise HeavyReadsBusy(
                "2 exports or what-if replays are running; retry shortly", headers={"Retry-After": "5"}
            )

        monkeypatch.setattr(DecisionService, "export_csv", busy)
        await sign_in(client)
        page = await client.get("/console/decisions/export")
        assert page.status_code == 503
        assert page.headers["content-type"].startswith("text/html")
        assert page.headers["retry-after"] == "5"
        assert "retry shortly" in page.text


class TestCreditFilePage:
    async def test_draws_exposure_over_time_and_ageing(self, client: httpx.AsyncClient) -> None:
        await put_customer(client)
        await put_invoice(client, "INV-1", "400.00", due_in_days=-45)
        await put_invoice(client, "INV-2", "300.00", due_in_days=10)
        await decide(client, 2)
        await sign_in(client)
        page = await client.get("/console/customers/C-42")
        assert page.status_code == 200
        assert page.text.count('<svg class="chart"') == 2
        assert '<polyline class="exposure"' in page.text
        assert 'class="bar overdue"' in page.text
        assert "31-60: 400.00 EUR" in page.text  # the ageing chart's description names each bucket
        assert "not due: 300.00 EUR" in page.text

    async def test_the_search_opens_a_file(self, client: httpx.AsyncClient) -> None:
        await sign_in(client)
        response = await client.get("/console/customers", params={"customer_id": "C-42"})
        assert response.status_code == 303
        assert response.headers["location"] == "/console/customers/C-42"

    async def test_an_unknown_customer_is_a_not_found_page(self, client: httpx.AsyncClient) -> None:
        await sign_in(client)
        page = await client.get("/console/customers/C-NOBODY")
        assert page.status_code == 404
        assert "no customer C-NOBODY" in page.text


class TestPolicyPages:
    async def test_lists_versions_with_the_active_one(self, client: httpx.AsyncClient) -> None:
        await sign_in(client, key_for("read"))
        page = await client.get("/console/policies")
        assert "default-2026.11" in page.text
        assert "active" in page.text

    async def test_what_if_shows_the_transition_table(self, client: httpx.AsyncClient) -> None:
        await decide(client, 3)
        await sign_in(client, key_for("admin"))
        page = await client.get("/console/policies/default-2026.11")
        response = await client.post(
            "/console/policies/default-2026.11/simulate", data={"csrf_token": csrf_token(page), "outcome": "accept"}
        )
        assert response.status_code == 200
        assert "<strong>3</strong> decisions replayed" in response.text
        assert '<table class="data matrix">' in response.text


# The usage API's per-day counts and the spend table's column for each.
COUNT_COLUMNS = {
    "calls": "Calls",
    "reports_bought": "Reports bought",
    "not_found": "Not found",
    "errors": "Errors",
    "cache_hits": "Cache hits",
    "stale_hits": "Stale hits",
}


class TestSpendPage:
    async def test_shows_the_range_and_refuses_a_reversed_one(self, client: httpx.AsyncClient) -> None:
        await sign_in(client)
        page = await client.get("/console/spend", params={"day_from": "2026-11-01", "day_to": "2026-11-20"})
        assert page.status_code == 200
        assert "Provider spend by day" in page.text
        page = await client.get("/console/spend", params={"day_from": "2026-11-20", "day_to": "2026-11-01"})
        assert "must not be after" in page.text

    async def test_shows_the_days_calls_and_cost_as_the_usage_api_reports_them(self, client: httpx.AsyncClient) -> None:
        # Three companies buy a report each; the fourth order is for the first company again and hits the cache.
        for number, registration_number in enumerate(["12345670", "12345671", "12345672", "12345670"]):
            body = order_body(
                registration_number=registration_number, order_id=f"SO-{number}", customer_id=f"C-{number}"
            )
            response = await client.post("/v1/decisions", json=body, headers=auth())
            assert response.status_code == 201, response.text
        usage = await client.get("/v1/providers/usage", headers=auth(key_for("read")))
        assert usage.status_code == 200, usage.text
        [day] = usage.json()["items"]
        # Bought reports and a cache hit, so the page's figures below are compared against something other than zero.
        assert day["reports_bought"] > 0, day
        assert day["cache_hits"] > 0, day
        assert day["cost"], day
        await sign_in(client, key_for("read"))
        page = await client.get(
            "/console/spend", params={"day_from": usage.json()["day_from"], "day_to": usage.json()["day_to"]}
        )
        assert page.status_code == 200
        row = spend_rows(page)[(day["day"], day["provider"])]
        shown = {column: int(row[label]) for column, label in COUNT_COLUMNS.items()}
        assert shown == {column: day[column] for column in COUNT_COLUMNS}
        assert costs(row["Cost"]) == [(Decimal(cost["amount"]), cost["currency"]) for cost in day["cost"]]


class TestCalendarEdges:
    """The first and last days of the calendar, and forged cursors, are a page (or its error page), never a 500."""

    @pytest.mark.parametrize(
        "query",
        [
            "decided_to=9999-12-31",
            "decided_from=0001-01-01&decided_to=0001-01-01",
            "cursor=" + cursor("0001-01-01T00:00:00+01:00", "00000000-0000-4000-8000-000000000000"),
            "cursor=" + cursor("2026-11-01T00:00:00", "00000000-0000-4000-8000-000000000000"),
        ],
    )
    async def test_decisions(self, client: httpx.AsyncClient, query: str) -> None:
        await sign_in(client)
        response = await client.get(f"/console/decisions?{query}")
        assert response.status_code in (200, 422), response.text
        assert response.headers["content-type"].startswith("text/html")

    @pytest.mark.parametrize("query", ["day_to=0001-01-01", "day_from=9999-12-31&day_to=9999-12-31"])
    async def test_spend(self, client: httpx.AsyncClient, query: str) -> None:
        await sign_in(client)
        response = await client.get(f"/console/spend?{query}")
        assert response.status_code == 200, response.text


class TestCustomerSearchPage:
    async def test_searches_by_name_and_registration_number_and_lists_names(self, client: httpx.AsyncClient) -> None:
        await put_customer(client, "C-1", name="Bakkerij Jansen B.V.", registration_number="12345670")
        await put_customer(client, "C-2", name="Slagerij de Vries", registration_number="87654321")
        await sign_in(client)
        page = await client.get("/console/customers", params={"q": "jansen"})
        assert page.status_code == 200
        assert 'href="/console/customers/C-1"' in page.text
        assert "Bakkerij Jansen B.V." in page.text
        assert "C-2" not in page.text
        by_number = await client.get("/console/customers", params={"q": "8765"})
        assert "Slagerij de Vries" in by_number.text
        assert "No customer matches" in (await client.get("/console/customers", params={"q": "nobody"})).text

    async def test_the_history_shows_customer_names(self, client: httpx.AsyncClient) -> None:
        await decide(client, 1)
        await sign_in(client)
        page = await client.get("/console/decisions")
        assert "Bakkerij Jansen B.V." in page.text
