"""The credit policy document: a typed, versioned schema a credit manager can read and change."""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from app.money import minor_units

RATED_CLASSES: tuple[str, ...] = ("A", "B", "C", "D", "E")
# The grid's rows: the rated classes from best to worst, and "unknown" (no usable rating).
GRID_CLASSES: tuple[str, ...] = (*RATED_CLASSES, "unknown")

Amount = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=4)]
Share = Annotated[Decimal, Field(ge=0, le=1, decimal_places=4)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LimitRule(_Strict):
    """How a cell turns a report into a credit limit."""

    rule: Literal["share_of_recommended", "fixed", "lower_of"]
    share: Share | None = None
    amount: Amount | None = None

    @model_validator(mode="after")
    def _needs_its_parameters(self) -> LimitRule:
        if self.rule in ("share_of_recommended", "lower_of") and self.share is None:
            raise ValueError(f"rule {self.rule} needs 'share'")
        if self.rule in ("fixed", "lower_of") and self.amount is None:
            raise ValueError(f"rule {self.rule} needs 'amount'")
        return self


class Cell(_Strict):
    """One risk class × segment: limit rule, cap, payment terms and review threshold."""

    limit: LimitRule
    cap: Amount | None = None
    payment_terms_days: int = Field(ge=0, le=365)
    review_above: Amount | None = None


class Prepayment(_Strict):
    minimum_share: Share = Decimal("0")
    full_prepayment_classes: list[Literal["A", "B", "C", "D", "E", "unknown"]] = Field(default_factory=list)


class StopRules(_Strict):
    overdue_days_tolerance: int = Field(ge=0)
    overdue_amount_tolerance: Amount
    outcome: Literal["prepayment", "review", "reject"] = "prepayment"


class SmallOrders(_Strict):
    threshold: Amount


class NewCustomers(_Strict):
    first_order_cap: Amount | None = None


class ProviderUnavailable(_Strict):
    action: Literal["review", "prepayment", "accept_up_to"] = "review"
    accept_up_to: Amount | None = None

    @model_validator(mode="after")
    def _amount_for_accept(self) -> ProviderUnavailable:
        if self.action == "accept_up_to" and self.accept_up_to is None:
            raise ValueError("action accept_up_to needs 'accept_up_to'")
        return self


class Reports(_Strict):
    max_age_days: int = Field(ge=0, le=3650)


class ScoreBands(_Strict):
    """Lowest score (0–100) of each class, for providers that give a score and no class."""

    A: int = Field(ge=0, le=100)
    B: int = Field(ge=0, le=100)
    C: int = Field(ge=0, le=100)
    D: int = Field(ge=0, le=100)

    @model_validator(mode="after")
    def _descending(self) -> ScoreBands:
        if not self.A > self.B > self.C > self.D:
            raise ValueError("score bands must strictly descend from A to D")
        return self

    def classify(self, score: int) -> str:
        for risk_class in ("A", "B", "C", "D"):
            if score >= getattr(self, risk_class):
                return risk_class
        return "E"


class PolicyDocument(_Strict):
    """A whole credit policy version."""

    version: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    description: str = ""
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    segments: list[str] = Field(min_length=1)
    default_segment: str
    score_bands: ScoreBands
    grid: dict[str, dict[str, Cell]]
    prepayment: Prepayment = Prepayment()
    stop: StopRules
    small_orders: SmallOrders
    new_customers: NewCustomers = NewCustomers()
    provider_unavailable: ProviderUnavailable = ProviderUnavailable()
    company_not_found: Literal["review", "prepayment", "reject"] = "review"
    reports: Reports

    @model_validator(mode="after")
    def _coherent(self) -> PolicyDocument:
        minor_units(self.currency)
        if self.default_segment not in self.segments:
            raise ValueError(f"default_segment {self.default_segment!r} is not one of the segments")
        if set(self.grid) != set(GRID_CLASSES):
            raise ValueError(f"grid must have exactly the rows {', '.join(GRID_CLASSES)}")
        for risk_class, row in self.grid.items():
            if set(row) != set(self.segments):
                raise ValueError(f"grid.{risk_class} must have a cell for each segment: {', '.join(self.segments)}")
        if any(cell.limit.rule != "fixed" for cell in self.grid["unknown"].values()):
            raise ValueError("grid.unknown cells have no recommended limit to share: use rule 'fixed'")
        self._check_monotone()
        return self

    def _check_monotone(self) -> None:
        """A worse class may never be granted more than a better one in the same segment."""
        for better, worse in itertools.pairwise(RATED_CLASSES):
            for segment in self.segments:
                b, w = self.grid[better][segment], self.grid[worse][segment]
                where = f"grid.{worse}.{segment}"
                if _looser(w.cap, b.cap):
                    raise ValueError(f"{where}.cap is higher than grid.{better}.{segment}.cap")
                if _looser(w.review_above, b.review_above):
                    raise ValueError(f"{where}.review_above is higher than grid.{better}.{segment}.review_above")
                if _looser(w.limit.share, b.limit.share) or _looser(w.limit.amount, b.limit.amount):
                    raise ValueError(f"{where}.limit grants more than grid.{better}.{segment}.limit")
                if w.limit.rule != b.limit.rule:
                    raise ValueError(f"{where}.limit.rule differs from grid.{better}.{segment}.limit.rule")
            full = self.prepayment.full_prepayment_classes
            if better in full and worse not in full:
                raise ValueError(f"prepayment.full_prepayment_classes has {better} but not the worse class {worse}")

    def cell(self, risk_class: str, segment: str) -> Cell:
        return self.grid[risk_class][segment]


def _looser(worse: Decimal | None, better: Decimal | None) -> bool:
    """True when `worse` allows more than `better` (None means no bound)."""
    if worse is None:
        return better is not None
    return better is not None and worse > better


class PolicyDocumentError(ValueError):
    """A policy document that does not validate; `errors` name each field."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))
        self.errors = errors


def parse_policy(document: Any) -> PolicyDocument:
    try:
        return PolicyDocument.model_validate(document)
    except ValidationError as exc:
        raise PolicyDocumentError(
            [
                {"field": ".".join(str(part) for part in error["loc"]) or "document", "message": error["msg"]}
                for error in exc.errors(include_url=False)
            ]
        ) from None


def load_policy_text(text: str) -> PolicyDocument:
    """Parse a YAML (or JSON) policy document; syntax errors name the line."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        raise PolicyDocumentError([{"field": where, "message": str(getattr(exc, "problem", exc))}]) from None
    return parse_policy(document)


def load_policy_file(path: Path) -> PolicyDocument:
    return load_policy_text(path.read_text(encoding="utf-8"))
