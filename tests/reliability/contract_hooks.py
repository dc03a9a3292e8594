"""What the OpenAPI document can say only in words, taught to schemathesis (loaded as SCHEMATHESIS_HOOKS).

JSON Schema describes one value at a time and one request at a time. A few rules relate two parameters, or
a request to what came before it; the document states each in its description and the service answers them
with a problem naming the field. Here the fuzzer learns them, so that a request it calls valid is one:

- a `cursor` (`format: cursor`, `customer-cursor`, `invoice-cursor`) is a `next_cursor` this API returned:
  drawn here as a real position;
- an `Idempotency-Key` sent again with another body is refused (422, as the IETF draft says): each positive
  request gets a key of its own;
- the cross-field rules below, applied to positive cases only (a negative case keeps the flaw it was made
  with): the second of two related values is set from the first.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

import schemathesis
from hypothesis import strategies as st

from app.decisions.query import Cursor
from app.money import minor_units
from app.policy.schema import load_policy_file
from app.readside import customer_list, open_items
from app.schema_types import CURSOR_FORMAT, CUSTOMER_CURSOR_FORMAT, INVOICE_CURSOR_FORMAT
from app.settings import DEFAULT_POLICY_FILE

_keys = itertools.count(1)
_VALID_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")

schemathesis.openapi.format(
    CURSOR_FORMAT,
    st.builds(
        lambda moment, decision_id: Cursor(moment, decision_id).encode(),
        st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)),
        st.uuids().map(str),
    ),
)

schemathesis.openapi.format(
    CUSTOMER_CURSOR_FORMAT,
    st.builds(
        customer_list.encode_position,
        st.decimals(min_value=-(10**16), max_value=1, places=4, allow_nan=False, allow_infinity=False),
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,20}", fullmatch=True),
    ),
)
schemathesis.openapi.format(
    INVOICE_CURSOR_FORMAT,
    st.builds(
        open_items.encode_position,
        st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
        st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._:/-]{0,20}", fullmatch=True),
    ),
)


def _insurer_row(index: int, country: str, digits: str, amount: int, currency: str, day: date) -> str:
    return f"{country},{digits}{index},Buyer {index},{amount},{currency},{day.isoformat()},REF-{index}"


# The insurer's CSV: a header and valid rows, each buyer and reference once.
schemathesis.openapi.format(
    "insurer-limits-csv",
    st.lists(
        st.tuples(
            st.sampled_from(["NL", "DE", "BE", "FR"]),
            st.from_regex(r"[0-9]{6,8}", fullmatch=True),
            st.integers(min_value=0, max_value=10**9),
            st.sampled_from(["EUR", "USD", "JPY"]),
            st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 1, 1)),
        ),
        min_size=1,
        max_size=5,
    ).map(
        lambda rows: (
            "country,registration_number,buyer_name,limit_amount,currency,valid_from,insurer_reference\n"
            + "".join(_insurer_row(index, *row) + "\n" for index, row in enumerate(rows))
        )
    ),
)


@schemathesis.hook
def filter_query(context: Any, query: Any) -> bool:
    """A query parameter drawn as an empty list or object is sent as no parameter at all: a negative case made
    so is a valid request (the history's `?reviewed=false` counted as a schema-violating one)."""
    return not isinstance(query, dict) or not any(value in ([], {}) for value in query.values())


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: Any) -> None:
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and _VALID_KEY.match(key):
        case.headers["Idempotency-Key"] = f"{key[:200]}.{next(_keys)}"
    rule = CROSS_FIELD_RULES.get((case.method.upper(), case.path))
    if rule is not None:
        rule(case)


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(value) if isinstance(value, str) else None
    except InvalidOperation:
        return None


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _vat_within(body: Any) -> None:
    """A VAT amount is at most the amount it is part of."""
    if not isinstance(body, dict):
        return
    amount, vat = _decimal(body.get("amount")), _decimal(body.get("vat_amount"))
    if amount is not None and vat is not None and vat > amount:
        body["vat_amount"] = body["amount"]


def _invoice(invoice: Any) -> None:
    """open_amount and vat_amount at most amount; due_date not before issue_date."""
    if not isinstance(invoice, dict):
        return
    amount, open_amount = _decimal(invoice.get("amount")), _decimal(invoice.get("open_amount"))
    if amount is not None and open_amount is not None and open_amount > amount:
        invoice["open_amount"] = invoice["amount"]
    _vat_within(invoice)
    issued, due = _day(invoice.get("issue_date")), _day(invoice.get("due_date"))
    if issued is not None and due is not None and due < issued:
        invoice["due_date"] = invoice["issue_date"]


def _invoice_body(case: Any) -> None:
    _invoice(case.body)


def _batch(case: Any) -> None:
    """Each invoice as above, and each (customer_id, invoice_id) once."""
    if isinstance(case.body, dict) and isinstance(case.body.get("invoices"), list):
        unique = {}
        for invoice in case.body["invoices"]:
            _invoice(invoice)
            if isinstance(invoice, dict):
                unique.setdefault((invoice.get("customer_id"), invoice.get("invoice_id")), invoice)
        case.body["invoices"] = list(unique.values())


def _customer(case: Any) -> None:
    """A customer is not its own parent."""
    if isinstance(case.body, dict) and case.body.get("parent_id") == case.path_parameters.get("customer_id"):
        case.body["parent_id"] = None


def _rates(case: Any) -> None:
    """A currency has no rate to itself."""
    if isinstance(case.body, dict) and isinstance(case.body.get("rates"), dict):
        case.body["rates"].pop(case.body.get("base"), None)
        if not case.body["rates"]:
            case.body["rates"] = {"USD" if case.body.get("base") != "USD" else "EUR": "1.0850"}


def _invoiced_event(case: Any) -> None:
    """An invoiced event's due date is not before its issue date (today when not given)."""
    body = case.body
    if isinstance(body, dict) and body.get("type") == "invoiced" and body.get("due_date") is not None:
        issued = _day(body.get("issue_date")) or date.today()
        due = _day(body.get("due_date"))
        if due is not None and due < issued:
            body["due_date"] = issued.isoformat()


def _policy(case: Any) -> None:
    """A policy's parts must agree (segments and grid cells, classes in order, bands descending): the shipped
    policy is sent, under the generated version and description."""
    if isinstance(case.body, dict):
        document = load_policy_file(DEFAULT_POLICY_FILE).model_dump(mode="json")
        for name in ("version", "description"):
            if isinstance(case.body.get(name), str) and case.body[name] != "active":
                document[name] = case.body[name]
        case.body = document


def _anchor(case: Any) -> None:
    """anchor_seq and anchor_hash go together."""
    query = case.query or {}
    if ("anchor_seq" in query) != ("anchor_hash" in query):
        query.pop("anchor_seq", None)
        query.pop("anchor_hash", None)


def _usage_days(case: Any) -> None:
    """day_from not after day_to, at most 366 days apart."""
    query = case.query or {}
    first, last = _day(query.get("day_from")), _day(query.get("day_to"))
    if first is not None and last is not None and not timedelta(0) <= last - first < timedelta(days=366):
        query["day_to"] = query["day_from"]


def _amount_bounds(case: Any) -> None:
    """An amount bound needs its currency, and has at most the currency's decimals."""
    query = case.query or {}
    if not ("amount_min" in query or "amount_max" in query):
        return
    needed = max(
        (len(query[name].partition(".")[2]) for name in ("amount_min", "amount_max") if name in query), default=0
    )
    currency = query.get("currency")
    if not isinstance(currency, str) or minor_units(currency) < needed:
        query["currency"] = {0: "JPY", 1: "EUR", 2: "EUR", 3: "KWD"}.get(needed, "CLF")


def _arrangement(case: Any) -> None:
    """Each invoice once; a promise has one instalment; due dates from today on, each after the one before,
    within three years."""
    body = case.body
    if not isinstance(body, dict):
        return
    if isinstance(body.get("invoice_ids"), list):
        body["invoice_ids"] = list(dict.fromkeys(body["invoice_ids"]))
    instalments = body.get("instalments")
    if not isinstance(instalments, list):
        return
    if body.get("kind") == "promise":
        del instalments[1:]
    today = datetime.now(UTC).date()
    for number, instalment in enumerate(instalments, start=1):
        if isinstance(instalment, dict):
            instalment["due_date"] = (today + timedelta(days=number)).isoformat()


def _limit_request(case: Any) -> None:
    """starts_at and ends_at only for a temporary uplift, which needs ends_at (after starts_at, within the policy's
    longest uplift) and targets the customer's own limit; valid_until as the service defaults it."""
    body = case.body
    if not isinstance(body, dict):
        return
    body.pop("valid_until", None)  # in the future and within the policy's days: the default is both
    if isinstance(body.get("amount"), str):
        _amount_with_currency(body)
    if body.get("kind") != "temporary":
        body.pop("starts_at", None)
        body.pop("ends_at", None)
        return
    body["target"] = "customer"
    start = datetime.now(UTC) + timedelta(days=1)
    body["starts_at"] = start.isoformat().replace("+00:00", "Z")
    body["ends_at"] = (start + timedelta(days=7)).isoformat().replace("+00:00", "Z")


def _decision(case: Any) -> None:
    """The order's VAT at most its amount."""
    if isinstance(case.body, dict):
        _vat_within(case.body.get("order"))


def _period(body: Any) -> None:
    """valid_to not before valid_from."""
    if isinstance(body, dict):
        first, last = _day(body.get("valid_from")), _day(body.get("valid_to"))
        if first is not None and last is not None and last < first:
            body["valid_to"] = body["valid_from"]


def _cover(case: Any) -> None:
    _period(case.body)


def _amount_with_currency(body: dict[str, Any]) -> None:
    """An amount comes with a currency that has its decimals."""
    decimals = len(str(body["amount"]).partition(".")[2])
    currency = body.get("currency")
    if not isinstance(currency, str) or minor_units(currency) < decimals:
        body["currency"] = {0: "JPY", 1: "EUR", 2: "EUR", 3: "KWD"}.get(decimals, "CLF")


def _insurer_request(case: Any) -> None:
    """A cancellation asks for no amount; any other request names an amount and its currency."""
    body = case.body
    if not isinstance(body, dict):
        return
    if body.get("kind") == "cancel":
        body.pop("amount", None)
        return
    if not isinstance(body.get("amount"), str):
        body["amount"] = "1000.00"
    _amount_with_currency(body)


def _insurer_answer(case: Any) -> None:
    """A partly approved or conditional answer names the limit granted (with its currency), a conditional one its
    conditions; an amount comes with its currency; valid_to not before valid_from."""
    body = case.body
    if not isinstance(body, dict):
        return
    if body.get("decision") in ("partly_approved", "conditional") and not isinstance(body.get("amount"), str):
        body["amount"] = "1000.00"
    if isinstance(body.get("amount"), str):
        _amount_with_currency(body)
    if body.get("decision") == "conditional" and not body.get("conditions"):
        body["conditions"] = "Deliveries on 30 days at most."
    _period(body)


def _lost_sales_days(case: Any) -> None:
    """date_to not before date_from (90 days ago when not given) and at most two years after it; a what-if limit
    in a currency that has its decimals."""
    query = case.query or {}
    first, last = _day(query.get("date_from")), _day(query.get("date_to"))
    if first is not None:
        query["date_to"] = first.isoformat()
    elif last is not None:
        query.pop("date_to")
    if isinstance(query.get("what_if_limit"), str):
        decimals = len(query["what_if_limit"].partition(".")[2])
        currency = query.get("currency")
        if not isinstance(currency, str) or minor_units(currency) < decimals:
            query["currency"] = {0: "JPY", 1: "EUR", 2: "EUR", 3: "KWD"}.get(decimals, "CLF")


def _overdue_reported(case: Any) -> None:
    """An invoice is reported on a day not after today (UTC)."""
    body = case.body
    if isinstance(body, dict):
        day = _day(body.get("reported_on"))
        today = datetime.now(UTC).date()
        if day is not None and day > today:
            body["reported_on"] = today.isoformat()


CROSS_FIELD_RULES = {
    ("POST", "/v1/decisions"): _decision,
    ("PUT", "/v1/customers/{customer_id}/cover"): _cover,
    ("POST", "/v1/customers/{customer_id}/insurer-requests"): _insurer_request,
    ("POST", "/v1/insurance/limit-requests/{request_id}/answer"): _insurer_answer,
    ("GET", "/v1/lost-sales"): _lost_sales_days,
    ("GET", "/v1/lost-sales/export"): _lost_sales_days,
    ("POST", "/v1/insurance/overdue-reports/{customer_id}/{invoice_id}"): _overdue_reported,
    ("POST", "/v1/customers/{customer_id}/arrangements"): _arrangement,
    ("PUT", "/v1/customers/{customer_id}/invoices/{invoice_id}"): _invoice_body,
    ("POST", "/v1/receivables/batch"): _batch,
    ("PUT", "/v1/customers/{customer_id}"): _customer,
    ("PUT", "/v1/rates"): _rates,
    ("POST", "/v1/orders/{order_id}/events"): _invoiced_event,
    ("POST", "/v1/policies"): _policy,
    ("GET", "/v1/audit/verify"): _anchor,
    ("GET", "/v1/providers/usage"): _usage_days,
    ("GET", "/v1/decisions"): _amount_bounds,
    ("GET", "/v1/decisions/export"): _amount_bounds,
    ("POST", "/v1/limit-requests"): _limit_request,
}
