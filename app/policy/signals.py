"""Early-warning signals: which of the policy's thresholds a customer's own record crosses.

Pure: the signal service hands in the behaviour figures and the broken arrangements; each warning carries the
facts that crossed. Kinds, thresholds and what happens to a signal: docs/behaviour.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from app.policy.behaviour import BehaviourFigures
from app.policy.schema import SignalRules

SIGNAL_KINDS: tuple[str, ...] = ("dbt_trend", "overdue_growth", "late_share", "broken_arrangement")


@dataclass(frozen=True, slots=True)
class Crossing:
    """A threshold the customer's record crosses, with the facts that cross it."""

    kind: str
    facts: dict[str, Any] = field(default_factory=dict)


def crossings(figures: BehaviourFigures, broken_arrangements: Sequence[str], rules: SignalRules) -> list[Crossing]:
    """The warnings in `SIGNAL_KINDS` order; the trend and the late share only with enough experience."""
    found: list[Crossing] = []
    experienced = figures.paid_invoices >= rules.minimum_paid_invoices
    recent, year = figures.value("dbt_90_days"), figures.value("dbt_12_months")
    trend = None if recent is None or year is None or not experienced else recent - year
    if rules.dbt_trend_days is not None and trend is not None and trend >= rules.dbt_trend_days:
        found.append(
            Crossing(
                "dbt_trend",
                {
                    "dbt_90_days": str(recent),
                    "dbt_12_months": str(year),
                    "trend_days": str(trend),
                    "threshold_days": str(rules.dbt_trend_days),
                    "as_of": figures.as_of.isoformat(),
                },
            )
        )
    growth = figures.value("overdue_growth_30_days")
    if rules.overdue_growth is not None and growth is not None and growth >= rules.overdue_growth and growth > 0:
        found.append(
            Crossing(
                "overdue_growth",
                {
                    "overdue_growth_30_days": str(growth),
                    "threshold": str(rules.overdue_growth),
                    "currency": figures.currency,
                    "as_of": figures.as_of.isoformat(),
                },
            )
        )
    late = figures.value("late_share")
    if rules.late_share is not None and experienced and late is not None and late >= rules.late_share and late > 0:
        found.append(
            Crossing(
                "late_share",
                {"late_share": str(late), "threshold": str(rules.late_share), "as_of": figures.as_of.isoformat()},
            )
        )
    if rules.broken_arrangement and broken_arrangements:
        found.append(Crossing("broken_arrangement", {"arrangement_ids": sorted(broken_arrangements)}))
    return found
