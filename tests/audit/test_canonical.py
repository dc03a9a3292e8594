"""The canonical serialisation: what anyone recomputing a hash needs to reproduce."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from app.audit.canonical import GENESIS_HASH, canonical_bytes, event_hash, normalise, rfc3339


class TestCanonicalForm:
    def test_sorted_keys_no_whitespace_decimals_as_strings_times_in_utc(self) -> None:
        moment = datetime(2026, 11, 23, 7, 0, tzinfo=timezone(timedelta(hours=1)))
        value = normalise({"b": Decimal("1250.00"), "a": [moment, None, True, 3], "ü": "€"})
        assert (
            canonical_bytes(value) == '{"a":["2026-11-23T06:00:00.000000Z",null,true,3],"b":"1250.00","ü":"€"}'.encode()
        )

    @pytest.mark.parametrize("value", [1.5, {1: "x"}, datetime(2026, 1, 1), object()])
    def test_refuses_what_has_no_portable_form(self, value: object) -> None:
        with pytest.raises((TypeError, ValueError)):
            normalise({"x": value})

    def test_the_hash_is_sha256_over_the_canonical_envelope(self) -> None:
        payload = normalise({"outcome": "accept", "amount": Decimal("10.00")})
        occurred_at = rfc3339(datetime(2026, 11, 23, tzinfo=UTC))
        envelope = {
            "seq": 7,
            "event_type": "decision.created",
            "subject_id": "d-1",
            "payload": payload,
            "occurred_at": occurred_at,
            "actor": "key_abc",
            "prev_hash": GENESIS_HASH,
        }
        expected = hashlib.sha256(canonical_bytes(envelope)).hexdigest()
        fields = {key: value for key, value in envelope.items() if key != "payload"}
        assert event_hash(**fields, payload_json=canonical_bytes(payload)) == expected  # type: ignore[arg-type]
