"""A credit manager's actions from the credit file: manual limit, block, notes; each audited, refusals named."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from app.settings import key_id
from tests.conftest import ALL_KEY, auth, key_for, table_counts
from tests.console.console import csrf_token, sign_in
from tests.erp import credit_file, put_customer


async def audit(engine: AsyncEngine, event_type: str) -> list[tuple[str, dict[str, Any]]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT actor, payload FROM audit_events WHERE event_type = :type ORDER BY seq"), {"type": event_type}
        )
        return [(actor, payload if isinstance(payload, dict) else json.loads(payload)) for actor, payload in rows]


async def webhook_events(engine: AsyncEngine) -> list[tuple[str, dict[str, Any]]]:
    async with engine.connect() as connection:
        rows = await connection.execute(text("SELECT event_type, payload FROM webhook_events ORDER BY created_at"))
        found = [(kind, payload if isinstance(payload, dict) else json.loads(payload)) for kind, payload in rows]
        return [(kind, payload["data"]) for kind, payload in found]


async def post_form(client: httpx.AsyncClient, path: str, **fields: str) -> httpx.Response:
    page = await client.get("/console/customers/C-42")
    return await client.post(path, data={"csrf_token": csrf_token(page), **fields})


class TestManualLimit:
    async def test_sets_and_clears_the_manual_limit_with_reasons(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client)
        await sign_in(client)
        response = await post_form(
            client, "/console/customers/C-42/manual-limit", amount="12500.00", currency="EUR", reason="bank guarantee"
        )
        assert response.status_code == 303
        assert response.headers["location"].startswith("/console/customers/C-42?done=limit-set")
        file = await credit_file(client)
        assert file["limit"]["source"] == "manual"
        # The file's limit is what a decision is given now (the policy may cap a manual limit); the stored one:
        stored = (await client.get("/v1/customers/C-42", headers=auth())).json()
        assert stored["manual_limit"]["amount"] == "12500.00"
        page = await client.get(response.headers["location"])
        assert "The manual limit is set." in page.text
        assert "bank guarantee" in page.text

        (actor, payload), *_ = [e for e in await audit(engine, "customer.credit_changed") if e[1].get("source")]
        assert actor == key_id(ALL_KEY)
        assert payload["after"]["manual_limit"] == "12500.00"
        assert payload["reason"] == "bank guarantee"
        kind, hook = (await webhook_events(engine))[-1]
        assert kind == "customer.limit_changed"
        assert hook["new_limit"] == "12500.00"
        assert hook["source"] == "console"

        cleared = await post_form(
            client, "/console/customers/C-42/manual-limit", action="clear", reason="guarantee ended"
        )
        assert cleared.status_code == 303
        assert (await credit_file(client))["limit"]["source"] != "manual"
        last = (await audit(engine, "customer.credit_changed"))[-1][1]
        assert last["after"]["manual_limit"] is None
        assert last["reason"] == "guarantee ended"

    async def test_a_bad_amount_or_no_reason_is_named_and_nothing_changes(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client)
        await sign_in(client)
        before = await table_counts(engine)
        for fields, named in [
            ({"amount": "12,500", "currency": "EUR", "reason": "x"}, "limit-amount"),
            ({"amount": "-5", "currency": "EUR", "reason": "x"}, "limit-amount"),
            ({"amount": "100.00", "currency": "EUR", "reason": "  "}, "limit-reason"),
            ({"amount": "100.00", "currency": "XXX", "reason": "x"}, "limit-currency"),
        ]:
            response = await post_form(client, "/console/customers/C-42/manual-limit", **fields)
            assert response.status_code == 422, fields
            assert f'id="{named}-error"' in response.text, fields
            assert 'aria-invalid="true"' in response.text
        assert await table_counts(engine) == before


class TestBlock:
    async def test_blocks_and_unblocks_with_a_reason(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await put_customer(client)
        await sign_in(client)
        response = await post_form(client, "/console/customers/C-42/block", reason="disputed invoices")
        assert response.status_code == 303
        file = await credit_file(client)
        assert file["blocked"] is True
        assert file["block_reason"] == "disputed invoices"
        page = await client.get("/console/customers/C-42")
        assert "Unblock" in page.text

        response = await post_form(client, "/console/customers/C-42/block", action="unblock", reason="settled")
        assert response.status_code == 303
        assert (await credit_file(client))["blocked"] is False
        kinds = [(kind, hook["reason"], hook["source"]) for kind, hook in await webhook_events(engine)]
        assert kinds[-2:] == [
            ("customer.blocked", "disputed invoices", "console"),
            ("customer.unblocked", "settled", "console"),
        ]
        reasons = [
            payload["reason"] for _, payload in await audit(engine, "customer.credit_changed") if "reason" in payload
        ]
        assert reasons == ["disputed invoices", "settled"]

    async def test_a_block_without_a_reason_is_refused(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await put_customer(client)
        await sign_in(client)
        response = await post_form(client, "/console/customers/C-42/block", reason="")
        assert response.status_code == 422
        assert 'id="block-reason-error"' in response.text
        assert (await credit_file(client))["blocked"] is False


class TestWhoMayAct:
    async def test_a_read_key_sees_no_forms_and_is_refused(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client)
        await sign_in(client, key_for("read"))
        page = await client.get("/console/customers/C-42")
        assert page.status_code == 200
        assert "/manual-limit" not in page.text
        assert "Add note" not in page.text
        before = await table_counts(engine)
        response = await client.post(
            "/console/customers/C-42/block", data={"csrf_token": csrf_token(page), "reason": "x"}
        )
        assert response.status_code == 403
        assert await table_counts(engine) == before

    async def test_a_form_without_the_sessions_token_is_refused(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client)
        await sign_in(client)
        before = await table_counts(engine)
        response = await client.post("/console/customers/C-42/block", data={"csrf_token": "forged", "reason": "x"})
        assert response.status_code == 403
        assert await table_counts(engine) == before


class TestNotes:
    async def test_a_note_on_the_customer_and_one_on_a_review_case(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        from tests.conftest import order_body

        await put_customer(client)
        body = order_body("60000.00", "12345671", customer_id="C-42")
        case = (await client.post("/v1/decisions", json=body, headers=auth())).json()
        assert case["outcome"] == "review"
        await sign_in(client)
        response = await post_form(client, "/console/customers/C-42/notes", text="Called the buyer.\nPays Friday.")
        assert response.status_code == 303
        page = await client.get("/console/customers/C-42")
        assert "Called the buyer.\nPays Friday." in page.text

        decision_page = await client.get(f"/console/decisions/{case['id']}")
        assert "Notes on this case" in decision_page.text
        response = await client.post(
            "/console/customers/C-42/notes",
            data={
                "csrf_token": csrf_token(decision_page),
                "text": "Asked for the accounts.",
                "decision_id": case["id"],
            },
        )
        assert response.status_code == 303
        assert response.headers["location"].startswith(f"/console/decisions/{case['id']}")
        decision_page = await client.get(response.headers["location"])
        assert "Asked for the accounts." in decision_page.text
        assert "Called the buyer." not in decision_page.text
        notes = await audit(engine, "note.added")
        assert [payload["decision_id"] for _, payload in notes] == [None, case["id"]]

    async def test_a_browsers_crlf_line_breaks_are_kept_as_newlines(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client)
        await sign_in(client)
        response = await post_form(client, "/console/customers/C-42/notes", text="Called.\r\nPays Friday.")
        assert response.status_code == 303
        notes = (await client.get("/v1/customers/C-42/notes", headers=auth())).json()["notes"]
        assert [note["text"] for note in notes] == ["Called.\nPays Friday."]

    async def test_an_empty_note_is_refused(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await put_customer(client)
        await sign_in(client)
        response = await post_form(client, "/console/customers/C-42/notes", text="   ")
        assert response.status_code == 422
        assert 'id="note-text-error"' in response.text
        assert await audit(engine, "note.added") == []


class TestExport:
    async def test_the_history_view_exports_as_csv_with_its_filters(self, client: httpx.AsyncClient) -> None:
        from tests.console.console import decide

        await decide(client, 2)
        other = await decide(client, 1, customer_id="C-77")
        await sign_in(client)
        page = await client.get("/console/decisions", params={"customer_id": "C-77", "outcome": "accept"})
        link = re.search(r'href="(/console/decisions/export[^"]*)"', page.text)
        assert link is not None
        assert html.unescape(link.group(1)) == "/console/decisions/export?customer_id=C-77&outcome=accept"
        response = await client.get(html.unescape(link.group(1)))
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/csv")
        lines = response.text.strip().splitlines()
        assert lines[0].startswith("id,decided_at,")
        assert [line.split(",")[0] for line in lines[1:]] == [other[0]["id"]]

    async def test_bad_filters_are_named_and_a_read_scope_is_needed(self, client: httpx.AsyncClient) -> None:
        await sign_in(client)
        response = await client.get("/console/decisions/export", params={"decided_from": "2026-13-01"})
        assert response.status_code == 422
        assert "decided_from" in response.text
        await sign_in(client, key_for("review"))
        assert (await client.get("/console/decisions/export")).status_code == 403
