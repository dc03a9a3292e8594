"""The insurer's limits CSV writes covers on the customers it names; the old provider keeps reading its rows."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, count_rows, key_for
from tests.erp import put_customer
from tests.insurance.helpers import TODAY, audit_events, put_cover

HEADER = (
    "country,registration_number,buyer_name,limit_amount,currency,valid_from,insurer_reference,"
    "insurer,coverage_percentage,excludes_vat"
)
SINCE = (TODAY - timedelta(days=30)).isoformat()


def row(number: str, amount: str = "40000.00", *, coverage: str = "90", excludes_vat: str = "true") -> str:
    return f"NL,{number},Bakkerij,{amount},EUR,{SINCE},ATR-{number},Atradius,{coverage},{excludes_vat}"


async def upload(client: httpx.AsyncClient, *rows: str, replace: bool = False) -> httpx.Response:
    return await client.post(
        "/v1/providers/insurer-limits",
        content=("\n".join((HEADER, *rows)) + "\n").encode(),
        params={"replace": str(replace).lower()},
        headers={**auth(key_for("admin")), "Content-Type": "text/csv"},
    )


async def cover(client: httpx.AsyncClient, customer_id: str) -> httpx.Response:
    return await client.get(f"/v1/customers/{customer_id}/cover", headers=auth())


class TestImportWritesCovers:
    async def test_rows_become_covers_of_the_customers_with_that_registration(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-1", registration_number="1234 5672")  # the row's number, spaced
        await put_customer(client, "C-2", registration_number="12345673")
        response = await upload(client, row("12345672"), row("12345673", "15000.00", excludes_vat=""), row("99999991"))
        first = (await cover(client, "C-1")).json()
        second = (await cover(client, "C-2")).json()
        assert response.status_code == 200, response.text
        assert response.json() == {
            "imported": 3,
            "removed": 0,
            "covers_written": 2,
            "covers_withdrawn": 0,
            "unmatched": 1,
        }
        assert (first["amount"], first["coverage_percentage"], first["excludes_vat"]) == ("40000.00", "90.00", True)
        assert (first["source"], first["buyer_reference"], first["insurer"]) == ("csv", "ATR-12345672", "Atradius")
        assert second["excludes_vat"] is False
        assert await count_rows(engine, "insurer_limits") == 3  # the deprecated provider's rows are kept
        assert len(await audit_events(engine, "cover.changed")) == 2

    async def test_the_same_list_again_changes_nothing_and_a_full_list_withdraws_the_absent(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-1", registration_number="12345672")
        await put_customer(client, "C-2", registration_number="12345673")
        await put_customer(client, "C-3", registration_number="12345674")
        await put_cover(client, "C-3")  # recorded by a person: no list withdraws it
        await upload(client, row("12345672"), row("12345673"))
        again = await upload(client, row("12345672"), row("12345673"))
        full = await upload(client, row("12345672", "45000.00"), replace=True)
        history = await client.get("/v1/customers/C-2/cover/history", headers=auth())
        assert again.json()["covers_written"] == 0
        assert (full.json()["covers_written"], full.json()["covers_withdrawn"]) == (2, 1)
        assert (await cover(client, "C-1")).json()["amount"] == "45000.00"
        withdrawn = (await cover(client, "C-2")).json()
        assert (withdrawn["status"], withdrawn["in_force"]) == ("withdrawn", False)
        assert [item["cover"]["status"] for item in history.json()["items"]] == ["withdrawn", "active"]
        assert (await cover(client, "C-3")).json()["status"] == "active"

    async def test_a_bad_coverage_or_vat_column_is_named_and_nothing_is_imported(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-1", registration_number="12345672")
        response = await upload(client, row("12345672", coverage="120"), row("12345673", excludes_vat="maybe"))
        fields = {error["field"] for error in response.json()["errors"]}
        assert response.status_code == 422
        assert fields == {"line 2.coverage_percentage", "line 3.excludes_vat"}
        assert await count_rows(engine, "covers") == 0
