"""What a history query asks for: the filters and the keyset cursor of a page (the API, the console and the
exports build them; the repository reads them)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import datetime

import orjson

from app.errors import InvalidCursor
from app.fields import in_utc


@dataclass(frozen=True, slots=True)
class DecisionFilters:
    customer_id: str | None = None
    order_id: str | None = None
    outcome: str | None = None
    decided_from: datetime | None = None
    decided_to: datetime | None = None
    reason_code: str | None = None
    provider: str | None = None
    policy_version: str | None = None
    currency: str | None = None
    # Inclusive bounds in minor units of `currency` (the API refuses them without a currency).
    amount_min_minor: int | None = None
    amount_max_minor: int | None = None
    # True: settled by a review; False: not (yet) reviewed.
    reviewed: bool | None = None
    # The settling review's outcome, else the decision's own.
    final_outcome: str | None = None


_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")  # a decision's uuid4


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after the last row of a page: (decided_at, id), newest first."""

    decided_at: datetime
    id: str

    def encode(self) -> str:
        raw = orjson.dumps([self.decided_at.isoformat(), self.id])
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str) -> Cursor:
        try:
            decided_at, decision_id = orjson.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            if not isinstance(decided_at, str) or not isinstance(decision_id, str) or not _ID.fullmatch(decision_id):
                raise ValueError("not a cursor's position")
            # A position with an offset, in the calendar once in UTC: the keyset comparison needs one.
            return cls(in_utc(datetime.fromisoformat(decided_at)), decision_id)
        except (ValueError, TypeError, orjson.JSONDecodeError):
            raise InvalidCursor() from None
