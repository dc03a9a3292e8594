"""Which stored decisions a what-if replay reads (the API, the console and the CLI build the filters)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ReplayFilters:
    customer_id: str | None = None
    outcome: str | None = None
    decided_from: datetime | None = None
    decided_to: datetime | None = None
    policy_version: str | None = None
