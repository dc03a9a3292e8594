"""CREDITGATE_KEY_NAMES: the console names reviewers, note authors and the signed-in key; else the key id."""

from __future__ import annotations

import json

import httpx
import pytest
from pydantic import SecretStr, ValidationError

from app.settings import Settings, key_id
from tests.conftest import ALL_KEY, KEYS, auth, key_for
from tests.console.console import sign_in
from tests.console.test_console_reviews import FOUR_EYES_ORDER, post_review, under_review
from tests.erp import put_customer

NAMED = key_for("review")


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        api_keys=SecretStr(json.dumps(KEYS)),
        decision_rate_limit=0,
        key_names={key_id(NAMED): "Anna de Vries"},
    )


async def test_the_review_history_and_the_header_show_the_configured_name(client: httpx.AsyncClient) -> None:
    decision_id = await under_review(client, **FOUR_EYES_ORDER)
    await sign_in(client, NAMED)
    assert "Anna de Vries" in (await client.get("/console/reviews")).text  # the signed-in key, in the header
    response = await post_review(client, decision_id, outcome="reject", reason="too large")
    assert response.status_code == 303, response.text
    await sign_in(client, ALL_KEY)
    queue = await client.get("/console/reviews")
    assert "Step 1 by <span" in queue.text
    assert "Anna de Vries</span>" in queue.text
    assert key_id(ALL_KEY) in queue.text  # a key without a name shows its id


async def test_a_note_shows_its_authors_name(client: httpx.AsyncClient) -> None:
    await put_customer(client)
    response = await client.post("/v1/customers/C-42/notes", json={"text": "Checked."}, headers=auth(NAMED))
    assert response.status_code == 201
    await sign_in(client, ALL_KEY)
    page = await client.get("/console/customers/C-42")
    assert "Anna de Vries · " in page.text


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ({"alice": "Alice"}, "not a key id"),
        ({"key_0123456789ab": " "}, "printable"),
        ({"key_0123456789ab": "a\nb"}, "printable"),
    ],
)
def test_a_bad_setting_is_refused_at_start(names: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(key_names=names)


def test_the_setting_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITGATE_KEY_NAMES", '{"key_0123456789ab": "Anna de Vries"}')
    assert Settings().key_names == {"key_0123456789ab": "Anna de Vries"}
