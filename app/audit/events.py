"""Payloads of the events other domains append: what a later reader needs to tie the event to the record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from app.money import format_minor

_DECISION_AMOUNTS = ("amount", "credit_limit", "exposure", "available_credit", "approved_credit", "prepayment")


def decision_created(values: Mapping[str, Any]) -> dict[str, Any]:
    """From a stored decision row's values: identifiers, outcome, amounts, policy version, report hash, reasons."""
    currency = values["currency"]
    report = values.get("report") or {}
    return {
        "decision_id": values["id"],
        "order_id": values["order_id"],
        "customer_id": values["customer_id"],
        "outcome": values["outcome"],
        "currency": currency,
        **{name: format_minor(values[f"{name}_minor"], currency) for name in _DECISION_AMOUNTS},
        "policy_version": values["policy_version"],
        "report_provider": values.get("report_provider"),
        "report_raw_hash": report.get("raw_hash"),
        "reason_codes": [reason["code"] for reason in values["reasons"]],
        "decided_at": values["decided_at"],
    }
