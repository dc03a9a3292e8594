"""Change detection: what got worse (or better) between what monitoring last saw and what it sees now. Pure."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.policy.facts import RISK_ORDER
from app.policy.schema import Monitoring


@dataclass(frozen=True, slots=True)
class CreditFacts:
    """The facts monitoring compares: from the latest report, and from the customer's own invoices."""

    risk_class: str | None = None
    score: int | None = None
    status: str | None = None
    days_beyond_terms: int | None = None
    overdue_beyond_tolerance: bool = False

    @property
    def insolvent(self) -> bool:
        return self.status == "insolvent" or self.risk_class == "insolvent"


@dataclass(frozen=True, slots=True)
class Change:
    kind: str  # rating_downgrade, rating_upgrade, score_drop, insolvency, days_beyond_terms_rising, overdue
    old: Any
    new: Any

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "old": self.old, "new": self.new}


def detect(old: CreditFacts, new: CreditFacts, rules: Monitoring) -> list[Change]:
    """The changes worth acting on; an unknown old or new value is no change."""
    changes: list[Change] = []
    if new.insolvent and not old.insolvent:
        changes.append(Change("insolvency", old.status, new.status or new.risk_class))
    rank_old, rank_new = _rank(old.risk_class), _rank(new.risk_class)
    if rank_old is not None and rank_new is not None and rank_old != rank_new:
        kind = "rating_downgrade" if rank_new > rank_old else "rating_upgrade"
        changes.append(Change(kind, old.risk_class, new.risk_class))
    if old.score is not None and new.score is not None and old.score - new.score >= rules.score_drop_threshold:
        changes.append(Change("score_drop", old.score, new.score))
    old_dbt, new_dbt = old.days_beyond_terms, new.days_beyond_terms
    if old_dbt is not None and new_dbt is not None and new_dbt > old_dbt:
        changes.append(Change("days_beyond_terms_rising", old_dbt, new_dbt))
    if new.overdue_beyond_tolerance and not old.overdue_beyond_tolerance:
        changes.append(Change("overdue", False, True))
    return changes


def blocks(changes: list[Change], rules: Monitoring) -> list[Change]:
    """The changes the policy blocks the customer for."""
    return [change for change in changes if change.kind in rules.block_on]


def _rank(risk_class: str | None) -> int | None:
    return RISK_ORDER.index(risk_class) if risk_class in RISK_ORDER else None
