"""Property test: values at the edges of each field's type, in every money, time and text field, never a 500.

Bodies are drawn by hypothesis (derandomized, so a run is reproducible) and sent in process; each answer must
be a success or a 4xx problem naming a field, and a refused write stores nothing."""

from __future__ import annotations

from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.conftest import auth, order_body, table_counts
from tests.erp import put_customer, put_invoice

EXAMPLES = 60

digits = st.text("0123456789", min_size=1, max_size=22)
# Strings that look like amounts, and their near misses: signs, exponents, spaces, newlines, other digits.
edge_numbers = st.one_of(
    st.builds(lambda whole, part: f"{whole}.{part}", digits, digits),
    digits,
    st.sampled_from(
        ["-0", "-1.00", "1e308", "1E-400", "NaN", "Infinity", "0x10", "1_000", "１２", "٣.٠٠", "9" * 40, "1.", ".5"]
    ),
    st.builds(lambda text, edge: text + edge, digits, st.sampled_from(["\n", " ", "\x00", "\u202e", "\t"])),
)
edge_values: st.SearchStrategy[Any] = st.one_of(
    edge_numbers,
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),  # JSON has no NaN: the strings above try it
    st.none(),
    st.booleans(),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)
edge_times = st.one_of(
    st.sampled_from(
        [
            "0001-01-01T00:00:00+01:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59-01:00",
            "9999-12-31T23:59:59.999999+00:00",
            "2026-11-01T00:00:00",
            "2026-02-30T00:00:00Z",
            "2026-11-01T24:00:00Z",
            "2026-11-01T00:00:00+24:00",
            "2026-11-01",
            "0000-01-01T00:00:00Z",
        ]
    ),
    st.datetimes().map(lambda value: value.isoformat()),
    edge_values,
)
edge_text = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)


def drawn(strategy: st.SearchStrategy[Any]) -> list[Any]:
    """`EXAMPLES` values of `strategy`, the same ones on every run."""
    values: list[Any] = []

    @settings(max_examples=EXAMPLES, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: Any) -> None:
        values.append(value)

    collect()
    return values


async def stored(engine: AsyncEngine) -> dict[str, int]:
    """Rows per table, less the cache-hit counters an earlier decision flushes in the background."""
    counts = await table_counts(engine)
    counts.pop("provider_cache_hits")
    return counts


async def never_500(engine: AsyncEngine, send: Any, bodies: list[Any]) -> None:
    for body in bodies:
        before = await stored(engine)
        response = await send(body)
        assert response.status_code < 500, (body, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json", (body, response.text)
            assert await stored(engine) == before, body


class TestEdgeValuesNeverFail:
    async def test_decision_amounts_and_names(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        def body(amount: Any, name: Any, currency: str) -> dict[str, Any]:
            decision = order_body(currency=currency)
            decision["order"]["amount"] = amount
            decision["customer"]["name"] = name
            return decision

        bodies = drawn(
            st.builds(body, edge_values, st.one_of(edge_text, edge_values), st.sampled_from(["EUR", "JPY", "CLF"]))
        )
        await never_500(engine, lambda b: client.post("/v1/decisions", json=b, headers=auth()), bodies)

    async def test_invoices_and_payments(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        await put_customer(client)
        await put_invoice(client, "INV-1", "100.00")
        invoices = drawn(
            st.fixed_dictionaries(
                {
                    "currency": st.sampled_from(["EUR", "KWD", "CLF", "JPY"]),
                    "amount": edge_values,
                    "open_amount": edge_values,
                    "issue_date": st.sampled_from(["0001-01-01", "9999-12-31", "2026-11-01", "2026-13-01"]),
                    "due_date": st.sampled_from(["9999-12-31", "2026-12-01"]),
                }
            )
        )
        path = "/v1/customers/C-42/invoices/INV-2"
        await never_500(engine, lambda b: client.put(path, json=b, headers=auth()), invoices)
        payments = drawn(
            st.fixed_dictionaries({"id": st.just("PAY-1"), "amount": edge_values, "paid_on": st.just("2026-11-20")})
        )
        payments_path = "/v1/customers/C-42/invoices/INV-1/payments"
        await never_500(engine, lambda b: client.post(payments_path, json=b, headers=auth()), payments)

    async def test_limits_and_rates(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        customers = drawn(
            st.fixed_dictionaries(
                {
                    "country": st.just("NL"),
                    "name": st.one_of(edge_text, edge_values),
                    "limit_currency": st.sampled_from(["EUR", "CLF", "JPY"]),
                    "manual_limit": st.fixed_dictionaries(
                        {"amount": edge_values, "reason": edge_text, "expires_at": edge_times}
                    ),
                    "group_limit": edge_values,
                }
            )
        )
        await never_500(engine, lambda b: client.put("/v1/customers/C-7", json=b, headers=auth()), customers)
        rates = drawn(
            st.fixed_dictionaries({"base": st.just("EUR"), "rates": st.fixed_dictionaries({"USD": edge_values})})
        )
        await never_500(engine, lambda b: client.put("/v1/rates", json=b, headers=auth()), rates)
        decided = await client.post("/v1/decisions", json=order_body(currency="USD"), headers=auth())
        assert decided.status_code < 500, decided.text

    async def test_history_filters(self, client: httpx.AsyncClient, engine: AsyncEngine) -> None:
        queries = drawn(
            st.fixed_dictionaries(
                {},
                optional={
                    "decided_from": edge_times,
                    "decided_to": edge_times,
                    "currency": st.just("EUR"),
                    "amount_min": edge_numbers,
                    "cursor": st.one_of(edge_text, st.binary(max_size=30).map(lambda raw: raw.hex())),
                },
            )
        )

        async def send(params: dict[str, Any]) -> httpx.Response:
            return await client.get("/v1/decisions", params={k: str(v) for k, v in params.items()}, headers=auth())

        await never_500(engine, send, queries)
