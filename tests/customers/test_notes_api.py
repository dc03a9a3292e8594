"""Notes on a customer or its review cases: stored with their author, listed newest first, in the audit trail."""

from __future__ import annotations

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, key_for, order_body, table_counts
from tests.erp import put_customer

REVIEWER = key_for("review")


async def note_events(engine: AsyncEngine) -> list[tuple[str, str, str]]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT subject_id, actor, payload FROM audit_events WHERE event_type = 'note.added' ORDER BY seq")
        )
        return [tuple(row) for row in rows]


class TestNotes:
    async def test_a_note_is_stored_listed_and_audited(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await put_customer(client, "C-1")
        first = await client.post(
            "/v1/customers/C-1/notes", json={"text": "Called: pays Friday."}, headers=auth(REVIEWER)
        )
        assert first.status_code == 201, first.text
        note = first.json()
        assert note["text"] == "Called: pays Friday."
        assert note["customer_id"] == "C-1"
        assert note["decision_id"] is None
        assert note["author"].startswith("key_")
        second = await client.post(
            "/v1/customers/C-1/notes", json={"text": "Paid.\nAll of it."}, headers=auth(REVIEWER)
        )
        assert second.status_code == 201

        listed = await client.get("/v1/customers/C-1/notes", headers=auth(key_for("read")))
        assert listed.status_code == 200
        assert [n["text"] for n in listed.json()["notes"]] == ["Paid.\nAll of it.", "Called: pays Friday."]
        events = await note_events(engine)
        assert [(subject, actor) for subject, actor, _ in events] == [("C-1", note["author"])] * 2
        assert "Called: pays Friday." in str(events[0][2])

    async def test_a_note_on_a_review_case_names_its_decision(self, client: httpx.AsyncClient) -> None:
        body = order_body("60000.00", "12345671", customer_id="C-2")  # above the review threshold
        decision = (await client.post("/v1/decisions", json=body, headers=auth())).json()
        assert decision["outcome"] == "review"
        response = await client.post(
            "/v1/customers/C-2/notes",
            json={"text": "Asked for accounts.", "decision_id": decision["id"]},
            headers=auth(),
        )
        assert response.status_code == 201, response.text
        await client.post("/v1/customers/C-2/notes", json={"text": "On the customer."}, headers=auth())
        case_notes = await client.get("/v1/customers/C-2/notes", params={"decision_id": decision["id"]}, headers=auth())
        assert [n["text"] for n in case_notes.json()["notes"]] == ["Asked for accounts."]

    async def test_a_decision_of_another_customer_is_refused_naming_the_field(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-3")
        decision = (await client.post("/v1/decisions", json=order_body(customer_id="C-4"), headers=auth())).json()
        before = await table_counts(engine)
        response = await client.post(
            "/v1/customers/C-3/notes", json={"text": "x", "decision_id": decision["id"]}, headers=auth()
        )
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        assert [e["field"] for e in response.json()["errors"]] == ["decision_id"]
        assert await table_counts(engine) == before

    async def test_bad_text_is_refused_and_nothing_is_stored(
        self, client: httpx.AsyncClient, engine: AsyncEngine
    ) -> None:
        await put_customer(client, "C-5")
        before = await table_counts(engine)
        for body in ({"text": ""}, {"text": "   "}, {"text": "x" * 2001}, {"text": "bad\u202etext"}, {}):
            response = await client.post("/v1/customers/C-5/notes", json=body, headers=auth())
            assert response.status_code == 422, (body, response.text)
            assert response.headers["content-type"] == "application/problem+json"
            assert [e["field"] for e in response.json()["errors"]] == ["text"], body
        assert await table_counts(engine) == before

    async def test_an_unknown_customer_is_404(self, client: httpx.AsyncClient) -> None:
        assert (await client.post("/v1/customers/C-0/notes", json={"text": "x"}, headers=auth())).status_code == 404
        assert (await client.get("/v1/customers/C-0/notes", headers=auth())).status_code == 404
