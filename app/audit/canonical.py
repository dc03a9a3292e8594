"""The canonical serialisation an event's hash is computed over.

UTF-8 JSON with sorted keys and no whitespace; decimals as strings; times as RFC 3339 UTC with microseconds
and a `Z` ("2026-11-23T06:20:00.000000Z"). Floats are refused: their text form is not portable, and money
is never a float here. Anyone can recompute a hash from the stored fields with these rules alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

import orjson

GENESIS_HASH = "0" * 64


def rfc3339(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("naive datetime in an audit event")
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def normalise(value: Any) -> Any:
    """The JSON value an event stores and hashes: only str, int, bool, None, lists and string-keyed objects."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str):
        return str(value)  # a StrEnum member becomes its plain value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        normalised: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"audit payload keys are strings, not {type(key).__name__}")
            normalised[key] = normalise(item)
        return normalised
    if isinstance(value, list | tuple):
        return [normalise(item) for item in value]
    raise TypeError(f"{type(value).__name__} has no canonical form in an audit event (use str or Decimal)")


def canonical_bytes(value: Any) -> bytes:
    """Sorted keys, no whitespace; `value` must already be normalised."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def event_hash(
    *,
    seq: int,
    event_type: str,
    subject_id: str,
    payload_json: bytes,
    occurred_at: str,
    actor: str,
    prev_hash: str,
) -> str:
    """SHA-256 (hex) over the canonical form of the event's fields and the previous event's hash:

        {"actor":…,"event_type":…,"occurred_at":…,"payload":…,"prev_hash":…,"seq":…,"subject_id":…}

    These are the bytes `canonical_bytes` gives for that object. They are joined here from the parts because
    the payload is stored in its canonical text already (`payload_json`) and `occurred_at` comes rendered by
    the database (`rfc3339` form): verification then parses and re-serialises nothing."""
    envelope = b"".join(
        (
            b'{"actor":',
            orjson.dumps(actor),
            b',"event_type":',
            orjson.dumps(event_type),
            b',"occurred_at":',
            orjson.dumps(occurred_at),
            b',"payload":',
            payload_json,
            b',"prev_hash":',
            orjson.dumps(prev_hash),
            b',"seq":',
            b"%d" % seq,
            b',"subject_id":',
            orjson.dumps(subject_id),
            b"}",
        )
    )
    return hashlib.sha256(envelope).hexdigest()


class Head(NamedTuple):
    """The chain's end: the last event's sequence number and hash (or an anchor a verification starts from)."""

    seq: int
    hash: str
