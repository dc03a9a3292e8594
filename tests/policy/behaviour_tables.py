"""A behaviour section for tests: every figure scores, worse figures never score more."""

from __future__ import annotations

from typing import Any

import yaml

from app.policy.schema import PolicyDocument, parse_policy
from app.settings import DEFAULT_POLICY_FILE


def ranges(*bands: tuple[str | None, str | None, int]) -> list[dict[str, Any]]:
    out = []
    for at_least, below, points in bands:
        band: dict[str, Any] = {"points": points}
        if at_least is not None:
            band["at_least"] = at_least
        if below is not None:
            band["below"] = below
        out.append(band)
    return out


def behaviour_section(**overrides: Any) -> dict[str, Any]:
    section: dict[str, Any] = {
        "minimum_paid_invoices": 3,
        "points": {
            "dbt_90_days": {"ranges": ranges((None, "1", 25), ("1", "10", 15), ("10", "30", 5), ("30", None, 0))},
            "dbt_12_months": {"ranges": ranges((None, "1", 15), ("1", "15", 10), ("15", None, 0))},
            "late_share": {"ranges": ranges((None, "0.1", 20), ("0.1", "0.5", 10), ("0.5", None, 0))},
            "partial_payment_rate": {"ranges": ranges((None, "0.2", 10), ("0.2", None, 0))},
            "overdue_growth_30_days": {"ranges": ranges((None, "1", 15), ("1", "5000", 5), ("5000", None, 0))},
            "days_since_last_payment": {
                "ranges": ranges((None, "45", 15), ("45", None, 0)),
                "missing": 0,
            },
        },
        "classes": {"A": 85, "B": 65, "C": 45, "D": 25},
        "combine": "worse_of",
        "review_classes": ["E"],
    }
    section.update(overrides)
    return section


def default_document() -> dict[str, Any]:
    with DEFAULT_POLICY_FILE.open(encoding="utf-8") as file:
        document: dict[str, Any] = yaml.safe_load(file)
    return document


def policy_with_behaviour(version: str = "behaviour-1", **overrides: Any) -> PolicyDocument:
    document = default_document()
    document["version"] = version
    document["behaviour"] = behaviour_section(**overrides)
    return parse_policy(document)
