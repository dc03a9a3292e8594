"""A credit insurer's buyer limits: imported from CSV (admin endpoint and CLI), then served as a provider."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from click.testing import Result
from sqlalchemy.ext.asyncio import AsyncEngine
from typer.testing import CliRunner

from app.cli import cli
from app.settings import get_settings
from tests.conftest import auth, count_rows, key_for, order_body
from tests.providers.conftest import AppClient, codes, decide
from tests.providers.fake_creditsafe import FakeCreditsafe

TODAY = datetime.now(UTC).date()  # limits are in force by UTC day
HEADER = "country,registration_number,buyer_name,limit_amount,currency,valid_from,valid_to,insurer_reference,risk_class"
INSURER = {"provider": "insurer_limits"}


def limits_csv(*rows: str) -> str:
    return "\n".join((HEADER, *rows)) + "\n"


def granted(registration_number: str = "12345672", amount: str = "40000.00", **kwargs: str) -> str:
    valid_from = kwargs.get("valid_from", (TODAY - timedelta(days=30)).isoformat())
    valid_to = kwargs.get("valid_to", "")
    reference = kwargs.get("reference", f"ATR-{registration_number}")
    risk_class = kwargs.get("risk_class", "")
    return (
        f"NL,{registration_number},Bakkerij Jansen B.V.,{amount},EUR,{valid_from},{valid_to},{reference},{risk_class}"
    )


async def upload(client: httpx.AsyncClient, text: str, *, replace: bool = False) -> httpx.Response:
    return await client.post(
        "/v1/providers/insurer-limits",
        content=text.encode(),
        params={"replace": str(replace).lower()},
        headers={**auth(), "Content-Type": "text/csv"},
    )


class TestImport:
    async def test_imports_a_list_and_serves_the_granted_limit(self, app_client: AppClient) -> None:
        async with app_client(**INSURER) as client:
            response = await upload(client, limits_csv(granted(), granted("12345673", "15000", risk_class="C")))
            decision = await decide(client, order_body("1250.00", "12345672"))
            detail = (await client.get(f"/v1/decisions/{decision['id']}", headers=auth())).json()
            rated = await decide(client, order_body("1250.00", "12345673", order_id="SO-2", customer_id="C-2"))
        assert response.status_code == 200, response.text
        assert response.json() == {
            "imported": 2,
            "removed": 0,
            "covers_written": 0,
            "covers_withdrawn": 0,
            "unmatched": 2,
        }  # the buyers are no customers yet: no cover (tests/insurance/test_cover_import.py)
        assert decision["report"]["provider"] == "insurer_limits"
        assert decision["report"]["source"] == "fresh"
        assert decision["report"]["reference"] == "ATR-12345672"
        assert decision["report"]["risk_class"] == "B"  # the setting's class when the file names none
        assert detail["report_snapshot"]["recommended_limit"] == "40000.00"
        assert detail["report_snapshot"]["cost"] == "0.00"  # money with its minor units, as everywhere in the API
        assert rated["report"]["risk_class"] == "C"

    async def test_a_buyer_without_a_limit_in_force_is_not_found(self, app_client: AppClient) -> None:
        expired = granted("12345673", valid_to=(TODAY - timedelta(days=1)).isoformat())
        future = granted("12345674", valid_from=(TODAY + timedelta(days=10)).isoformat())
        async with app_client(**INSURER) as client:
            await upload(client, limits_csv(expired, future))
            decisions = [
                await decide(client, order_body("1250.00", number, order_id=f"SO-{number}"))
                for number in ("12345673", "12345674", "12345675")
            ]
        assert {decision["report"]["source"] for decision in decisions} == {"not_found"}
        assert {codes(decision)[0] for decision in decisions} == {"COMPANY_NOT_FOUND"}

    async def test_a_new_list_updates_a_limit_and_replace_removes_the_absent_ones(
        self, app_client: AppClient, engine: AsyncEngine
    ) -> None:
        async with app_client(**INSURER) as client:
            await upload(client, limits_csv(granted(), granted("12345673")))
            response = await upload(client, limits_csv(granted(amount="20000.00")), replace=True)
            decision = await decide(client, order_body("1250.00", "12345672"))
            detail = (await client.get(f"/v1/decisions/{decision['id']}", headers=auth())).json()
        assert response.json() == {
            "imported": 1,
            "removed": 1,
            "covers_written": 0,
            "covers_withdrawn": 0,
            "unmatched": 1,
        }
        assert await count_rows(engine, "insurer_limits") == 1
        assert detail["report_snapshot"]["recommended_limit"] == "20000.00"

    async def test_takes_semicolon_separated_files_with_a_byte_order_mark(self, app_client: AppClient) -> None:
        text = "\ufeff" + limits_csv(granted()).replace(",", ";")
        async with app_client(**INSURER) as client:
            response = await upload(client, text)
        assert response.json() == {
            "imported": 1,
            "removed": 0,
            "covers_written": 0,
            "covers_withdrawn": 0,
            "unmatched": 1,
        }

    async def test_the_insurer_limit_is_a_fallback_when_the_bureau_is_down(
        self, app_client: AppClient, fake: FakeCreditsafe
    ) -> None:
        fake.fail_status, fake.fail_times = 503, -1
        async with app_client(provider="creditsafe,insurer_limits", provider_retries=0) as client:
            await upload(client, limits_csv(granted()))
            decision = await decide(client, order_body("1250.00", "12345672"))
        assert decision["report"]["provider"] == "insurer_limits"


class TestInvalidFiles:
    async def test_names_each_problem_by_line_and_column_and_imports_nothing(
        self, app_client: AppClient, engine: AsyncEngine
    ) -> None:
        bad = [
            granted(),
            granted("12345673", amount="lots"),
            granted("12345674", amount="100.001"),
            "XX,12345675,Buyer,100,EUR,2026-01-01,,REF-5,",
            granted("12345676", valid_from="23/11/2026"),
            granted("12345677", risk_class="Q"),
            granted(),
        ]
        async with app_client(**INSURER) as client:
            response = await upload(client, limits_csv(*bad))
        assert response.status_code == 422
        fields = [error["field"] for error in response.json()["errors"]]
        assert fields == [
            "line 3.limit_amount",
            "line 4.limit_amount",
            "line 5.country",
            "line 6.valid_from",
            "line 7.risk_class",
            "line 8",
        ]
        assert await count_rows(engine, "insurer_limits") == 0

    async def test_a_field_over_the_csv_modules_limit_is_a_422_naming_its_line(
        self, app_client: AppClient, engine: AsyncEngine
    ) -> None:
        huge = granted("12345673").replace("Bakkerij Jansen B.V.", "B" * 200_000)
        async with app_client(**INSURER) as client:
            response = await upload(client, limits_csv(granted(), huge))
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        [error] = response.json()["errors"]
        assert error["field"] == "line 3"
        assert "field limit" in error["message"]
        assert await count_rows(engine, "insurer_limits") == 0

    async def test_a_nul_byte_is_refused_naming_its_line(self, app_client: AppClient, engine: AsyncEngine) -> None:
        with_nul = granted("12345673").replace("Bakkerij", "Bakk\x00erij")
        async with app_client(**INSURER) as client:
            response = await upload(client, limits_csv(granted(), granted("12345674"), with_nul))
        assert response.status_code == 422, response.text
        assert response.json()["errors"] == [{"field": "line 4", "message": "contains a NUL character"}]
        assert await count_rows(engine, "insurer_limits") == 0

    async def test_names_the_missing_columns(self, app_client: AppClient) -> None:
        async with app_client(**INSURER) as client:
            response = await upload(client, "country,registration_number\nNL,12345672\n")
        assert response.status_code == 422
        assert "limit_amount" in response.json()["errors"][0]["message"]

    async def test_refuses_json_and_callers_without_the_admin_scope(self, app_client: AppClient) -> None:
        async with app_client(**INSURER) as client:
            as_json = await client.post("/v1/providers/insurer-limits", json={"rows": []}, headers=auth())
            not_admin = await client.post(
                "/v1/providers/insurer-limits",
                content=limits_csv(granted()).encode(),
                headers={**auth(key_for("read")), "Content-Type": "text/csv"},
            )
        assert as_json.status_code == 415
        assert not_admin.status_code == 403


class TestCommandLine:
    async def test_imports_a_file(self, engine: AsyncEngine, database_url: str, tmp_path: Path) -> None:
        path = tmp_path / "limits.csv"
        path.write_text(limits_csv(granted(), granted("12345673")))
        result = await asyncio.to_thread(_run_cli, database_url, "providers", "import-insurer-limits", str(path))
        assert result.exit_code == 0, result.output
        assert "imported 2 limit(s)" in result.output
        assert await count_rows(engine, "insurer_limits") == 2

    async def test_an_invalid_file_fails_with_the_problems(
        self, engine: AsyncEngine, database_url: str, tmp_path: Path
    ) -> None:
        path = tmp_path / "limits.csv"
        path.write_text(limits_csv(granted(amount="-5")))
        result = await asyncio.to_thread(_run_cli, database_url, "providers", "import-insurer-limits", str(path))
        assert result.exit_code == 1
        assert "line 2.limit_amount" in result.output
        assert await count_rows(engine, "insurer_limits") == 0


def _run_cli(database_url: str, *arguments: str) -> Result:
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(cli, list(arguments), env={"CREDITGATE_DATABASE_URL": database_url})
    finally:
        get_settings.cache_clear()
